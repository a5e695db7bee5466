package store

import (
	"context"
	"time"
)

// MinDedupTTL is the shortest time an envelope key is remembered. Slack
// redelivers unacknowledged events for a few minutes; ten covers them.
const MinDedupTTL = 10 * time.Minute

// FirstSeen records key and reports whether this is its first sighting
// within ttl (at least MinDedupTTL). One SET NX PX round trip.
func (s *Store) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ttl = max(ttl, MinDedupTTL)
	ok, err := s.rdb.SetNX(ctx, s.key("seen", key), 1, ttl).Result()
	if err != nil {
		return false, wrap("dedup "+key, err)
	}
	return ok, nil
}

// Forget drops key, so the next FirstSeen of it is first again.
func (s *Store) Forget(ctx context.Context, key string) error {
	return wrap("forget "+key, s.rdb.Del(ctx, s.key("seen", key)).Err())
}
