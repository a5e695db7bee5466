package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

type fakeFindings struct {
	sums     map[string]store.FindingSummary
	all      map[string]store.Finding
	accepted map[string]store.Acceptance
}

func (f fakeFindings) ScanSummaries(context.Context, []string) (map[string]store.FindingSummary, error) {
	return f.sums, nil
}

func (f fakeFindings) ClientFindings(context.Context, string) (map[string]store.Finding, map[string]store.Acceptance, error) {
	return f.all, f.accepted, nil
}

func TestOwaspCheck(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	recent := map[string]store.FindingSummary{"acme": {At: now.Add(-3 * 24 * time.Hour)}}
	xss := store.Finding{Title: "Reflected XSS", Severity: "high", State: store.FindingOpen}
	low := store.Finding{Title: "Missing header", Severity: "low", State: store.FindingNew}
	fixed := store.Finding{Title: "SQLi", Severity: "critical", State: store.FindingFixed}
	for name, tc := range map[string]struct {
		f     fakeFindings
		state store.ItemState
		words string
	}{
		"never scanned":          {fakeFindings{}, store.ItemFailing, "no Detectify scan"},
		"scan too old":           {fakeFindings{sums: map[string]store.FindingSummary{"acme": {At: now.Add(-15 * 24 * time.Hour)}}}, store.ItemFailing, "more than 14 days"},
		"an open high":           {fakeFindings{sums: recent, all: map[string]store.Finding{"a": xss, "b": low}}, store.ItemFailing, "high: Reflected XSS"},
		"high but risk-accepted": {fakeFindings{sums: recent, all: map[string]store.Finding{"a": xss, "b": low, "c": fixed}, accepted: map[string]store.Acceptance{"a": {}}}, store.ItemVerified, "1 lower open"},
	} {
		got := jobs.OwaspCheck{Findings: tc.f, Now: func() time.Time { return now }}.Check(context.Background(), "acme")
		if got.State != tc.state || !strings.Contains(got.Detail, tc.words) {
			t.Errorf("%s: %+v", name, got)
		}
	}
}
