package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestFindingsSaveReadAndFind(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	r := scan(nil, t0, report("e26b149d-1", "high", "active"), report("e26b149d-2", "low", "active"), report("f0", "medium", "active"))
	ids := slices.Collect(func(yield func(string) bool) {
		for id := range r.Touched {
			if !yield(id) {
				return
			}
		}
	})
	if err := s.SaveFindings(ctx, "acme", r.All, ids, &r.Summary); err != nil {
		t.Fatal(err)
	}
	got, acc, err := s.ClientFindings(ctx, "acme")
	if err != nil || len(got) != 3 || len(acc) != 0 {
		t.Fatalf("ClientFindings = %d, %d, %v", len(got), len(acc), err)
	}
	if f := got["e26b149d-1"]; f.ID != "e26b149d-1" || f.Client != "acme" || f.State != store.FindingNew || !f.FirstSeen.Equal(t0) || f.Host != "shop.acme.example" {
		t.Fatalf("finding = %+v", f)
	}
	ov, err := s.FindingsOf(ctx, []string{"acme", "beta"})
	if err != nil || len(ov.Findings["acme"]) != 3 || len(ov.Findings["beta"]) != 0 || ov.LastScan["acme"].New != 3 {
		t.Fatalf("FindingsOf = %+v, %v", ov, err)
	}
	found, err := s.FindingsByPrefix(ctx, []string{"beta", "acme"}, "e26b")
	if err != nil || len(found) != 2 {
		t.Fatalf("by prefix = %+v, %v", found, err)
	}
	for _, bad := range []string{"*", "e2?", "", "E26B"} {
		if found, _ := s.FindingsByPrefix(ctx, []string{"acme"}, bad); len(found) != 0 {
			t.Fatalf("prefix %q matched %d", bad, len(found))
		}
	}
}

func TestAcceptFindingAuditedAndExpires(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	r := scan(nil, t0, report("a", "high", "active"))
	if err := s.SaveFindings(ctx, "acme", r.All, []string{"a"}, &r.Summary); err != nil {
		t.Fatal(err)
	}
	acc := store.Acceptance{ID: "a", Client: "acme", Until: t0.Add(7 * 24 * time.Hour), Reason: "WAF rule in front", By: "USEC", At: t0}
	if err := s.AcceptFinding(ctx, store.Acceptance{ID: "nope", Client: "acme", Until: acc.Until, Reason: "x", By: "USEC", At: t0}, "?"); !errors.Is(err, store.ErrFindingNotFound) {
		t.Fatalf("unknown finding = %v", err)
	}
	if err := s.AcceptFinding(ctx, store.Acceptance{ID: "a", Client: "acme", Until: acc.Until, By: "USEC", At: t0}, "?"); err == nil {
		t.Fatal("accepted without a reason")
	}
	if err := s.AcceptFinding(ctx, acc, "XSS a"); err != nil {
		t.Fatal(err)
	}
	_, accs, _ := s.ClientFindings(ctx, "acme")
	if a := accs["a"]; a.Reason != "WAF rule in front" || !a.Active(t0.Add(time.Hour)) || a.Active(acc.Until) {
		t.Fatalf("acceptance = %+v", a)
	}
	log, _ := s.RecentAudit(ctx, 5)
	if len(log) != 1 || log[0].Action != "finding.accept" || log[0].Actor != "USEC" || log[0].Reason != "WAF rule in front" || !strings.Contains(log[0].Detail, "XSS a") {
		t.Fatalf("audit = %+v", log)
	}
	if due, err := s.DueAcceptances(ctx, acc.Until.Add(-time.Second), 10); err != nil || len(due) != 0 {
		t.Fatalf("due before expiry = %+v, %v", due, err)
	}
	due, err := s.DueAcceptances(ctx, acc.Until, 10)
	if err != nil || len(due) != 1 || due[0].ID != "a" {
		t.Fatalf("due at expiry = %+v, %v", due, err)
	}
	ended, err := s.EndAcceptance(ctx, due[0], acc.Until)
	if err != nil || !ended {
		t.Fatalf("end = %v, %v", ended, err)
	}
	if again, _ := s.EndAcceptance(ctx, due[0], acc.Until); again {
		t.Fatal("ended twice")
	}
	if due, _ := s.DueAcceptances(ctx, acc.Until.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("still due after ending: %+v", due)
	}
	log, _ = s.RecentAudit(ctx, 5)
	if len(log) != 2 || log[0].Action != "finding.accept_expired" || log[0].Actor != store.BotActor {
		t.Fatalf("audit after expiry = %+v", log)
	}
}

func TestRenewedAcceptanceIsNotEnded(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	r := scan(nil, t0, report("a", "high", "active"))
	_ = s.SaveFindings(ctx, "acme", r.All, []string{"a"}, &r.Summary)
	first := store.Acceptance{ID: "a", Client: "acme", Until: t0.Add(time.Hour), Reason: "r1", By: "U1", At: t0}
	_ = s.AcceptFinding(ctx, first, "")
	due, _ := s.DueAcceptances(ctx, t0.Add(time.Hour), 10)
	renewed := first
	renewed.Until, renewed.Reason = t0.Add(48*time.Hour), "r2"
	if err := s.AcceptFinding(ctx, renewed, ""); err != nil {
		t.Fatal(err)
	}
	if ended, err := s.EndAcceptance(ctx, due[0], t0.Add(time.Hour)); err != nil || ended {
		t.Fatalf("a renewed acceptance was ended: %v, %v", ended, err)
	}
	_, accs, _ := s.ClientFindings(ctx, "acme")
	if accs["a"].Reason != "r2" {
		t.Fatalf("acceptance = %+v", accs["a"])
	}
	// The renewal's expiry is still indexed.
	if due, _ := s.DueAcceptances(ctx, t0.Add(48*time.Hour), 10); len(due) != 1 || due[0].Reason != "r2" {
		t.Fatalf("renewal not due at its end: %+v", due)
	}
}

func TestScanRunOnePerClient(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	run := store.ScanRun{ID: "r1", Client: "acme", By: "U1", Started: t0, Status: store.ScanRunning, Channel: "C1",
		Profiles: []store.ScanProfileRun{{Token: "p1"}}}
	if _, err := s.StartScanRun(ctx, run, t0, nil); err != nil {
		t.Fatal(err)
	}
	second := run
	second.ID = "r2"
	got, err := s.StartScanRun(ctx, second, t0, nil)
	if !errors.Is(err, store.ErrScanRunExists) || got.ID != "r1" {
		t.Fatalf("second start = %+v, %v; want the running r1", got, err)
	}
	active, err := s.ActiveScanRuns(ctx)
	if err != nil || len(active) != 1 || active[0].ID != "r1" {
		t.Fatalf("active = %+v, %v", active, err)
	}
	if _, err := s.UpdateScanRun(ctx, "acme", t0, func(r *store.ScanRun) ([]store.OutboxItem, error) {
		r.Status, r.Ended = store.ScanDone, t0.Add(time.Hour)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if active, _ := s.ActiveScanRuns(ctx); len(active) != 0 {
		t.Fatalf("a finished run is still active: %+v", active)
	}
	if _, err := s.StartScanRun(ctx, second, t0, nil); err != nil {
		t.Fatalf("start after the last one finished: %v", err)
	}
	log, _ := s.RecentAudit(ctx, 5)
	if len(log) != 2 || log[0].Action != "scan.start" || log[0].Target != "r2" {
		t.Fatalf("audit = %+v", log)
	}
}

func TestKeptMessageTS(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	if ch, ts, err := s.KeptMessageTS(ctx, "scan/acme/r1"); err != nil || ch != "" || ts != "" {
		t.Fatalf("before = %q %q %v", ch, ts, err)
	}
	_ = s.SaveKeptMessageTS(ctx, "scan/acme/r1", "C1", "1.1")
	_ = s.SaveKeptMessageTS(ctx, "scan/acme/r1", "C2", "2.2")
	if ch, ts, err := s.KeptMessageTS(ctx, "scan/acme/r1"); err != nil || ch != "C1" || ts != "1.1" {
		t.Fatalf("after = %q %q %v; want the first post", ch, ts, err)
	}
}

func TestAcceptFindingRefusedWhenTheAuditCannotBeWritten(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	r := scan(nil, t0, report("a", "high", "active"))
	_ = s.SaveFindings(ctx, "acme", r.All, []string{"a"}, &r.Summary)
	rdb.Set(ctx, "opsbot:audit", "not a stream", 0)
	err := s.AcceptFinding(ctx, store.Acceptance{ID: "a", Client: "acme", Until: t0.Add(time.Hour), Reason: "r", By: "U1", At: t0}, "")
	if err == nil {
		t.Fatal("accepted without its audit entry")
	}
	if _, accs, _ := s.ClientFindings(ctx, "acme"); len(accs) != 0 {
		t.Fatalf("acceptance stored without its audit entry: %+v", accs)
	}
}
