package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// OutboxStore is the durable queue the worker drains.
type OutboxStore interface {
	AlertStore
	ClaimLane(ctx context.Context, lane store.OutboxLane, now time.Time, lease time.Duration, n int) ([]store.Claimed, error)
	AckOutbox(ctx context.Context, c store.Claimed, now time.Time) error
	RetryOutbox(ctx context.Context, c store.Claimed, at time.Time) error
	DeferOutbox(ctx context.Context, c store.Claimed, at time.Time) error
	DeadLetter(ctx context.Context, c store.Claimed, now time.Time, reason string) error
}

// Pager sends incident events (integrations/pagerduty satisfies it).
type Pager interface {
	Send(ctx context.Context, a integrations.Alert) error
}

// OutboxOptions tune the worker; zero values get defaults.
type OutboxOptions struct {
	Logger      *slog.Logger
	Now         func() time.Time
	Lease       time.Duration // how long a claimed item is hidden from other workers; 60 s (> delivery timeout + settling)
	Workers     int           // deliveries in flight per lane (Slack, PagerDuty, GitHub, the rest); 16
	Poll        time.Duration // idle poll interval (other replicas' items); 250 ms
	MaxAge      time.Duration // an item still failing this long after it was queued is dead-lettered; 24 h
	BaseBackoff time.Duration // first retry delay, doubling up to 5 min; 1 s
	// RoutingKey resolves a PagerRef to the PagerDuty routing key.
	RoutingKey func(ref string) (string, bool)
	// Changes keeps change requests' messages (nil: change items fail).
	Changes ChangeMessages
	// Checklists keeps launch checklists' messages (nil: their items fail).
	Checklists ChecklistMessages
	// GitHub comments on change requests' issues (nil: comments are dropped).
	GitHub IssueCommenter
	// Kept remembers where kept messages (scan progress, digests) were
	// posted (nil: they are dead-lettered).
	Kept KeptMessages
}

// Outbox delivers queued Slack messages and PagerDuty events, retrying
// 429/5xx/network failures with backoff and jitter (honouring Retry-After),
// until delivered. Several replicas may run it: leases keep an item with one
// worker at a time, and per-subject FIFO queues keep order. Each destination
// has its own lane of workers, and a worker takes the next item as soon as
// it is free, so Slack answering 429 for minutes never delays a page.
type Outbox struct {
	st     OutboxStore
	poster chat.Poster
	pager  Pager
	o      OutboxOptions
	lanes  []*outboxLane
}

// NewOutbox builds the worker. pager may be nil (no PagerDuty configured).
func NewOutbox(st OutboxStore, poster chat.Poster, pager Pager, o OutboxOptions) *Outbox {
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Lease, o.Workers = cmp.Or(o.Lease, time.Minute), cmp.Or(o.Workers, 16)
	o.Poll, o.MaxAge = cmp.Or(o.Poll, 250*time.Millisecond), cmp.Or(o.MaxAge, 24*time.Hour)
	o.BaseBackoff = cmp.Or(o.BaseBackoff, time.Second)
	ob := &Outbox{st: st, poster: poster, pager: pager, o: o}
	for _, l := range destinations() {
		ob.lanes = append(ob.lanes, &outboxLane{OutboxLane: l, wake: make(chan struct{}, 1)})
	}
	return ob
}

// Name implements the job naming used in logs and metrics.
func (ob *Outbox) Name() string { return "outbox" }

// process delivers one item and records the outcome; a panic dead-letters
// the item instead of crashing every replica that claims it in turn.
func (ob *Outbox) process(ctx context.Context, c store.Claimed) {
	var err error
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("delivery panicked: %v", v)
			ob.o.Logger.Error("outbox delivery panicked", "queue", c.Queue, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ob.settle(ctx, c, &permanentError{err})
		}
	}()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryTimeout)
	err = ob.deliver(dctx, c)
	cancel()
	ob.settle(ctx, c, err)
}

// permanentError is never retried.
type permanentError struct{ error }

// errWaiting defers an item without counting a failure.
var errWaiting = errors.New("waiting for the alert message to be posted")

// settle records the outcome on a fresh context: the delivery's own may be
// spent, and an unrecorded outcome means a second delivery.
func (ob *Outbox) settle(parent context.Context, c store.Claimed, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
	defer cancel()
	now := ob.o.Now()
	age := now.Sub(c.Item.Created)
	log := ob.o.Logger.With("queue", c.Queue, "item_id", c.Item.ID, "attempts", c.Attempts)
	var serr error
	switch retryable, after := integrations.IsRetryable(err); {
	case err == nil:
		serr = ob.st.AckOutbox(ctx, c, now)
	case errors.Is(err, errWaiting) && age < ob.o.MaxAge:
		serr = ob.st.DeferOutbox(ctx, c, now.Add(time.Second))
	case retryable && age < ob.o.MaxAge:
		at := now.Add(backoff(ob.o.BaseBackoff, c.Attempts, after))
		log.Warn("delivery failed; will retry", "err", err, "retry_at", at)
		serr = ob.st.RetryOutbox(ctx, c, at)
	default:
		log.Error("delivery failed for good; dead-lettered", "err", err)
		serr = ob.st.DeadLetter(ctx, c, now, err.Error())
	}
	if serr != nil {
		// The lease runs out and the item is delivered again: at least once.
		log.Warn("could not record the delivery outcome", "err", serr)
	}
}

// backoff is exponential from base to 5 min with jitter, or what the vendor
// asked for (Retry-After) plus a little jitter so replicas do not stampede.
func backoff(base time.Duration, attempts int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + rand.N(retryAfter/10+time.Millisecond)
	}
	d := min(base<<min(attempts, 9), 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}

func (ob *Outbox) deliver(ctx context.Context, c store.Claimed) error {
	if ok, err := ob.deliverChange(ctx, c); ok {
		return err
	}
	if ok, err := ob.deliverChecklist(ctx, c); ok {
		return err
	}
	switch c.Item.Kind {
	case kindSlackAlert:
		return ob.deliverAlert(ctx, c)
	case store.KindKeptMessage:
		return ob.deliverKept(ctx, c)
	case kindSlackThread:
		var p threadPayload
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return fmt.Errorf("thread payload: %w", err)
		}
		a, _, err := ob.st.GetAlert(ctx, c.Item.Subject)
		if err != nil {
			return &integrations.RetryableError{Op: "read alert", Err: err}
		}
		channel, ts, current := firingMessage(a, p.FiredAt)
		switch {
		case ts == "" && current:
			return errWaiting
		case ts == "":
			return nil // an earlier firing that never got a message: nothing to thread under
		}
		_, _, err = ob.postOnce(ctx, c, channel, chat.Message{Text: p.Text, ThreadTS: ts})
		return err
	case store.KindSlackEphemeral:
		// Seen by one person only and never found again: at least once.
		var p store.EphemeralPayload
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return fmt.Errorf("ephemeral payload: %w", err)
		}
		return ob.poster.Ephemeral(ctx, p.Channel, p.User, chat.Message{Text: p.Text})
	case kindSlackPost:
		var p postPayload
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return fmt.Errorf("post payload: %w", err)
		}
		_, _, err := ob.postOnce(ctx, c, p.Channel, chat.Message{Text: p.Text})
		return err
	case kindPager:
		var p pagerPayload
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return fmt.Errorf("pagerduty payload: %w", err)
		}
		if ob.pager == nil || ob.o.RoutingKey == nil {
			return errors.New("PagerDuty is not configured")
		}
		key, ok := ob.o.RoutingKey(p.Ref)
		if !ok {
			return fmt.Errorf("no PagerDuty routing key for %q", p.Ref)
		}
		p.Event.RoutingKey = key
		ob.linkBack(ctx, c.Item.Subject, &p.Event)
		return ob.pager.Send(ctx, p.Event)
	}
	return fmt.Errorf("unknown outbox kind %q", c.Item.Kind)
}

// firingMessage finds the message of the firing at firedAt: the current
// one, or the previous one (kept when the alert fired again). current says
// whether it is the current firing; ts is "" when it has no message.
func firingMessage(a store.Alert, firedAt time.Time) (channel, ts string, current bool) {
	switch {
	case firedAt.IsZero() || firedAt.Equal(a.FiredAt):
		return a.Channel, a.MessageTS, true
	case firedAt.Equal(a.PrevFiredAt):
		return a.PrevChannel, a.PrevMessageTS, false
	}
	return "", "", false
}

// deliverAlert posts the alert's message the first time and updates it in
// place afterwards, with the message as it was at the transition. A
// delivery for an earlier firing updates that firing's message, or is
// dropped when that firing never got one.
func (ob *Outbox) deliverAlert(ctx context.Context, c store.Claimed) error {
	var p alertPayload
	if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
		return fmt.Errorf("alert payload: %w", err)
	}
	a, _, err := ob.st.GetAlert(ctx, c.Item.Subject)
	if err != nil {
		return &integrations.RetryableError{Op: "read alert", Err: err}
	}
	msg := chat.Message{Text: p.Text, Blocks: p.Blocks.BlockSet}
	if msg.Text == "" {
		msg = alertMessage(a, p, ob.o.Now()) // items queued before snapshots existed
	}
	channel, ts, current := firingMessage(a, p.FiredAt)
	switch {
	case ts != "":
		return ob.poster.Update(ctx, channel, ts, msg)
	case !current:
		return nil
	}
	channel, ts, err = ob.postOnce(ctx, c, cmp.Or(channel, p.Channel), msg)
	if err != nil {
		return err
	}
	// Record the ts on a fresh context (the delivery's may be nearly spent),
	// a few times: unrecorded, the recovery would post a second message.
	for attempt := range 3 {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, err = ob.st.UpdateAlert(sctx, a.Key, ob.o.Now(), func(cur *store.Alert) ([]store.OutboxItem, error) {
			if cur.MessageTS == "" && cur.FiredAt.Equal(a.FiredAt) {
				cur.Channel, cur.MessageTS = channel, ts
			}
			return nil, nil
		})
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	// Posted but not recorded: the retry finds the message by its delivery
	// ID (postOnce) and records its ts then, rather than posting again.
	ob.o.Logger.Warn("alert posted but its message ts not saved yet; will retry", "alert", a.Key, "ts", ts, "err", err)
	return &integrations.RetryableError{Op: "save alert message ts", Err: err}
}
