package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// ChangeMessages is what the outbox needs to keep a change request's one
// message: find the request and save where its message was posted.
// *store.Store satisfies it.
type ChangeMessages interface {
	GetChange(ctx context.Context, id string) (store.ChangeRequest, error)
	UpdateChange(ctx context.Context, id string, now time.Time, fn func(*store.ChangeRequest) ([]store.OutboxItem, error)) (store.ChangeRequest, error)
}

// IssueCommenter keeps one status comment per key (a change request) on
// the GitHub issue at issue: the first call creates it, later ones edit it
// in place.
type IssueCommenter interface {
	StatusComment(ctx context.Context, issue, key, markdown string) error
}

// errNoMessageYet defers a thread line until the request's message exists.
var errNoMessageYet = fmt.Errorf("%w (change request)", errWaiting)

// deliverChange handles the change request kinds; ok is false for other kinds.
func (ob *Outbox) deliverChange(ctx context.Context, c store.Claimed) (ok bool, err error) {
	switch c.Item.Kind {
	case store.KindChangeMessage:
		return true, ob.deliverChangeMessage(ctx, c)
	case store.KindChangeThread:
		var p store.ChangeThread
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return true, fmt.Errorf("change thread payload: %w", err)
		}
		if ob.o.Changes == nil {
			return true, errors.New("change requests are not wired")
		}
		cr, err := ob.o.Changes.GetChange(ctx, p.ID)
		if err != nil {
			return true, changeReadError(err)
		}
		if cr.MessageTS == "" {
			return true, errNoMessageYet
		}
		_, _, err = ob.postOnce(ctx, c, cr.Channel, chat.Message{Text: p.Text, ThreadTS: cr.MessageTS})
		return true, err
	case store.KindGitHubComment:
		var p store.GitHubComment
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return true, fmt.Errorf("github comment payload: %w", err)
		}
		if ob.o.GitHub == nil {
			return true, &permanentError{errors.New("GitHub is not configured")}
		}
		body := p.Body
		if p.ChangeID != "" && ob.o.Changes != nil {
			cr, err := ob.o.Changes.GetChange(ctx, p.ChangeID)
			if err != nil {
				return true, changeReadError(err)
			}
			if cr.MessageTS == "" {
				return true, errNoMessageYet
			}
			body += "\n\n[Open in Slack](" + chat.MessageURL(cr.Channel, cr.MessageTS) + ")"
		}
		return true, ob.o.GitHub.StatusComment(ctx, p.Issue, p.ChangeID, body)
	case store.KindChangeNotice:
		var p store.ChangeNotice
		if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
			return true, fmt.Errorf("change notice payload: %w", err)
		}
		msg, err := messageOf(p.Text, p.Blocks)
		if err != nil {
			return true, err
		}
		_, _, err = ob.postOnce(ctx, c, p.Channel, msg)
		return true, err
	}
	return false, nil
}

// deliverChangeMessage posts the request's message the first time and
// updates it in place afterwards. The queue is per request and FIFO, so the
// last update delivered is the newest state.
func (ob *Outbox) deliverChangeMessage(ctx context.Context, c store.Claimed) error {
	var p store.ChangeMessage
	if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
		return fmt.Errorf("change message payload: %w", err)
	}
	if ob.o.Changes == nil {
		return errors.New("change requests are not wired")
	}
	msg, err := messageOf(p.Text, p.Blocks)
	if err != nil {
		return err
	}
	cr, err := ob.o.Changes.GetChange(ctx, p.ID)
	if err != nil {
		return changeReadError(err)
	}
	return ob.postOrUpdate(ctx, c, p.Channel, cr.Channel, cr.MessageTS, msg, func(ctx context.Context, channel, ts string) error {
		_, err := ob.o.Changes.UpdateChange(ctx, p.ID, ob.o.Now(), func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
			cr.Channel, cr.MessageTS = channel, ts
			return nil, nil
		})
		return err
	})
}

// changeReadError makes a Redis failure retryable and a missing request final.
func changeReadError(err error) error {
	if errors.Is(err, store.ErrChangeNotFound) {
		return &permanentError{err}
	}
	return &integrations.RetryableError{Op: "read change request", Err: err}
}
