package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

var findingsT0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const (
	securityUser = "USECURITY1"
	xssID        = "e26b149d-a124-44a6-a6c0-7f1e2b3c4d5e"
)

// fakeScans answers Start with what the test set.
type fakeScans struct {
	mu     sync.Mutex
	run    store.ScanRun
	err    error
	starts []string
}

func (s *fakeScans) Start(_ context.Context, client, by string) (store.ScanRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts = append(s.starts, client+"/"+by)
	return s.run, s.err
}

// fakeAlerts records resolves of finding alerts.
type fakeAlerts struct {
	mu       sync.Mutex
	resolved []string
}

func (a *fakeAlerts) Alert(context.Context, string) (store.Alert, bool, error) {
	return store.Alert{}, false, nil
}
func (a *fakeAlerts) Acknowledge(context.Context, string, string, time.Time) (store.Alert, error) {
	return store.Alert{}, nil
}
func (a *fakeAlerts) Silence(context.Context, string, string, time.Time, time.Time) (store.Alert, error) {
	return store.Alert{}, nil
}
func (a *fakeAlerts) Resolve(_ context.Context, key, by string, _ time.Time) (store.Alert, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.resolved = append(a.resolved, key+" by "+by)
	return store.Alert{Key: key}, nil
}

type findingsFixture struct {
	*fixture
	scans  *fakeScans
	alerts *fakeAlerts
}

func newFindingsFixture(t *testing.T) *findingsFixture {
	t.Helper()
	ff := &findingsFixture{scans: &fakeScans{}, alerts: &fakeAlerts{}}
	clk := &clock{t: findingsT0}
	ff.fixture = newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Findings, d.Scans, d.Alerts, d.Now = st, ff.scans, ff.alerts, clk.Now
		d.Sites, d.Silences = st, st
		d.Clients = map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co", "gamma": "Gamma"}
		d.Detectify = map[string]bool{"acme": true, "beta": true}
		d.SecurityChannel = "C0SECURITY1"
	})
	ff.grant(t, securityUser, store.Grant{Role: store.Security})
	ff.grant(t, supportUser, store.Grant{Role: store.Support})
	ff.grant(t, stakeholderAcme, store.Grant{Role: store.Stakeholder, Client: "acme"})
	ctx := context.Background()
	seed := func(client string, reports ...store.FindingReport) {
		res := store.ApplyScan(nil, reports, nil, findingsT0.Add(-time.Hour))
		ids := make([]string, 0, len(res.All))
		for id := range res.All {
			ids = append(ids, id)
		}
		if err := ff.st.SaveFindings(ctx, client, res.All, ids, &res.Summary); err != nil {
			t.Fatal(err)
		}
	}
	seed("acme",
		store.FindingReport{VendorID: xssID, Title: "Reflected <script> XSS", Severity: "high", Status: "active", Host: "shop.acme.example",
			Location: "https://shop.acme.example/search?q=", OWASP: "A03:2021 Injection", Request: "GET https://shop.acme.example/search?q=%3Csvg", ResponseStatus: 200,
			Link: "https://detectify.com/dashboard/findings/" + xssID},
		store.FindingReport{VendorID: "e26b149e-0000", Title: "Missing CSP", Severity: "medium", Status: "active", Host: "shop.acme.example"},
		store.FindingReport{VendorID: "c0ffee00-1111", Title: "Old jQuery", Severity: "low", Status: "accepted_risk", Host: "shop.acme.example"})
	seed("beta", store.FindingReport{VendorID: "beef0000-2222", Title: "Beta SQL injection", Severity: "critical", Status: "active", Host: "beta.example",
		Request: "POST https://beta.example/login"})
	return ff
}

func TestFindingsScopedToTheStakeholdersClients(t *testing.T) {
	f := newFindingsFixture(t)
	staff := text(f.run(securityUser, "findings"))
	for _, want := range []string{"Beta SQL injection", "Reflected &lt;script&gt; XSS", "`GET https://shop.acme.example/search?q=%3Csvg` → 200", "`e26b149d`", "A03:2021 Injection"} {
		if !strings.Contains(staff, want) {
			t.Errorf("staff list lacks %q:\n%s", want, staff)
		}
	}
	if strings.Index(staff, "Beta SQL injection") > strings.Index(staff, "Reflected") {
		t.Errorf("not worst first:\n%s", staff)
	}
	got := f.run(stakeholderAcme, "findings")
	checkLimits(t, got)
	own := text(got)
	if !strings.Contains(own, "Reflected &lt;script&gt; XSS") || strings.Contains(own, "Beta") || strings.Contains(own, "GET https://") || strings.Contains(own, "→ 200") {
		t.Fatalf("stakeholder list:\n%s", own)
	}
	other := text(f.run(stakeholderAcme, "findings beta"))
	if !strings.Contains(other, "is not one of the clients you can see") || strings.Contains(other, "SQL") {
		t.Fatalf("stakeholder asking for beta:\n%s", other)
	}
	if got := text(f.run(stakeholderAcme, "findings gamma")); got != other && !strings.Contains(got, "is not one of the clients you can see") {
		t.Fatalf("an unknown client is answered differently:\n%s", got)
	}
}

func TestFindingsFilters(t *testing.T) {
	f := newFindingsFixture(t)
	high := text(f.run(securityUser, "findings acme --severity high"))
	if !strings.Contains(high, "Reflected") || strings.Contains(high, "Missing CSP") {
		t.Fatalf("--severity high:\n%s", high)
	}
	if open := text(f.run(securityUser, "findings acme")); strings.Contains(open, "Old jQuery") || !strings.Contains(open, "1 accepted") {
		t.Fatalf("default list shows the accepted finding:\n%s", open)
	}
	if all := text(f.run(securityUser, "findings acme —all")); !strings.Contains(all, "Old jQuery") || !strings.Contains(all, "accepted risk at Detectify") {
		t.Fatalf("--all (typed with an em dash):\n%s", all)
	}
	for cmd, want := range map[string]string{
		"findings acme --severity urgent": "is not a severity",
		"findings acme beta":              "at most one client",
		"findings --colour":               "I don't know the option",
		"findings acme --severity":        "Say which severity",
		"findings gamma":                  "does not pay for Detectify scans",
	} {
		if got := text(f.run(securityUser, cmd)); !strings.Contains(got, want) || !strings.Contains(got, "For example") {
			t.Errorf("%s:\n%s", cmd, got)
		}
	}
}

func TestFindingsAcceptBadInputStoresNothing(t *testing.T) {
	f := newFindingsFixture(t)
	for cmd, want := range map[string]string{
		"findings accept e26b149d 400d WAF rule":        "longer than the maximum of 30 days",
		"findings accept e26b149d 30d":                  "Say why",
		"findings accept e26b149d 30d --false-positive": "calling it a false positive",
		"findings accept e26b 30d too short":            "not a finding ID",
		"findings accept e26b14 30d two match":          "starts 2 finding IDs",
		"findings accept 99999999 30d none":             "No finding has an ID starting with",
		"findings accept e26b149d soon because":         "not a duration",
		"findings accept e26b149d 30d x --fp":           "I don't know the option",
	} {
		if got := text(f.run(securityUser, cmd)); !strings.Contains(got, want) || !strings.Contains(got, "For example") {
			t.Errorf("%s:\n%s", cmd, got)
		}
	}
	for _, user := range []string{stakeholderAcme, supportUser} {
		if got := text(f.run(user, "findings accept e26b149d 30d WAF rule")); !strings.Contains(got, ":no_entry:") {
			t.Errorf("%s accepted a finding:\n%s", user, got)
		}
	}
	ov, _ := f.st.FindingsOf(context.Background(), []string{"acme"})
	if len(ov.Acceptances["acme"]) != 0 || len(f.alerts.resolved) != 0 {
		t.Fatalf("bad input changed something: %+v %v", ov.Acceptances, f.alerts.resolved)
	}
	log, _ := f.st.RecentAudit(context.Background(), 20)
	for _, e := range log {
		if strings.HasPrefix(e.Action, "finding.") {
			t.Fatalf("audited after refusals: %+v", e)
		}
	}
}

func TestFindingsAccept(t *testing.T) {
	f := newFindingsFixture(t)
	got := text(f.run(securityUser, "findings accept E26B149D 30d WAF <rule> in front --false-positive"))
	if !strings.Contains(got, "Marked as a false positive") || !strings.Contains(got, "WAF &lt;rule&gt; in front") || !strings.Contains(got, "30d") ||
		!strings.Contains(got, "Its alert is resolved") {
		t.Fatalf("accept reply:\n%s", got)
	}
	ov, _ := f.st.FindingsOf(context.Background(), []string{"acme"})
	acc := ov.Acceptances["acme"][xssID]
	if !acc.FalsePositive || acc.By != securityUser || !acc.Until.Equal(findingsT0.Add(30*24*time.Hour)) || acc.Reason != "WAF <rule> in front" {
		t.Fatalf("acceptance = %+v", acc)
	}
	if len(f.alerts.resolved) != 1 || f.alerts.resolved[0] != "finding/acme/"+xssID+" by "+securityUser {
		t.Fatalf("alert resolves = %v", f.alerts.resolved)
	}
	if log, _ := f.st.RecentAudit(context.Background(), 1); log[0].Action != "finding.false_positive" || log[0].Client != "acme" {
		t.Fatalf("audit = %+v", log)
	}
	if list := text(f.run(stakeholderAcme, "findings --all")); !strings.Contains(list, "false positive until") {
		t.Fatalf("list after accept:\n%s", list)
	}
}

func TestScanVerb(t *testing.T) {
	f := newFindingsFixture(t)
	f.scans.run = store.ScanRun{ID: "r1", Client: "acme", Profiles: []store.ScanProfileRun{{Token: "t1"}}}
	if got := text(f.run(securityUser, "scan acme")); !strings.Contains(got, "Started a Detectify scan of Acme Ltd") || !strings.Contains(got, "<#C0SECURITY1>") {
		t.Fatalf("scan:\n%s", got)
	}
	if got := text(f.run(supportUser, "scan ac")); !strings.Contains(got, "Started") {
		t.Fatalf("support scan by prefix:\n%s", got)
	}
	for user, cmd := range map[string]string{stakeholderAcme: "scan acme"} {
		if got := text(f.run(user, cmd)); !strings.Contains(got, ":no_entry:") {
			t.Fatalf("%s may scan:\n%s", user, got)
		}
	}
	for cmd, want := range map[string]string{
		"scan":         "Name the one client",
		"scan zeta":    "I don't know a client called",
		"scan gamma":   "does not pay for Detectify scans",
		"scan acme xx": "Name the one client",
	} {
		if got := text(f.run(securityUser, cmd)); !strings.Contains(got, want) {
			t.Errorf("%s:\n%s", cmd, got)
		}
	}
	if len(f.scans.starts) != 2 {
		t.Fatalf("starts = %v; bad input must start nothing", f.scans.starts)
	}
	f.scans.err = &integrations.ScanRefusedError{Client: "acme", Reasons: map[string]string{"t1": "the domain acme.example is not verified at Detectify"}, NotVerified: []string{"t1"}}
	if got := text(f.run(securityUser, "scan acme")); !strings.Contains(got, "not verified") || !strings.Contains(got, "nothing was started") {
		t.Fatalf("423:\n%s", got)
	}
	f.scans.err = store.ErrScanRunExists
	if got := text(f.run(securityUser, "scan acme")); !strings.Contains(got, "already running") {
		t.Fatalf("running:\n%s", got)
	}
	f.scans.err = &integrations.RetryableError{Op: "x", StatusCode: 503, Err: errors.New("busy")}
	if got := text(f.run(securityUser, "scan acme")); !strings.Contains(got, "not answering") {
		t.Fatalf("503:\n%s", got)
	}
	if got := text(f.run(securityUser, "help scan")); !strings.Contains(got, "/ops scan <client>") {
		t.Fatalf("help scan:\n%s", got)
	}
	if got := text(f.run(securityUser, "findings help")); !strings.Contains(got, "findings accept <id> <duration> <reason> [--false-positive]") {
		t.Fatalf("findings help:\n%s", got)
	}
}

func TestStatusSaysWhetherScansArePaidFor(t *testing.T) {
	f := newFindingsFixture(t)
	if got := text(f.run(stakeholderAcme, "status acme")); !strings.Contains(got, "Detectify: 3 open findings (1 high, 1 medium, 1 low)") {
		t.Fatalf("status acme:\n%s", got)
	}
	if got := text(f.run(securityUser, "status gamma")); !strings.Contains(got, "Detectify: not paid for") {
		t.Fatalf("status gamma:\n%s", got)
	}
}
