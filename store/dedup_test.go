package store_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/redis/go-redis/v9"
)

// commandCount counts commands sent to Redis (a pipeline's each).
type commandCount struct{ n atomic.Int64 }

func (c *commandCount) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCount) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCount) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

// FirstSeenFor reads the user's roles with the dedup, in one pipeline, for
// the next Roles of that user only; a redelivery carries none.
func TestFirstSeenForPreloadsRolesOnce(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	if _, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0); err != nil {
		t.Fatal(err)
	}
	cc := &commandCount{}
	rdb.AddHook(cc)

	hctx, first, err := s.FirstSeenFor(ctx, "env-1", time.Second, "U1")
	if err != nil || !first {
		t.Fatalf("FirstSeenFor = %v, %v", first, err)
	}
	if ttl := rdb.PTTL(ctx, "opsbot:seen:env-1").Val(); ttl < 9*time.Minute {
		t.Fatalf("dedup TTL = %v, want at least 10m", ttl)
	}
	before := cc.n.Load()
	if got, err := s.Roles(hctx, "U1"); err != nil || !slices.Equal(got, []store.Grant{{Role: store.Support}}) {
		t.Fatalf("Roles = %v, %v", got, err)
	}
	if n := cc.n.Load() - before; n != 0 {
		t.Fatalf("Roles after FirstSeenFor sent %d commands, want none", n)
	}

	// The preload is spent: a grant since then shows in the next read.
	if _, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Finance}, t0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Roles(hctx, "U1"); err != nil || len(got) != 2 {
		t.Fatalf("second Roles = %v, %v; want both grants from Redis", got, err)
	}
	// Another user's roles are read from Redis.
	hctx, _, _ = s.FirstSeenFor(ctx, "env-2", time.Second, "U1")
	if got, err := s.Roles(hctx, "U2"); err != nil || len(got) != 0 {
		t.Fatalf("Roles of U2 = %v, %v", got, err)
	}
	// A redelivery: not first, nothing preloaded.
	hctx, first, err = s.FirstSeenFor(ctx, "env-1", time.Second, "U1")
	if err != nil || first {
		t.Fatalf("FirstSeenFor again = %v, %v; want false", first, err)
	}
	before = cc.n.Load()
	if _, err := s.Roles(hctx, "U1"); err != nil || cc.n.Load()-before != 1 {
		t.Fatalf("Roles after a redelivery: %v, %d commands", err, cc.n.Load()-before)
	}
}
