package store

import (
	"context"
	"errors"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
)

// Claim runs work once if it can take the lock name, as Hold does (renewed
// every ttl/3 while work runs, work's ctx cancelled as soon as the lock is
// lost, released when work returns; a holder that dies frees it within
// ttl), with a note saying who holds it and for what: when another holder
// has the lock, held is false, work is not run and holder is their note
// ("" if unknown), so a second request can say who runs what.
//
// The ttl bounds how long a dead holder blocks others, not how long work
// may run: a load test of many minutes holds a lock of seconds.
func (s *Store) Claim(ctx context.Context, name string, ttl time.Duration, note string, work func(ctx context.Context) error) (held bool, holder string, err error) {
	noteKey := s.key("locknote", name)
	l, err := redislock.New(s.rdb).Obtain(ctx, s.key("lock", name), ttl, nil)
	switch {
	case errors.Is(err, redislock.ErrNotObtained):
		holder, err = s.rdb.Get(ctx, noteKey).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return false, holder, wrap("lock note "+name, err)
	case err != nil:
		return false, "", wrap("lock "+name, err)
	}
	// The note outlives a dead holder's lock, harmlessly: it is read only
	// while someone holds the lock, and each holder writes its own first.
	// A day bounds what a crash leaves behind.
	err = s.rdb.Set(ctx, noteKey, note, 24*time.Hour).Err()
	if err == nil {
		err = s.leadWith(ctx, l, ttl, work)
	} else {
		err = wrap("lock note "+name, err)
	}
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	// The note goes only while the lock is still ours, before it is let go:
	// a lock lost meanwhile may have a new holder whose own note must stay.
	if left, terr := l.TTL(relCtx); terr == nil && left > 0 {
		s.rdb.Del(relCtx, noteKey)
	}
	_ = l.Release(relCtx)
	return true, "", err
}
