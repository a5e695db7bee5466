package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// KindKeptMessage posts a message once and updates it in place afterwards
// (a scan's progress, a weekly digest): KeptMessage. Its queue is per Key,
// so updates are delivered in order, after the post.
const KindKeptMessage = "slack.kept"

// keptMessageTTL is how long the channel and ts of a kept message are
// remembered: long after its last update, which is all that needs them.
const keptMessageTTL = 90 * 24 * time.Hour

// KeptMessage is one message as it should read now; Key names it (and its
// outbox queue), Blocks are Block Kit JSON.
type KeptMessage struct {
	Key     string          `json:"key"`
	Channel string          `json:"channel"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
}

// NewKeptMessage builds the outbox item that posts or updates message m.
func NewKeptMessage(m KeptMessage, now time.Time) (OutboxItem, error) {
	return NewOutboxItem(KindKeptMessage, m.Key, m, now)
}

func (s *Store) keptKey(key string) string { return s.key("kept", key) }

// KeptMessageTS returns where the kept message key was posted; ts is "" when
// it has not been yet.
func (s *Store) KeptMessageTS(ctx context.Context, key string) (channel, ts string, err error) {
	vals, err := s.rdb.HMGet(ctx, s.keptKey(key), "channel", "ts").Result()
	if err != nil {
		return "", "", wrap("read kept message "+key, err)
	}
	channel, _ = vals[0].(string)
	ts, _ = vals[1].(string)
	return channel, ts, nil
}

// SaveKeptMessageTS records where the kept message key was posted, unless a
// post was recorded already (the first one stands).
func (s *Store) SaveKeptMessageTS(ctx context.Context, key, channel, ts string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, s.keptKey(key), "ts", ts)
		p.HSetNX(ctx, s.keptKey(key), "channel", channel)
		p.Expire(ctx, s.keptKey(key), keptMessageTTL)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return wrap("save kept message "+key, err)
}
