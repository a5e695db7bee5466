package bot

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// ackTimeout bounds one ack: once the socket loop has exited (shutdown) the
// response queue is no longer drained and an unbounded ack would block forever.
const ackTimeout = 2 * time.Second

// envAck acks one envelope at most once, whatever path (result, budget,
// panic, duplicate) gets there first. Made by newEnvAck, which counts it
// in the bot's unacked until it is acked.
type envAck struct {
	b    *Bot
	req  *socketmode.Request
	once sync.Once
}

func newEnvAck(b *Bot, req *socketmode.Request) *envAck {
	b.unacked.Add(1)
	return &envAck{b: b, req: req}
}

// send acks the envelope with payload (nil for a plain ack) unless it was
// already acked. When the payload cannot be sent (over Slack's 20 KB limit,
// say) a plain ack follows so Slack does not re-send, and the payload's error
// is returned so the caller can tell the user.
func (a *envAck) send(payload any) error {
	var payloadErr error
	a.once.Do(func() { payloadErr = a.ack(payload) })
	return payloadErr
}

// sendFirst acks the envelope with payload unless it was already acked, and
// reports whether the payload went out (false: acked before, or the payload
// refused and a plain ack sent in its place).
func (a *envAck) sendFirst(payload any) bool {
	sent := false
	a.once.Do(func() { sent = a.ack(payload) == nil })
	return sent
}

// ack is the one ack of send and sendFirst: with payload, or plain when
// payload is nil or cannot be sent (its error is returned).
func (a *envAck) ack(payload any) error {
	defer a.b.unacked.Done()
	var err error
	if payload != nil {
		if err = a.b.ackCtx(a.req.EnvelopeID, payload); err == nil {
			return nil
		}
		a.b.log.Warn("ack with payload failed; acking without", "envelope_id", a.req.EnvelopeID, "err", err)
	}
	if perr := a.b.ackCtx(a.req.EnvelopeID, nil); perr != nil {
		a.b.log.Warn("ack failed", "envelope_id", a.req.EnvelopeID, "err", perr)
	}
	return err
}

// ackFlushGrace is how long the socket stays open on shutdown after the
// last ack was queued: slack-go only queues an ack, and a socket closed
// before its sender wrote the queue drops it (local writes take microseconds).
const ackFlushGrace = 300 * time.Millisecond

// ackCtx queues one ack, giving up after ackTimeout.
func (b *Bot) ackCtx(envelopeID string, payload any) error {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	err := b.sm.AckCtx(ctx, envelopeID, payload)
	if err == nil {
		b.lastAck.Store(time.Now().UnixNano())
	}
	return err
}

// ackDrainTimeout bounds waitAcked: every path acks within Slack's 3 s
// (the budgets), so this is only a guard against a path that never does.
const ackDrainTimeout = 5 * time.Second

// waitAcked waits, on shutdown, until every envelope taken has been acked,
// or timeout.
func (b *Bot) waitAcked(timeout time.Duration) {
	done := make(chan struct{})
	go func() { b.unacked.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		b.log.Warn("stopping with envelopes not acked", "waited", timeout)
	}
}

// flushAcks waits, on shutdown, until the acks queued last have had
// ackFlushGrace to be written: slack-go offers no flush of its queue.
func (b *Bot) flushAcks() {
	if d := time.Until(time.Unix(0, b.lastAck.Load()).Add(ackFlushGrace)); d > 0 {
		time.Sleep(d)
	}
}
