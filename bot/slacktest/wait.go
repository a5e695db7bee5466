package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrLateAck is wrapped by the error WaitAck returns when the ack arrived,
// but later than the ack deadline (3 s by default) after the envelope was
// written. The Ack is returned alongside.
var ErrLateAck = errors.New("slacktest: ack arrived after the deadline")

// ErrTimeout is wrapped by the errors of the Wait* methods on timeout.
var ErrTimeout = errors.New("slacktest: timed out")

// The broadcast helpers below close the current channel (waking all waiters)
// and replace it, but only if a waiter took it since the last change, so
// recording stays cheap when nobody waits. All require s.mu.

func (s *Server) notifyAcks() {
	if s.ackUsed {
		close(s.ackCh)
		s.ackCh, s.ackUsed = make(chan struct{}), false
	}
}

func (s *Server) notifyCalls() {
	if s.callUsed {
		close(s.callCh)
		s.callCh, s.callUsed = make(chan struct{}), false
	}
}

func (s *Server) notifyConn() {
	if s.connUsed {
		close(s.connCh)
		s.connCh, s.connUsed = make(chan struct{}), false
	}
}

// env returns the delivery state of an envelope ID, creating it. s.mu held.
func (s *Server) env(id string) *envState {
	st := s.envs[id]
	if st == nil {
		st = &envState{}
		s.envs[id] = st
	}
	return st
}

// recordAck stores one ack frame read from the socket at now.
func (s *Server) recordAck(id string, payload json.RawMessage, now time.Time) {
	if string(payload) == "null" {
		payload = nil
	}
	s.mu.Lock()
	st := s.env(id)
	a := Ack{EnvelopeID: id, Payload: payload, At: now, SentAt: st.sentAt}
	st.acks = append(st.acks, ackRec{gen: st.gen, ack: a})
	s.acks = append(s.acks, a)
	s.notifyAcks()
	s.mu.Unlock()
}

// WaitAck waits until the client acks the latest delivery of envelopeID
// (acks of other IDs, and acks of earlier deliveries of the same ID, are
// skipped) and returns that ack. It fails with an ErrTimeout error if none
// arrives within timeout, and returns the ack together with an ErrLateAck
// error if it arrived more than the ack deadline after the envelope was
// written.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (Ack, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var (
			found, dropped bool
			ack            Ack
		)
		if st := s.envs[envelopeID]; st != nil {
			dropped = st.gen > 0 && st.droppedGen == st.gen
			for _, r := range st.acks {
				if r.gen == st.gen {
					found, ack = true, r.ack
					break
				}
			}
		}
		deadline := s.ackDeadline
		ch := s.ackCh
		s.ackUsed = true
		s.mu.Unlock()
		if found {
			if late := ack.At.Sub(ack.SentAt); deadline > 0 && !ack.SentAt.IsZero() && late > deadline {
				return ack, fmt.Errorf("%w: envelope %s acked %v after it was sent (deadline %v)", ErrLateAck, envelopeID, late, deadline)
			}
			return ack, nil
		}
		if dropped {
			return Ack{}, fmt.Errorf("%w: the ack of envelope %s broke Slack's limits (DroppedAcks says why)", ErrAckDropped, envelopeID)
		}
		select {
		case <-ch:
		case <-timer.C:
			return Ack{}, fmt.Errorf("%w: no ack for envelope %s within %v", ErrTimeout, envelopeID, timeout)
		}
	}
}

// Acks returns every ack received so far, in arrival order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// recordCall stores one HTTP request.
func (s *Server) recordCall(c Call) {
	s.mu.Lock()
	s.byMethod[c.Method] = append(s.byMethod[c.Method], len(s.calls))
	if c.Method == "response_url" {
		s.byHook[c.Path] = append(s.byHook[c.Path], len(s.calls))
	}
	s.calls = append(s.calls, c)
	s.notifyCalls()
	s.mu.Unlock()
}

// callsFrom returns the calls of method ("" = all) from position i on, plus
// the new position. s.mu held.
func (s *Server) callsFrom(method string, i int) ([]Call, int) {
	if method == "" {
		if i >= len(s.calls) {
			return nil, i
		}
		return append([]Call(nil), s.calls[i:]...), len(s.calls)
	}
	idx := s.byMethod[method]
	if i >= len(idx) {
		return nil, i
	}
	out := make([]Call, 0, len(idx)-i)
	for _, j := range idx[i:] {
		out = append(out, s.calls[j])
	}
	return out, len(idx)
}

// Calls returns the recorded calls of method ("" = all), in arrival order.
// Calls answered by FailNext or rejected for a bad token are included.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, _ := s.callsFrom(method, 0)
	return out
}

// WaitCall returns the first recorded call of method ("" = any) for which
// match (nil = any) returns true, waiting up to timeout for it if no such
// call has been recorded yet. match runs without the fake's lock held.
func (s *Server) WaitCall(method string, match func(Call) bool, timeout time.Duration) (Call, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	pos := 0
	for {
		s.mu.Lock()
		batch, np := s.callsFrom(method, pos)
		ch := s.callCh
		s.callUsed = true
		s.mu.Unlock()
		pos = np
		for _, c := range batch {
			if match == nil || match(c) {
				return c, nil
			}
		}
		select {
		case <-ch:
		case <-timer.C:
			return Call{}, fmt.Errorf("%w: no matching %q call within %v", ErrTimeout, method, timeout)
		}
	}
}

// Connections returns the number of successful websocket connections so far
// (each reconnect increments it).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// WaitConnected waits until a socket is open and its hello frame was sent.
func (s *Server) WaitConnected(timeout time.Duration) error {
	return s.waitConn(timeout, func() bool { return s.cur != nil && s.cur.ready },
		"no connected socket")
}

// WaitConnections waits until Connections() >= n and that socket is ready
// (hello sent), e.g. WaitConnections(2, time.Second) after Disconnect.
func (s *Server) WaitConnections(n int, timeout time.Duration) error {
	return s.waitConn(timeout, func() bool { return s.connections >= n && s.cur != nil && s.cur.ready },
		fmt.Sprintf("fewer than %d connections", n))
}

// WaitDisconnected waits until no socket is open (the app closed it).
func (s *Server) WaitDisconnected(timeout time.Duration) error {
	return s.waitConn(timeout, func() bool { return s.cur == nil }, "a socket still open")
}

func (s *Server) waitConn(timeout time.Duration, ok func() bool, what string) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		done := ok()
		ch := s.connCh
		s.connUsed = true
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return fmt.Errorf("%w: %s after %v", ErrTimeout, what, timeout)
		}
	}
}
