package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
)

// ErrLockNotHeld is returned by a lock's release func when the lock had
// already expired (its ttl passed) or been released, so another holder may
// have run in the meantime.
var ErrLockNotHeld = errors.New("store: lock not held")

// Lock takes the mutual-exclusion lock name for ttl, shared by every replica
// on this Redis (bsm/redislock: SET NX PX with a random token, released by a
// compare-and-delete script, single instance, no Redlock).
//
// ok is false with a nil error when another holder has the lock; Lock never
// waits for it. On success release must be called (with a fresh ctx) when
// the work is done; it returns ErrLockNotHeld if the ttl ran out first.
// release is never nil: when ok is false it is a no-op. Redis failures are
// wrapped and marked with ErrUnavailable where Redis did not answer.
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (release func(context.Context) error, ok bool, err error) {
	noop := func(context.Context) error { return nil }
	// A redislock.Client is only the Redis client plus a scratch buffer for
	// tokens: constructing one per call is cheap and keeps Store unchanged.
	l, err := redislock.New(s.rdb).Obtain(ctx, s.key("lock", name), ttl, nil)
	switch {
	case errors.Is(err, redislock.ErrNotObtained):
		return noop, false, nil
	case err != nil:
		return noop, false, wrap("lock "+name, err)
	}
	release = func(ctx context.Context) error {
		err := l.Release(ctx)
		if errors.Is(err, redislock.ErrLockNotHeld) {
			return fmt.Errorf("store: unlock %s: %w", name, ErrLockNotHeld)
		}
		return wrap("unlock "+name, err)
	}
	return release, true, nil
}

// Lead runs work on one replica at a time: it takes the lock name, renews it
// every ttl/3 while work runs, and cancels work's ctx as soon as a renewal
// fails (another replica may take over once the ttl runs out). When another
// replica leads, it retries every ttl/3. Lead returns when ctx ends.
func (s *Store) Lead(ctx context.Context, name string, ttl time.Duration, work func(ctx context.Context) error) error {
	locker := redislock.New(s.rdb)
	for {
		l, err := locker.Obtain(ctx, s.key("lock", name), ttl, nil)
		if err == nil {
			err = s.leadWith(ctx, l, ttl, work)
			relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = l.Release(relCtx)
			cancel()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("store: lead %s: %w", name, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(ttl / 3):
		}
	}
}

// Hold runs work once if it can take the lock name: renewed every ttl/3
// while work runs, work's ctx cancelled as soon as the lock is lost, and
// released when work returns. held is false (and work not run) when
// another holder has the lock. A holder that dies stops renewing, so the
// lock frees itself within ttl for another replica to carry the work on.
func (s *Store) Hold(ctx context.Context, name string, ttl time.Duration, work func(ctx context.Context) error) (held bool, err error) {
	l, err := redislock.New(s.rdb).Obtain(ctx, s.key("lock", name), ttl, nil)
	switch {
	case errors.Is(err, redislock.ErrNotObtained):
		return false, nil
	case err != nil:
		return false, wrap("lock "+name, err)
	}
	err = s.leadWith(ctx, l, ttl, work)
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	_ = l.Release(relCtx)
	cancel()
	return true, err
}

func (s *Store) leadWith(ctx context.Context, l *redislock.Lock, ttl time.Duration, work func(context.Context) error) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			rctx, rcancel := context.WithTimeout(ctx, ttl/4)
			err := l.Refresh(rctx, ttl, nil)
			rcancel()
			switch {
			case err == nil:
				renewed = time.Now()
			case errors.Is(err, redislock.ErrNotObtained) || time.Since(renewed) > ttl*2/3:
				// Lost, or about to lose, the lead: stop before another
				// replica can start. A single failed renewal (a Redis blip)
				// is retried at the next tick while the lease still holds.
				cancel()
				return <-done
			}
		}
	}
}
