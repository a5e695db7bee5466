package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

func activeIDs(t *testing.T, s *store.Store, now time.Time) []string {
	t.Helper()
	all, err := s.ActiveFreezes(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(all))
	for _, f := range all {
		ids = append(ids, f.ChangeID)
	}
	return ids
}

func TestFreezeWindowRepoMatchAndPurge(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	freezes := []store.Freeze{
		{ChangeID: "CR-7", Client: "acme", Repos: []string{" Acme/Website ", "acme/api", "acme/website"},
			Start: t0, End: t0.Add(2 * time.Hour), Reason: "database move"},
		{ChangeID: "CR-9", Client: "acme", Repos: []string{"acme/website"},
			Start: t0.Add(30 * time.Minute), End: t0.Add(3 * time.Hour), Reason: "DNS cut-over"},
		{ChangeID: "CR-11", Client: "beta", Start: t0, End: t0.Add(time.Hour), Reason: "announced only"},
	}
	for _, f := range freezes {
		if err := s.AddFreeze(ctx, f); err != nil {
			t.Fatal(err)
		}
	}

	if got := activeIDs(t, s, t0.Add(-time.Minute)); len(got) != 0 {
		t.Fatalf("before any window: %v, want none", got)
	}
	if got := activeIDs(t, s, t0); !slices.Equal(got, []string{"CR-11", "CR-7"}) {
		t.Fatalf("at t0: %v, want [CR-11 CR-7] (by end; CR-9 not started)", got)
	}
	all, _ := s.ActiveFreezes(ctx, t0)
	if want := []string{"acme/api", "acme/website"}; !slices.Equal(all[1].Repos, want) {
		t.Fatalf("repos stored as %q, want %q (trimmed, lower-case, once each)", all[1].Repos, want)
	}
	if all[1].Reason != "database move" || all[1].Client != "acme" || !all[1].End.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("freeze read back as %+v", all[1])
	}

	cases := []struct {
		repo   string
		at     time.Time
		frozen bool
		id     string
		until  time.Time
	}{
		{"acme/website", t0.Add(-time.Second), false, "", time.Time{}},
		{"ACME/WebSite", t0, true, "CR-7", t0.Add(2 * time.Hour)},
		{"acme/api", t0.Add(time.Hour), true, "CR-7", t0.Add(2 * time.Hour)},
		{"acme/website", t0.Add(time.Hour), true, "CR-9", t0.Add(3 * time.Hour)}, // both: the later end
		{"acme/other", t0.Add(time.Hour), false, "", time.Time{}},
		{"beta/anything", t0, false, "", time.Time{}},               // a freeze without repos freezes none
		{"acme/api", t0.Add(2 * time.Hour), false, "", time.Time{}}, // End is exclusive
		{"acme/website", t0.Add(2 * time.Hour), true, "CR-9", t0.Add(3 * time.Hour)},
	}
	for _, c := range cases {
		id, until, frozen, err := s.ActiveFreeze(ctx, c.repo, c.at)
		if err != nil || frozen != c.frozen || id != c.id || !until.Equal(c.until) {
			t.Errorf("ActiveFreeze(%q, %v) = %q, %v, %v, %v; want %q, %v, %v",
				c.repo, c.at.Sub(t0), id, until, frozen, err, c.id, c.until, c.frozen)
		}
	}
	// The queries at t0+2h purged CR-7 and CR-11; CR-9 remains.
	if n := rdb.HLen(ctx, "opsbot:freezes").Val(); n != 1 {
		t.Fatalf("after the first windows ended %d records remain, want 1", n)
	}
	if got := activeIDs(t, s, t0.Add(3*time.Hour)); len(got) != 0 {
		t.Fatalf("after every window: %v", got)
	}
	if h, z := rdb.HLen(ctx, "opsbot:freezes").Val(), rdb.ZCard(ctx, "opsbot:freezes:_end").Val(); h != 0 || z != 0 {
		t.Fatalf("ended freezes not purged: %d records, %d index entries", h, z)
	}
}

func TestFreezeReplaceAndEnd(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	f := store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/web"}, Start: t0, End: t0.Add(time.Hour)}
	if err := s.AddFreeze(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.End, f.Repos = t0.Add(4*time.Hour), []string{"acme/api"} // rescheduled: replaces
	if err := s.AddFreeze(ctx, f); err != nil {
		t.Fatal(err)
	}
	all, err := s.ActiveFreezes(ctx, t0.Add(2*time.Hour))
	if err != nil || len(all) != 1 || !all[0].End.Equal(t0.Add(4*time.Hour)) || !slices.Equal(all[0].Repos, []string{"acme/api"}) {
		t.Fatalf("after replacing: %+v, %v", all, err)
	}
	if _, _, frozen, _ := s.ActiveFreeze(ctx, "acme/web", t0.Add(2*time.Hour)); frozen {
		t.Fatal("the replaced freeze's old repository is still frozen")
	}

	if err := s.EndFreeze(ctx, "CR-7"); err != nil { // the change closed early
		t.Fatal(err)
	}
	if _, _, frozen, err := s.ActiveFreeze(ctx, "acme/api", t0.Add(2*time.Hour)); frozen || err != nil {
		t.Fatalf("after EndFreeze: frozen = %v, %v", frozen, err)
	}
	if h, z := rdb.HLen(ctx, "opsbot:freezes").Val(), rdb.ZCard(ctx, "opsbot:freezes:_end").Val(); h != 0 || z != 0 {
		t.Fatalf("EndFreeze left %d records, %d index entries", h, z)
	}
	if err := s.EndFreeze(ctx, "CR-404"); err != nil {
		t.Fatalf("ending a change without a freeze: %v, want nil", err)
	}
}

func TestFreezeRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	bad := []store.Freeze{
		{ChangeID: "", Start: t0, End: t0.Add(time.Hour)},
		{ChangeID: "CR-1", Start: t0, End: t0},
		{ChangeID: "CR-1", End: t0.Add(time.Hour)},
		{ChangeID: "CR-1", Start: t0, End: t0.Add(time.Hour), Repos: []string{"acme"}},
		{ChangeID: "CR-1", Start: t0, End: t0.Add(time.Hour), Repos: []string{"acme/web", "-acme/web"}},
		{ChangeID: "CR-1", Start: t0, End: t0.Add(time.Hour), Repos: []string{"acme/web/x"}},
	}
	for _, f := range bad {
		if err := s.AddFreeze(ctx, f); err == nil {
			t.Errorf("AddFreeze(%+v) = nil, want an error", f)
		}
	}
	if n := rdb.Exists(ctx, "opsbot:freezes", "opsbot:freezes:_end").Val(); n != 0 {
		t.Fatalf("refused freezes stored something (%d keys)", n)
	}
}

func TestFreezeRedisDown(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	s := store.New(rdb, "opsbot:")
	srv.Stop()
	if _, _, frozen, err := s.ActiveFreeze(ctx, "acme/web", t0); frozen || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ActiveFreeze with Redis down = %v, %v; want false, ErrUnavailable", frozen, err)
	}
	if err := s.AddFreeze(ctx, store.Freeze{ChangeID: "CR-1", Start: t0, End: t0.Add(time.Hour)}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("AddFreeze with Redis down = %v, want ErrUnavailable", err)
	}
	if err := s.EndFreeze(ctx, "CR-1"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("EndFreeze with Redis down = %v, want ErrUnavailable", err)
	}
}
