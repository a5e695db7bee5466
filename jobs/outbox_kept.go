package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// KeptMessages remembers where kept messages were posted (*store.Store
// satisfies it).
type KeptMessages interface {
	KeptMessageTS(ctx context.Context, key string) (channel, ts string, err error)
	SaveKeptMessageTS(ctx context.Context, key, channel, ts string) error
}

// deliverKept posts a kept message the first time and updates it in place
// afterwards. Its queue is per key and FIFO, so the last update delivered is
// the newest.
func (ob *Outbox) deliverKept(ctx context.Context, c store.Claimed) error {
	var p store.KeptMessage
	if err := json.Unmarshal(c.Item.Payload, &p); err != nil {
		return fmt.Errorf("kept message payload: %w", err)
	}
	if ob.o.Kept == nil {
		return &permanentError{errors.New("kept messages are not wired")}
	}
	msg, err := messageOf(p.Text, p.Blocks)
	if err != nil {
		return err
	}
	channel, ts, err := ob.o.Kept.KeptMessageTS(ctx, p.Key)
	if err != nil {
		return &integrations.RetryableError{Op: "read kept message " + p.Key, Err: err}
	}
	return ob.postOrUpdate(ctx, c, p.Channel, channel, ts, msg, func(ctx context.Context, channel, ts string) error {
		return ob.o.Kept.SaveKeptMessageTS(ctx, p.Key, channel, ts)
	})
}

// messageOf builds a message from text and Block Kit JSON.
func messageOf(text string, blocks json.RawMessage) (chat.Message, error) {
	msg := chat.Message{Text: text}
	if len(blocks) > 0 {
		var bs slack.Blocks
		if err := json.Unmarshal(blocks, &bs); err != nil {
			return msg, fmt.Errorf("message blocks: %w", err)
		}
		msg.Blocks = bs.BlockSet
	}
	return msg, nil
}

// postOrUpdate is the one message of a record: updated in place once it
// has a ts, else posted to channel (once: postOnce) and its ts saved. A ts
// that cannot be saved is retried; the retry finds the post by its
// delivery ID rather than posting again.
func (ob *Outbox) postOrUpdate(ctx context.Context, c store.Claimed, channel, postedIn, ts string, msg chat.Message,
	save func(ctx context.Context, channel, ts string) error) error {
	if ts != "" {
		return ob.poster.Update(ctx, postedIn, ts, msg)
	}
	postedIn, ts, err := ob.postOnce(ctx, c, channel, msg)
	if err != nil {
		return err
	}
	err = save(ctx, postedIn, ts)
	if errors.Is(err, store.ErrNotReplicated) {
		// Saved on the primary; only a failover now would lose the ts
		// (the next update would then post a new message). Not worth a retry.
		ob.o.Logger.Warn("message ts not confirmed by a replica", "queue", c.Queue, "err", err)
		err = nil
	}
	if err != nil {
		ob.o.Logger.Warn("message posted but its ts not saved yet; will retry", "queue", c.Queue, "ts", ts, "err", err)
		return &integrations.RetryableError{Op: "save message ts of " + c.Queue, Err: err}
	}
	return nil
}
