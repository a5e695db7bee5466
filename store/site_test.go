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
