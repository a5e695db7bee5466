package store

import (
	"context"
	"sync/atomic"
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

// FirstSeenFor is FirstSeen for an envelope from userID that will be
// authorised next: the user's roles are read in the same round trip (a
// pipeline of SET NX and SMEMBERS) and handed, through the returned
// context, to the first Roles(ctx, userID) that follows, which then needs
// no round trip of its own. The roles are as current as Roles would read
// them an instant later; any later Roles call reads Redis again.
func (s *Store) FirstSeenFor(ctx context.Context, key string, ttl time.Duration, userID string) (context.Context, bool, error) {
	ttl = max(ttl, MinDedupTTL)
	p := s.rdb.Pipeline()
	seen := p.SetNX(ctx, s.key("seen", key), 1, ttl)
	roles := p.SMembers(ctx, s.key("roles", userID))
	_, _ = p.Exec(ctx) // each command's error is read below
	first, err := seen.Result()
	if err != nil {
		return ctx, false, wrap("dedup "+key, err)
	}
	if members, rerr := roles.Result(); first && rerr == nil {
		ctx = context.WithValue(ctx, preloadKey{}, &preloaded{userID: userID, grants: grantsOf(members)})
	}
	return ctx, first, nil
}

// preloadKey is the context key of the roles FirstSeenFor read.
type preloadKey struct{}

// preloaded holds one user's grants for one Roles call.
type preloaded struct {
	userID string
	grants []Grant
	used   atomic.Bool
}

// takePreloaded returns the grants FirstSeenFor read for userID, once.
func takePreloaded(ctx context.Context, userID string) ([]Grant, bool) {
	p, _ := ctx.Value(preloadKey{}).(*preloaded)
	if p == nil || p.userID != userID || p.used.Swap(true) {
		return nil, false
	}
	return p.grants, true
}

// Forget drops key, so the next FirstSeen of it is first again.
func (s *Store) Forget(ctx context.Context, key string) error {
	return wrap("forget "+key, s.rdb.Del(ctx, s.key("seen", key)).Err())
}
