package store_test

import (
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func report(id, sev, status string) store.FindingReport {
	return store.FindingReport{VendorID: id, Profile: "p1", Title: "XSS " + id, Severity: sev, Status: status,
		Host: "shop.acme.example", Location: "https://shop.acme.example/" + id, CWE: 79}
}

// scan applies reports to prev (profile p1 complete) and returns the result.
func scan(prev map[string]store.Finding, at time.Time, reports ...store.FindingReport) store.ScanResult {
	return store.ApplyScan(prev, reports, map[string]bool{"p1": true}, at)
}

func TestFindingLifecycle(t *testing.T) {
	t1, t2, t3, t4 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	r := scan(nil, t1, report("a", "high", "active"), report("b", "low", "active"), report("c", "high", "patched"))
	if r.Summary.New != 2 || len(r.All) != 2 || r.All["a"].State != store.FindingNew || r.All["a"].FirstSeen != t1 {
		t.Fatalf("first scan: %+v", r)
	}
	if _, kept := r.All["c"]; kept {
		t.Fatal("a finding first seen already patched is kept")
	}
	if len(r.Changes) != 2 || r.Changes[0].From != "" || r.Changes[0].To != store.FindingNew {
		t.Fatalf("changes: %+v", r.Changes)
	}

	// The same findings again: open, no transitions to announce.
	r = scan(r.All, t2, report("a", "high", "active"), report("b", "low", "active"))
	if r.Summary.StillOpen != 2 || r.Summary.New != 0 || len(r.Changes) != 0 || r.All["a"].State != store.FindingOpen || r.All["a"].FirstSeen != t1 {
		t.Fatalf("second scan: %+v", r)
	}

	// a patched, b no longer listed by a completed scan: both fixed.
	r = scan(r.All, t3, report("a", "high", "patched"))
	if r.Summary.Fixed != 2 || r.All["a"].State != store.FindingFixed || r.All["b"].State != store.FindingFixed || r.All["b"].FixedAt != t3 {
		t.Fatalf("third scan: %+v", r)
	}
	if r.Summary.Open["high"] != 0 || len(r.Changes) != 2 || !r.Touched["b"] {
		t.Fatalf("third scan changes: %+v", r)
	}

	// a listed active again: reopened, then open.
	r = scan(r.All, t4, report("a", "critical", "active"))
	if r.Summary.Reopened != 1 || r.All["a"].State != store.FindingReopened || r.All["a"].Severity != "critical" || !r.All["a"].FixedAt.IsZero() {
		t.Fatalf("fourth scan: %+v", r)
	}
	if r.Summary.Open["critical"] != 1 || len(r.Changes) != 1 || r.Changes[0].From != store.FindingFixed || r.Changes[0].To != store.FindingReopened {
		t.Fatalf("fourth scan changes: %+v", r.Changes)
	}
	if r.Touched["b"] {
		t.Fatal("a fixed finding still absent is rewritten")
	}
}

func TestIncompleteScanFixesNothing(t *testing.T) {
	r := scan(nil, t0, report("a", "high", "active"))
	r = store.ApplyScan(r.All, nil, map[string]bool{"other": true}, t0.Add(time.Hour))
	if r.All["a"].State != store.FindingNew || r.Summary.Fixed != 0 || len(r.Changes) != 0 {
		t.Fatalf("a stopped scan fixed a finding: %+v", r)
	}
}

func TestFindingKeyFallsBackToAHash(t *testing.T) {
	a := store.FindingReport{Asset: "acme.example", Title: "XSS", Location: "https://acme.example/q", CWE: 79}
	b := a
	b.Location = "https://acme.example/r"
	ka, kb := store.FindingKey(a), store.FindingKey(b)
	if len(ka) != 32 || ka[0] != 'h' || ka == kb || ka != store.FindingKey(a) {
		t.Fatalf("keys %q %q", ka, kb)
	}
	a.VendorID = " E26B149D-A124 "
	if got := store.FindingKey(a); got != "e26b149d-a124" {
		t.Fatalf("uuid key = %q", got)
	}
}
