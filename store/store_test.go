package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*store.Store, *redis.Client, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	return store.New(rdb, "opsbot:"), rdb, srv
}

func TestGrantRevokeAudited(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)

	added, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Stakeholder, Client: "acme"}, t0)
	if err != nil || !added {
		t.Fatalf("Grant = %v, %v; want true, nil", added, err)
	}
	again, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Stakeholder, Client: "acme"}, t0)
	if err != nil || again {
		t.Fatalf("second Grant = %v, %v; want false (already held), nil", again, err)
	}
	if _, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Roles(ctx, "U1")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Grant{{Role: store.Support}, {Role: store.Stakeholder, Client: "acme"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Roles = %v, want %v", got, want)
	}

	removed, err := s.Revoke(ctx, "UADMIN", "U1", store.Grant{Role: store.Support}, t0.Add(2*time.Minute))
	if err != nil || !removed {
		t.Fatalf("Revoke = %v, %v", removed, err)
	}
	all, err := s.AllGrants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || len(all["U1"]) != 1 || all["U1"][0].Role != store.Stakeholder {
		t.Fatalf("AllGrants = %v", all)
	}

	entries, err := s.RecentAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The no-op second grant is not audited: three changes, newest first.
	if len(entries) != 3 {
		t.Fatalf("audit has %d entries, want 3: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Action != "role.revoke" || e.Actor != "UADMIN" || e.Target != "U1" || e.Role != "support" || !e.At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("newest audit entry = %+v", e)
	}
	if entries[2].Client != "acme" || entries[2].Action != "role.grant" {
		t.Fatalf("oldest audit entry = %+v", entries[2])
	}
}

func TestGrantFailsClosedWhenAuditUnwritable(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	// A string where the stream should be makes XADD fail with WRONGTYPE.
	if err := rdb.Set(ctx, "opsbot:audit", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Grant(ctx, "UADMIN", "U1", store.Grant{Role: store.Admin}, t0)
	if err == nil {
		t.Fatal("Grant succeeded although the audit entry could not be written")
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("WRONGTYPE classified as unavailable: %v", err)
	}
	roles, err := s.Roles(ctx, "U1")
	if err != nil || len(roles) != 0 {
		t.Fatalf("role stored despite failed audit: %v, %v", roles, err)
	}
}

func TestGrantRejectsBadShape(t *testing.T) {
	s, _, _ := newStore(t)
	for _, g := range []store.Grant{{Role: "root"}, {Role: store.Stakeholder}, {Role: store.Admin, Client: "acme"}, {Role: store.Stakeholder, Client: "Bad Key"}} {
		if _, err := s.Grant(context.Background(), "UA", "U1", g, t0); err == nil {
			t.Errorf("Grant(%+v) succeeded", g)
		}
	}
}

func TestFirstSeen(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	first, err := s.FirstSeen(ctx, "env-1", time.Second)
	if err != nil || !first {
		t.Fatalf("FirstSeen = %v, %v", first, err)
	}
	again, err := s.FirstSeen(ctx, "env-1", time.Second)
	if err != nil || again {
		t.Fatalf("FirstSeen again = %v, %v; want false", again, err)
	}
	ttl := rdb.PTTL(ctx, "opsbot:seen:env-1").Val()
	if ttl < 9*time.Minute {
		t.Fatalf("dedup TTL = %v, want at least 10m", ttl)
	}
}

func TestUnavailableAndRecovery(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 500 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	s := store.New(rdb, "opsbot:")

	srv.Stop()
	start := time.Now()
	_, err := s.Roles(ctx, "U1")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Roles with Redis down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Roles took %v with Redis down", d)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Roles(ctx, "U1"); err != nil {
		t.Fatalf("Roles after restart: %v", err)
	}
}
