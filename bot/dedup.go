package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// Deduper remembers envelopes already handled (Redis SET NX in production).
type Deduper interface {
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// UserDeduper is a Deduper that reads, in the same round trip, what the
// router will need about the envelope's user (their roles) and hands it on
// through the returned context (*store.Store does, as FirstSeenFor).
type UserDeduper interface {
	FirstSeenFor(ctx context.Context, key string, ttl time.Duration, userID string) (context.Context, bool, error)
}

// firstSeen drops redeliveries. When the store is down the envelope is
// handled anyway: the handler then tells the user the store is unavailable.
func (b *Bot) firstSeen(ctx context.Context, key string) bool {
	first, err := b.dedup.FirstSeen(ctx, key, b.cfg.DedupTTL)
	return b.seenResult(key, first, err)
}

// firstSeenFor is firstSeen for an envelope from userID, through
// UserDeduper when the Deduper is one (one round trip for the dedup and
// the user's roles); the context returned carries what it read.
func (b *Bot) firstSeenFor(ctx context.Context, key, userID string) (context.Context, bool) {
	ud, ok := b.dedup.(UserDeduper)
	if !ok {
		return ctx, b.firstSeen(ctx, key)
	}
	ctx, first, err := ud.FirstSeenFor(ctx, key, b.cfg.DedupTTL, userID)
	return ctx, b.seenResult(key, first, err)
}

// seenResult logs and counts a dedup verdict and says whether to handle.
func (b *Bot) seenResult(key string, first bool, err error) bool {
	if err != nil {
		b.log.Warn("dedup check failed; handling envelope", "key", key, "err", err)
		return true
	}
	if !first {
		b.cfg.Metrics.Duplicate()
		b.log.Info("duplicate envelope dropped", "key", key)
	}
	return first
}

// dedupKey is the event_id for Events API envelopes (Slack may redeliver an
// event under a new envelope) and the envelope_id otherwise.
func dedupKey(req *socketmode.Request) string {
	if req.Type == socketmode.RequestTypeEventsAPI {
		var p struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(req.Payload, &p) == nil && p.EventID != "" {
			return "event:" + p.EventID
		}
	}
	return "envelope:" + req.EnvelopeID
}
