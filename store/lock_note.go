package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim is Lock with a note saying who holds it and for what: when another
// holder has the lock, ok is false and holder is their note ("" if it
// expired meanwhile), so a second request can say who runs what.
func (s *Store) Claim(ctx context.Context, name string, ttl time.Duration, note string) (release func(context.Context) error, ok bool, holder string, err error) {
	release, ok, err = s.Lock(ctx, name, ttl)
	noteKey := s.key("locknote", name)
	if err != nil {
		return release, false, "", err
	}
	if !ok {
		holder, err = s.rdb.Get(ctx, noteKey).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return release, false, holder, wrap("lock note "+name, err)
	}
	if err := s.rdb.Set(ctx, noteKey, note, ttl).Err(); err != nil {
		_ = release(ctx)
		return func(context.Context) error { return nil }, false, "", wrap("lock note "+name, err)
	}
	unlock := release
	release = func(ctx context.Context) error {
		s.rdb.Del(ctx, noteKey)
		return unlock(ctx)
	}
	return release, true, "", nil
}
