package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func costSnap(fetched time.Time, mtd float64) store.CostSnapshot {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return store.CostSnapshot{Currency: "USD", FetchedAt: fetched, Month: month, MonthToDate: mtd, Forecast: 2 * mtd, HasForecast: true,
		Days:     []store.CostDay{{Day: month, Amount: mtd}},
		Services: []store.CostService{{Service: "Amazon Elastic Compute Cloud - Compute", Amount: mtd}}}
}

func TestCostCacheKeepsSnapshotThroughFailures(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	if got, err := s.CostRecords(ctx, "acme", "beta"); err != nil || len(got) != 0 {
		t.Fatalf("empty cache = %+v, %v", got, err)
	}
	if err := s.SaveCostSnapshot(ctx, "acme", costSnap(t0, 120.5)); err != nil {
		t.Fatal(err)
	}
	fail := store.CostFailure{Kind: store.CostThrottled, Message: "ThrottlingException", At: t0.Add(time.Hour)}
	if err := s.MarkCostFailure(ctx, "acme", fail); err != nil {
		t.Fatal(err)
	}
	denied := store.CostFailure{Kind: store.CostAccessDenied, Action: "ce:GetCostAndUsage", At: t0}
	if err := s.MarkCostFailure(ctx, "beta", denied); err != nil {
		t.Fatal(err)
	}
	got, err := s.CostRecords(ctx, "acme", "beta", "gamma")
	if err != nil {
		t.Fatal(err)
	}
	acme := got["acme"]
	if !acme.HasSnapshot || acme.Snapshot.MonthToDate != 120.5 || !acme.Snapshot.FetchedAt.Equal(t0) || acme.Failure == nil || acme.Failure.Kind != store.CostThrottled {
		t.Fatalf("acme after throttling = %+v (failure %+v); want the old snapshot and the failure", acme, acme.Failure)
	}
	if len(acme.Snapshot.Services) != 1 || !acme.Snapshot.HasData() {
		t.Fatalf("acme snapshot lost detail: %+v", acme.Snapshot)
	}
	if beta := got["beta"]; beta.HasSnapshot || beta.Failure == nil || beta.Failure.Action != "ce:GetCostAndUsage" {
		t.Fatalf("beta = %+v", beta)
	}
	if _, ok := got["gamma"]; ok || len(got) != 2 {
		t.Fatalf("records = %+v; want only acme and beta", got)
	}
	// A successful fetch clears the failure.
	if err := s.SaveCostSnapshot(ctx, "acme", costSnap(t0.Add(2*time.Hour), 130)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CostRecords(ctx, "acme")
	if a := got["acme"]; a.Failure != nil || a.Snapshot.MonthToDate != 130 {
		t.Fatalf("after a good fetch = %+v", a)
	}
}

func TestCostSnapshotHasData(t *testing.T) {
	if (store.CostSnapshot{Days: []store.CostDay{{Amount: 0}}, PrevDays: []store.CostDay{{Amount: 0}}}).HasData() {
		t.Fatal("all-zero days count as data")
	}
	if !(store.CostSnapshot{PrevDays: []store.CostDay{{Amount: 0.01}}}).HasData() {
		t.Fatal("last month's cost is data")
	}
}

func TestEnqueueAtLevelAnnouncesEachHigherLevelOnce(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	item := func() store.OutboxItem {
		it, err := store.NewOutboxItem("slack.post", "cost/acme", map[string]string{"text": "over quote"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	steps := []struct {
		level int
		want  bool
	}{{1, true}, {1, false}, {3, true}, {2, false}, {3, false}, {4, true}}
	for i, st := range steps {
		got, err := s.EnqueueAtLevel(ctx, "cost:quote:acme:2026-11", st.level, time.Hour, t0, item())
		if err != nil || got != st.want {
			t.Fatalf("step %d (level %d): queued = %v, %v; want %v", i, st.level, got, err, st.want)
		}
	}
	claimed, err := s.ClaimOutbox(ctx, t0.Add(time.Second), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed = %d queues, %v", len(claimed), err)
	}
	queued := 0
	for {
		if err := s.AckOutbox(ctx, claimed[0], t0); err != nil {
			t.Fatal(err)
		}
		queued++
		claimed, _ = s.ClaimOutbox(ctx, t0.Add(time.Second), time.Minute, 10)
		if len(claimed) == 0 {
			break
		}
	}
	if queued != 3 {
		t.Fatalf("%d items queued, want 3 (levels 1, 3, 4)", queued)
	}
	// Another marker (next month) starts afresh.
	if got, _ := s.EnqueueAtLevel(ctx, "cost:quote:acme:2026-12", 1, time.Hour, t0, item()); !got {
		t.Fatal("a new month's first level was not announced")
	}
}

func TestFormatCost(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		cur  string
		want string
	}{
		{1234.567, "USD", "$1,234.57"}, {0, "", "$0.00"}, {-40, "EUR", "-€40.00"}, {1234567.5, "GBP", "£1,234,567.50"},
		{12.3, "CHF", "12.30 CHF"}, {0.005, "USD", "$0.01"}, {999.999, "USD", "$1,000.00"},
	} {
		if got := store.FormatCost(tt.v, tt.cur); got != tt.want {
			t.Errorf("FormatCost(%v, %q) = %q, want %q", tt.v, tt.cur, got, tt.want)
		}
	}
	for _, tt := range []struct {
		before, now float64
		want        string
	}{
		{100, 118, "+$18.00 (+18 %)"}, {100, 90, "−$10.00 (−10 %)"}, {0, 50, "+$50.00 (from $0.00)"},
		{100, 100, "$0.00 (no change)"}, {1000, 1001, "+$1.00 (+<1 %)"},
	} {
		if got := store.FormatCostDelta(tt.before, tt.now, "USD"); got != tt.want {
			t.Errorf("FormatCostDelta(%v, %v) = %q, want %q", tt.before, tt.now, got, tt.want)
		}
	}
}
