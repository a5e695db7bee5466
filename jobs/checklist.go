package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// ChecklistMessages is what the outbox needs to keep a launch checklist's
// one message (*store.Store).
type ChecklistMessages interface {
	GetChecklist(ctx context.Context, id string) (store.Checklist, error)
	SetChecklistMessage(ctx context.Context, id, channel, ts string, now time.Time) error
}

var errNoChecklistMessage = fmt.Errorf("%w (launch checklist)", errWaiting)

// deliverChecklist handles the checklist kinds; ok is false for others.
func (ob *Outbox) deliverChecklist(ctx context.Context, c store.Claimed) (ok bool, err error) {
	switch c.Item.Kind {
	case store.KindChecklistMessage, store.KindChecklistThread:
	default:
		return false, nil
	}
	if ob.o.Checklists == nil {
		return true, errors.New("launch checklists are not wired")
	}
	var p store.ChangeMessage // a thread line has the same id and text
	if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
		return true, fmt.Errorf("checklist payload: %w", err)
	}
	cl, err := ob.o.Checklists.GetChecklist(ctx, p.ID)
	if errors.Is(err, store.ErrChecklistNotFound) {
		return true, &permanentError{err}
	}
	if err != nil {
		return true, &integrations.RetryableError{Op: "read checklist", Err: err}
	}
	if c.Item.Kind == store.KindChecklistThread {
		if cl.MessageTS == "" {
			return true, errNoChecklistMessage
		}
		_, _, err = ob.postOnce(ctx, c, cl.Channel, chat.Message{Text: p.Text, ThreadTS: cl.MessageTS})
		return true, err
	}
	msg := chat.Message{Text: p.Text}
	if len(p.Blocks) > 0 {
		var blocks slack.Blocks
		if err := json.Unmarshal(p.Blocks, &blocks); err != nil {
			return true, fmt.Errorf("checklist blocks: %w", err)
		}
		msg.Blocks = blocks.BlockSet
	}
	if cl.MessageTS != "" {
		return true, ob.poster.Update(ctx, cl.Channel, cl.MessageTS, msg)
	}
	channel, ts, err := ob.postOnce(ctx, c, p.Channel, msg)
	if err != nil {
		return true, err
	}
	if err := ob.o.Checklists.SetChecklistMessage(ctx, p.ID, channel, ts, ob.o.Now()); err != nil && !errors.Is(err, store.ErrNotReplicated) {
		// Posted but not saved: the retry finds the post by its delivery ID.
		return true, &integrations.RetryableError{Op: "save checklist message ts of " + p.ID, Err: err}
	}
	return true, nil
}

// ChecklistStore is what the waiver-expiry job changes (*store.Store).
type ChecklistStore interface {
	OpenChecklists(ctx context.Context) ([]store.Checklist, error)
	UpdateChecklist(ctx context.Context, id string, now time.Time, fn func(*store.Checklist) ([]store.OutboxItem, error)) (store.Checklist, error)
}

// ChecklistRender renders a checklist's message and thread lines for the
// outbox (commands' *Router.ChecklistDeliveries).
type ChecklistRender func(cl store.Checklist, events []store.ChecklistEvent, now time.Time) ([]store.OutboxItem, error)

// ChecklistWaivers ends expired waivers: each item fails again, its
// checklist's message shows it and its thread says so.
type ChecklistWaivers struct {
	St     ChecklistStore
	Render ChecklistRender
	Now    func() time.Time
	Nudge  func()
	Logger *slog.Logger
}

// Name is the scheduler's name of the job.
func (w *ChecklistWaivers) Name() string { return "checklist-waivers" }

// Run expires the waivers due now.
func (w *ChecklistWaivers) Run(ctx context.Context) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	open, err := w.St.OpenChecklists(ctx)
	if err != nil {
		return fmt.Errorf("checklist waivers: %w", err)
	}
	var errs []error
	for _, cl := range open {
		if len(cl.ExpireWaivers(now)) == 0 {
			continue
		}
		_, err := w.St.UpdateChecklist(ctx, cl.ID, now, func(c *store.Checklist) ([]store.OutboxItem, error) {
			if len(c.ExpireWaivers(now)) == 0 {
				return nil, nil
			}
			return w.Render(*c, c.Events(), now)
		})
		if err != nil && !errors.Is(err, store.ErrNotReplicated) {
			errs = append(errs, fmt.Errorf("checklist %s: %w", cl.ID, err))
		}
	}
	if w.Nudge != nil {
		w.Nudge()
	}
	return errors.Join(errs...)
}
