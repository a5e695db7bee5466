package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ViaAck is the Via of a reply that came in an ack's payload.
const ViaAck = "ack"

// A slash command's reply reaches the person in one of two ways, and Slack
// shows both alike (ephemeral or in the channel, per response_type): in the
// payload of the envelope's ack, within the ack deadline, or posted to its
// response_url. The fake records both as a "response_url" Call on the
// envelope's response_url path, the first with Via ViaAck, so a test reads
// what the person saw whichever way it travelled.

// noteEnvelope records what an ack of this delivery may carry: its type,
// accepts_response_payload and the path of its response_url. s.mu held.
func (s *Server) noteEnvelope(st *envState, envType string, accepts bool, payload json.RawMessage) {
	st.typ, st.accepts = envType, accepts
	var p struct {
		ResponseURL string `json:"response_url"`
	}
	if json.Unmarshal(payload, &p) == nil && p.ResponseURL != "" {
		if u, err := url.Parse(p.ResponseURL); err == nil {
			st.responsePath = u.Path
		}
	}
}

// showAckReply shows a message carried by an accepted ack the way Slack
// does: only a slash command's envelope (accepts_response_payload true)
// takes one, and only within the ack deadline. Any other message in an ack
// Slack ignores without a word to the app, so the person sees nothing (and a
// test waiting for the reply times out). View submission responses and block
// suggestion options are not messages.
func (s *Server) showAckReply(id string, payload json.RawMessage, at time.Time) {
	if len(payload) == 0 || string(payload) == "null" {
		return
	}
	var p map[string]any
	if json.Unmarshal(payload, &p) != nil || p["response_action"] != nil || p["options"] != nil || p["option_groups"] != nil {
		return
	}
	s.mu.Lock()
	st := s.env(id)
	late := s.ackDeadline > 0 && !st.sentAt.IsZero() && at.Sub(st.sentAt) > s.ackDeadline
	if st.typ != "slash_commands" || !st.accepts || late {
		s.mu.Unlock()
		return
	}
	c := Call{Method: "response_url", Path: st.responsePath, Form: url.Values{}, JSON: p, Header: http.Header{}, At: at, Via: ViaAck}
	s.mu.Unlock()
	s.recordCall(c)
}

// WaitResponse waits for the first reply to envelopeID's response_url, in
// its ack or posted to the URL (a "response_url" Call on its path), and
// returns it; ErrTimeout if none comes within timeout.
func (s *Server) WaitResponse(envelopeID string, timeout time.Duration) (Call, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var (
			c     Call
			found bool
		)
		if st := s.envs[envelopeID]; st != nil && st.responsePath != "" {
			if idx := s.byHook[st.responsePath]; len(idx) > 0 {
				c, found = s.calls[idx[0]], true
			}
		}
		ch := s.callCh
		s.callUsed = true
		s.mu.Unlock()
		if found {
			return c, nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return Call{}, fmt.Errorf("%w: no reply to envelope %s within %v", ErrTimeout, envelopeID, timeout)
		}
	}
}
