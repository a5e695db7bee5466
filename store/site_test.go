package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestRecordCheckKeepsSinceAndChanges(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	check := func(state string, i int) (bool, time.Time) {
		t.Helper()
		changed, since, err := s.RecordCheck(ctx, store.SiteStatus{Key: "uptime/acme/www", Client: "acme", Site: "www",
			Source: "probe", State: state, LastChecked: t0.Add(time.Duration(i) * time.Minute), ResponseTime: 120 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return changed, since
	}
	if changed, since := check("up", 0); !changed || !since.Equal(t0) {
		t.Fatalf("first check: %v %v", changed, since)
	}
	if changed, since := check("up", 1); changed || !since.Equal(t0) {
		t.Fatalf("same state: %v %v", changed, since)
	}
	if changed, since := check("down", 2); !changed || !since.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("went down: %v %v", changed, since)
	}
	check("down", 3)
	check("up", 4)
	if err := s.SetMonthUptime(ctx, "uptime/acme/www", "2026-11", 99.5); err != nil {
		t.Fatal(err)
	}
	all, err := s.SiteStatuses(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("SiteStatuses = %+v, %v", all, err)
	}
	got := all[0]
	if got.State != "up" || !got.Since.Equal(t0.Add(4*time.Minute)) || got.ResponseTime != 120*time.Millisecond || got.MonthUptime != 99.5 || got.Month != "2026-11" {
		t.Fatalf("status = %+v", got)
	}
	changes, err := s.StateChanges(ctx, "uptime/acme/www", t0.Add(time.Minute), t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.StateChange{{"up", t0}, {"down", t0.Add(2 * time.Minute)}, {"up", t0.Add(4 * time.Minute)}}
	if len(changes) != len(want) {
		t.Fatalf("changes = %+v", changes)
	}
	for i := range want {
		if changes[i].State != want[i].State || !changes[i].At.Equal(want[i].At) {
			t.Fatalf("change %d = %+v, want %+v", i, changes[i], want[i])
		}
	}
	if err := s.SetSourceStatus(ctx, store.SourceStatus{Source: "statuscake", OK: false, Reason: "HTTP 429", At: t0}); err != nil {
		t.Fatal(err)
	}
	if src, err := s.SourceStatuses(ctx); err != nil || len(src) != 1 || src[0].Reason != "HTTP 429" {
		t.Fatalf("sources = %+v, %v", src, err)
	}
}

func TestSyncSitesRegistersWithoutResetting(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	if _, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: "uptime/acme/www", Client: "acme", Site: "www", State: "down", LastChecked: t0}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: "uptime/old/gone", Client: "old", Site: "gone", State: "up", LastChecked: t0}); err != nil {
		t.Fatal(err)
	}
	sites := []store.SiteStatus{{Key: "uptime/acme/www", Client: "acme", Site: "www"}, {Key: "uptime/acme/api", Client: "acme", Site: "api"}}
	if err := s.SyncSites(ctx, sites, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err := s.SiteStatuses(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("statuses = %+v, %v", all, err)
	}
	byKey := map[string]store.SiteStatus{all[0].Key: all[0], all[1].Key: all[1]}
	if www := byKey["uptime/acme/www"]; www.State != "down" || !www.Since.Equal(t0) {
		t.Fatalf("known site reset by sync: %+v", www)
	}
	if api := byKey["uptime/acme/api"]; api.State != "unknown" || api.Error != "not checked yet" {
		t.Fatalf("new site = %+v", api)
	}
	if changes, _ := s.StateChanges(ctx, "uptime/acme/api", t0, t0.Add(2*time.Hour)); len(changes) != 0 {
		t.Fatalf("registration recorded a state change: %+v", changes)
	}
}

func TestTrimKeepsStateInForce(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	for _, c := range []struct {
		state string
		at    time.Time
	}{{"up", t0}, {"down", t0.Add(24 * time.Hour)}, {"up", t0.Add(70 * 24 * time.Hour)}} {
		if _, _, err := s.RecordCheck(ctx, store.SiteStatus{Key: "uptime/acme/www", State: c.state, LastChecked: c.at}); err != nil {
			t.Fatal(err)
		}
	}
	// 70 days on, the history is trimmed, but the "down" in force at the
	// start of the window (day 65) is still known.
	changes, err := s.StateChanges(ctx, "uptime/acme/www", t0.Add(65*24*time.Hour), t0.Add(71*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].State != "down" || changes[1].State != "up" {
		t.Fatalf("changes = %+v", changes)
	}
}
