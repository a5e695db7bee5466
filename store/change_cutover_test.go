package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
)

// smokeTesting is a request in smoke testing with two listed checks, none
// run yet and no waiver (crIn's path waives them, so it is not used here).
func smokeTesting(t *testing.T) *store.ChangeRequest {
	t.Helper()
	c := crIn(t, store.ChangeProvisioning)
	if err := c.SetSmokeChecks(twoChecks(), crSupport, crAt(7)); err != nil {
		t.Fatal(err)
	}
	return c
}

func twoChecks() []store.SmokeCheck {
	return []store.SmokeCheck{
		{URL: "https://203.0.113.10/health", Host: "www.acme.example", Keyword: "ok"},
		{URL: "https://203.0.113.10/login", ExpectStatus: 302},
	}
}

func smokeResults(c *store.ChangeRequest, ok ...bool) []store.SmokeResult {
	out := make([]store.SmokeResult, len(ok))
	for i := range ok {
		out[i] = store.SmokeResult{URL: c.SmokeChecks[i].URL, OK: ok[i], Status: 200, At: crAt(8)}
	}
	return out
}

func TestSetSmokeChecksStartsSmokeTesting(t *testing.T) {
	c := smokeTesting(t)
	if c.State != store.ChangeSmokeTesting {
		t.Fatalf("state %s after listing checks in provisioning, want smoke_testing", c.State)
	}
	if got := c.SmokeChecks; len(got) != 2 || got[0].ExpectStatus != 200 || got[1].ExpectStatus != 302 {
		t.Fatalf("checks = %+v; want status 200 by default and 302 kept", got)
	}
	last := c.History[len(c.History)-1]
	if last.From != store.ChangeProvisioning || last.To != store.ChangeSmokeTesting || last.Note != "2 smoke check(s) listed" || last.By != crSupport {
		t.Fatalf("history = %+v", last)
	}

	// New checks in smoke testing clear the results and the waiver.
	if err := c.RecordSmoke(smokeResults(c, true, false), crSupport, crAt(8)); err != nil {
		t.Fatal(err)
	}
	if err := c.Waive(crSupport, "login needs a VPN", crAt(8)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSmokeChecks(twoChecks()[:1], crSupport, crAt(9)); err != nil {
		t.Fatal(err)
	}
	if c.State != store.ChangeSmokeTesting || len(c.SmokeChecks) != 1 || c.SmokeResults != nil || c.SmokeWaiver != nil {
		t.Fatalf("after editing checks: state %s, checks %d, results %v, waiver %v", c.State, len(c.SmokeChecks), c.SmokeResults, c.SmokeWaiver)
	}
}

func TestSetSmokeChecksRefusals(t *testing.T) {
	for _, s := range []store.ChangeState{store.ChangeRequested, store.ChangeAwaitingApproval, store.ChangeScheduled, store.ChangeCutOver, store.ChangeClosed, store.ChangeCancelled} {
		c := crIn(t, s)
		err := c.SetSmokeChecks(twoChecks(), crSupport, crAt(20))
		if !errors.Is(err, store.ErrWrongState) || c.State != s || c.SmokeChecks != nil {
			t.Errorf("in %s: err %v, state %s, checks %v; want a state refusal changing nothing", s, err, c.State, c.SmokeChecks)
		}
	}
	tooMany := make([]store.SmokeCheck, store.MaxSmokeChecks+1)
	for i := range tooMany {
		tooMany[i] = store.SmokeCheck{URL: "https://203.0.113.10/"}
	}
	bad := []struct {
		name   string
		checks []store.SmokeCheck
		want   string
	}{
		{"none", nil, "between 1 and 20"},
		{"too many", tooMany, "between 1 and 20"},
		{"no scheme", []store.SmokeCheck{{URL: "203.0.113.10/health"}}, "is not an http(s) URL"},
		{"ftp", []store.SmokeCheck{{URL: "ftp://203.0.113.10/"}}, "is not an http(s) URL"},
		{"no host", []store.SmokeCheck{{URL: "https:///health"}}, "is not an http(s) URL"},
		{"second bad", []store.SmokeCheck{{URL: "https://ok.example/"}, {URL: "javascript:alert(1)"}}, "smoke check 2"},
		{"status 99", []store.SmokeCheck{{URL: "https://ok.example/", ExpectStatus: 99}}, "status 99 is not an HTTP status"},
		{"status 600", []store.SmokeCheck{{URL: "https://ok.example/", ExpectStatus: 600}}, "status 600"},
		{"host two lines", []store.SmokeCheck{{URL: "https://ok.example/", Host: "a\nb"}}, "host must be one line"},
		{"long host", []store.SmokeCheck{{URL: "https://ok.example/", Host: strings.Repeat("h", 254)}}, "host is longer than 253"},
		{"long keyword", []store.SmokeCheck{{URL: "https://ok.example/", Keyword: strings.Repeat("k", 201)}}, "keyword is longer than 200"},
	}
	for _, tt := range bad {
		c := crIn(t, store.ChangeProvisioning)
		before := len(c.History)
		err := c.SetSmokeChecks(tt.checks, crSupport, crAt(20))
		if !errors.Is(err, store.ErrInvalidChange) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want ErrInvalidChange with %q", tt.name, err, tt.want)
		}
		if c.State != store.ChangeProvisioning || c.SmokeChecks != nil || len(c.History) != before {
			t.Errorf("%s: refused checks changed the request: state %s, checks %v", tt.name, c.State, c.SmokeChecks)
		}
	}
}

func TestRecordSmokeAndSmokePassed(t *testing.T) {
	c := smokeTesting(t)
	if c.SmokePassed() {
		t.Fatal("passed before any run")
	}
	steps := []struct {
		name    string
		results []store.SmokeResult
		passed  bool
		note    string
	}{
		{"one failed", smokeResults(c, true, false), false, "smoke checks: 1 of 2 passed"},
		{"all passed", smokeResults(c, true, true), true, "smoke checks: 2 of 2 passed"},
		{"fewer results than checks", smokeResults(c, true), false, "smoke checks: 1 of 1 passed"},
		{"results of other URLs", []store.SmokeResult{{URL: "https://other.example/", OK: true}, {URL: c.SmokeChecks[1].URL, OK: true}}, false, "smoke checks: 2 of 2 passed"},
		{"results out of order", []store.SmokeResult{{URL: c.SmokeChecks[1].URL, OK: true}, {URL: c.SmokeChecks[0].URL, OK: true}}, false, "smoke checks: 2 of 2 passed"},
	}
	for _, s := range steps {
		if err := c.RecordSmoke(s.results, crSupport, crAt(8)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := c.SmokePassed(); got != s.passed {
			t.Errorf("%s: SmokePassed = %v, want %v", s.name, got, s.passed)
		}
		if last := c.History[len(c.History)-1]; last.Note != s.note || last.From != last.To {
			t.Errorf("%s: history %+v, want note %q without a state change", s.name, last, s.note)
		}
	}
	// Passed results stop counting once the checks are edited.
	if err := c.RecordSmoke(smokeResults(c, true, true), crSupport, crAt(9)); err != nil || !c.SmokePassed() {
		t.Fatalf("all passed: %v", err)
	}
	edited := twoChecks()
	edited[1].URL = "https://203.0.113.10/logout"
	if err := c.SetSmokeChecks(edited, crSupport, crAt(10)); err != nil || c.SmokePassed() {
		t.Fatalf("after editing the checks: err %v, passed %v; want not passed", err, c.SmokePassed())
	}

	p := crIn(t, store.ChangeProvisioning)
	if err := p.RecordSmoke(smokeResults(c, true, true), crSupport, crAt(8)); !errors.Is(err, store.ErrWrongState) || p.SmokeResults != nil {
		t.Fatalf("results in provisioning: %v, %v", err, p.SmokeResults)
	}
}

func TestWaive(t *testing.T) {
	c := smokeTesting(t)
	for _, reason := range []string{"", "  \n "} {
		if err := c.Waive(crSupport, reason, crAt(8)); !errors.Is(err, store.ErrReasonRequired) || c.SmokeWaiver != nil {
			t.Fatalf("waive with reason %q: %v, waiver %v", reason, err, c.SmokeWaiver)
		}
	}
	if err := c.Waive(crSupport, strings.Repeat("r", 3001), crAt(8)); !errors.Is(err, store.ErrInvalidChange) || c.SmokeWaiver != nil {
		t.Fatalf("waive with a 3001-character reason: %v", err)
	}
	if err := c.Waive(crAdmin, "  checked by hand: login needs the VPN ", crAt(8)); err != nil {
		t.Fatal(err)
	}
	w := c.SmokeWaiver
	if w == nil || w.By != crAdmin || w.Reason != "checked by hand: login needs the VPN" || !w.At.Equal(crAt(8)) {
		t.Fatalf("waiver = %+v", w)
	}
	if last := c.History[len(c.History)-1]; last.Note != "smoke checks waived: checked by hand: login needs the VPN" || c.State != store.ChangeSmokeTesting {
		t.Fatalf("history %+v, state %s", last, c.State)
	}
	if err := c.CutOverAllowed(); err != nil {
		t.Fatalf("cut-over after a waiver: %v", err)
	}
	for _, s := range []store.ChangeState{store.ChangeProvisioning, store.ChangeCutOver, store.ChangeCancelled} {
		o := crIn(t, s)
		if err := o.Waive(crAdmin, "because", crAt(20)); !errors.Is(err, store.ErrWrongState) {
			t.Errorf("waive in %s: %v, want a state refusal", s, err)
		}
	}
}

const crAdmin = "UADMIN"

func TestCutOverAllowedAndRefusedBeforeSmokePassed(t *testing.T) {
	c := smokeTesting(t)
	if err := c.CutOverAllowed(); !errors.Is(err, store.ErrSmokeNotPassed) {
		t.Fatalf("CutOverAllowed before a run = %v", err)
	}
	if err := c.CutOver(crSupport, crAt(8)); !errors.Is(err, store.ErrSmokeNotPassed) || c.State != store.ChangeSmokeTesting {
		t.Fatalf("CutOver before the checks passed: %v, state %s", err, c.State)
	}
	if err := c.KeepDNS([]byte(`{"a":1}`), crSupport, crAt(8)); !errors.Is(err, store.ErrSmokeNotPassed) || c.DNS != nil {
		t.Fatalf("KeepDNS before the checks passed: %v, DNS %+v", err, c.DNS)
	}
	if err := c.RecordSmoke(smokeResults(c, true, false), crSupport, crAt(8)); err != nil {
		t.Fatal(err)
	}
	if err := c.CutOver(crSupport, crAt(8)); !errors.Is(err, store.ErrSmokeNotPassed) {
		t.Fatalf("CutOver with a failed check: %v", err)
	}
	if err := c.RecordSmoke(smokeResults(c, true, true), crSupport, crAt(9)); err != nil {
		t.Fatal(err)
	}
	if err := c.CutOverAllowed(); err != nil {
		t.Fatalf("CutOverAllowed after all passed: %v", err)
	}
	if err := c.CutOver(crSupport, crAt(10)); err != nil || c.State != store.ChangeCutOver {
		t.Fatalf("CutOver after all passed: %v, state %s", err, c.State)
	}
}

func TestKeepDNSKeepsTheFirstSet(t *testing.T) {
	c := smokeTesting(t)
	if err := c.RecordSmoke(smokeResults(c, true, true), crSupport, crAt(8)); err != nil {
		t.Fatal(err)
	}
	first := []byte(`[{"Name":"www.acme.example.","Type":"A","Values":["198.51.100.7"]}]`)
	if err := c.KeepDNS(first, crSupport, crAt(9)); err != nil {
		t.Fatal(err)
	}
	first[2] = 'X' // the caller's buffer is not the kept copy
	if got := string(c.DNS.Kept); got != `[{"Name":"www.acme.example.","Type":"A","Values":["198.51.100.7"]}]` {
		t.Fatalf("kept %s", got)
	}
	events := len(c.History)
	c.CutOverFailed(crSupport, "Route 53 throttled the change", crAt(10))
	if c.State != store.ChangeSmokeTesting || c.DNS.Failure != "Route 53 throttled the change" ||
		c.History[len(c.History)-1].Note != "cut-over failed: Route 53 throttled the change" || len(c.History) != events+1 {
		t.Fatalf("after a failed attempt: state %s, DNS %+v", c.State, c.DNS)
	}
	// The retry reads the records again, half switched: they must not
	// replace the first set. The attempt itself is logged (and so audited
	// before DNS is touched), without claiming to keep records again.
	if err := c.KeepDNS([]byte(`[{"Values":["203.0.113.10"]}]`), crSupport, crAt(11)); err != nil {
		t.Fatal(err)
	}
	last := c.History[len(c.History)-1]
	if !strings.Contains(string(c.DNS.Kept), "198.51.100.7") || c.DNS.Failure != "" || len(c.History) != events+2 ||
		last.Action != "change.cutover_begin" || strings.Contains(last.Note, "kept") {
		t.Fatalf("retry replaced the kept set or logged wrongly: %s, failure %q, %d events, last %+v", c.DNS.Kept, c.DNS.Failure, len(c.History)-events, last)
	}
	c.DNSRestored(crSupport, crAt(12))
	if !c.DNS.RestoredAt.Equal(crAt(12)) || c.History[len(c.History)-1].Note != "DNS records restored" || !strings.Contains(string(c.DNS.Kept), "198.51.100.7") {
		t.Fatalf("after restore: %+v", c.DNS)
	}
	if err := c.CutOverDone("C123ABC", crSupport, crAt(13)); err != nil {
		t.Fatal(err)
	}
	if c.State != store.ChangeCutOver || c.DNS.ChangeID != "C123ABC" || c.DNS.Failure != "" || !strings.Contains(string(c.DNS.Kept), "198.51.100.7") {
		t.Fatalf("after CutOverDone: state %s, DNS %+v", c.State, c.DNS)
	}
	// Outside smoke testing, KeepDNS is refused and DNSRestored logs nothing.
	if err := c.KeepDNS([]byte(`[]`), crSupport, crAt(14)); !errors.Is(err, store.ErrWrongState) {
		t.Fatalf("KeepDNS after the cut-over: %v", err)
	}
	events = len(c.History)
	c.DNSRestored(crSupport, crAt(15))
	if !c.DNS.RestoredAt.Equal(crAt(15)) || len(c.History) != events {
		t.Fatalf("DNSRestored after the cut-over: %+v, %d new events", c.DNS, len(c.History)-events)
	}
}

func TestCutOverDoneNeedsKeptRecords(t *testing.T) {
	c := smokeTesting(t)
	if err := c.Waive(crAdmin, "checked by hand", crAt(8)); err != nil {
		t.Fatal(err)
	}
	if err := c.CutOverDone("C1", crSupport, crAt(9)); !errors.Is(err, store.ErrNothingKept) || c.State != store.ChangeSmokeTesting {
		t.Fatalf("CutOverDone without kept records: %v, state %s", err, c.State)
	}
	c.CutOverFailed(crSupport, "zone not found", crAt(9)) // creates DNS state without kept records
	if err := c.CutOverDone("C1", crSupport, crAt(9)); !errors.Is(err, store.ErrNothingKept) {
		t.Fatalf("CutOverDone after a failure without kept records: %v", err)
	}
	var none store.ChangeRequest
	none.DNSRestored(crSupport, crAt(9)) // no DNS state: nothing to note, no panic
	if none.DNS != nil || len(none.History) != 0 {
		t.Fatalf("DNSRestored without DNS state changed the request: %+v", none)
	}
}
