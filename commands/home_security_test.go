package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

const homeSecurity = "USECURITY1"

// homeSecurityDeps wires what the security and admin parts of Home read:
// findings (acme and beta pay for scans, gamma does not), Shield (acme
// advanced, beta standard), training for engineers, support and security,
// and launch checklists.
func homeSecurityDeps(d *commands.Deps, st *store.Store) {
	d.Clients = map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co", "gamma": "Gamma"}
	d.Findings, d.Detectify = st, map[string]bool{"acme": true, "beta": true}
	d.Shield, d.ShieldLevels = st, map[string]string{"acme": "advanced", "beta": "standard"}
	d.Training = st
	d.TrainingSettings = commands.TrainingSettings{Who: []store.Role{store.Engineer, store.Support, store.Security},
		Rules: store.TrainingRules{ValidFor: 365 * 24 * time.Hour, DueSoon: 30 * 24 * time.Hour}, Take: func() string { return "" }, Location: time.UTC}
	d.Checklists = st
}

// seedHomeSecurity stores findings of every kind, a Shield check with gaps,
// the team's training (one overdue, one never trained, one current), a
// launch held back by red items and one ready whose waiver ends this week.
func seedHomeSecurity(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	f.grant(t, homeSecurity, store.Grant{Role: store.Security})
	seen := homeT0.Add(-9 * 24 * time.Hour)
	seed := func(client string, reports ...store.FindingReport) {
		t.Helper()
		res := store.ApplyScan(nil, reports, nil, seen)
		ids := make([]string, 0, len(res.All))
		for id := range res.All {
			ids = append(ids, id)
		}
		res.Summary.At = homeT0.Add(-2 * time.Hour)
		if err := f.st.SaveFindings(ctx, client, res.All, ids, &res.Summary); err != nil {
			t.Fatal(err)
		}
	}
	seed("acme",
		store.FindingReport{VendorID: "e26b149d-a124-44a6-a6c0-000000000001", Title: "Reflected <script> XSS", Severity: "high", Status: "active",
			Host: "shop.acme.example", Location: "https://shop.acme.example/search?q=", Link: "https://detectify.com/dashboard/findings/e26b149d"},
		store.FindingReport{VendorID: "e26b149e-0000", Title: "Missing CSP", Severity: "medium", Status: "active", Host: "shop.acme.example"},
		store.FindingReport{VendorID: "c0ffee00-1111", Title: "Old TLS", Severity: "high", Status: "accepted_risk", Host: "shop.acme.example"})
	seed("beta", store.FindingReport{VendorID: "beef0000-2222", Title: "SQL injection in login", Severity: "critical", Status: "active",
		Host: "beta.example", Location: "https://beta.example/login"})
	seed("gamma", store.FindingReport{VendorID: "9a9a0000-3333", Title: "Gamma secret finding", Severity: "critical", Status: "active", Host: "gamma.example"})

	if _, err := f.st.UpdateShield(ctx, "acme", homeT0.Add(-5*time.Hour), func(store.ShieldRecord) (store.ShieldRecord, []store.OutboxItem, error) {
		return store.ShieldRecord{TakenAt: homeT0.Add(-5 * time.Hour), Advanced: true, Subscription: "ACTIVE", Protections: 1, Instances: []store.ShieldInstance{
			{ID: "i-0web1", Name: "web-1", Region: "eu-west-1", PublicIP: "203.0.113.10", Allocations: []string{"eipalloc-01"}, Verdict: "unprotected"},
			{ID: "i-0web2", Name: "web-2", Region: "eu-west-1", PublicIP: "203.0.113.11", Verdict: "unprotectable"},
			{ID: "i-0db1", Name: "db-1", Region: "eu-west-1", Verdict: "private"},
		}}, nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	if err := f.st.SaveTrainingSync(ctx, store.TrainingSync{At: homeT0.Add(-6 * time.Hour),
		Courses: map[string]string{"101": "Secure Coding"},
		Emails:  map[string]string{homeEngineer: "eng@example.com", homeSupport: "support@example.com", homeSecurity: "sec@example.com"},
		People: map[string]store.UdemyPerson{
			"eng@example.com":     {Completions: map[string]time.Time{"101": homeT0.Add(-400 * 24 * time.Hour)}},
			"support@example.com": {Completions: map[string]time.Time{"101": homeT0.Add(-100 * 24 * time.Hour)}},
			"sec@example.com":     {},
		}}); err != nil {
		t.Fatal(err)
	}

	specs := []store.ItemSpec{
		{Key: "owasp", Title: "OWASP scan clean", Kind: store.ItemKindVerified, Check: "owasp"},
		{Key: "shield", Title: "Shield protects the public endpoints", Kind: store.ItemKindVerified, Check: "shield"},
		{Key: "backup", Title: "Backups restored once", Kind: store.ItemKindAttested, Role: store.Support},
		{Key: "pentest", Title: "Penetration test", Kind: store.ItemKindAttested, Role: store.Security},
	}
	blocked, err := store.NewChecklist("L-1", "acme", "default", specs, nil, homeSupport, homeT0.Add(-3*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	blocked.Channel, blocked.MessageTS = "C0LAUNCH01", "1763630000.000100"
	blocked.Items[0].State, blocked.Items[0].Detail, blocked.Items[0].At = store.ItemFailing, "1 open high finding: Reflected <script> XSS", homeT0.Add(-time.Hour)
	blocked.Items[1].State, blocked.Items[1].Detail, blocked.Items[1].At = store.ItemFailing, "web-1 has an unprotected Elastic IP", homeT0.Add(-time.Hour)
	blocked.Items[2].State, blocked.Items[2].By, blocked.Items[2].At = store.ItemAttested, homeSupport, homeT0.Add(-2*time.Hour)
	ready, err := store.NewChecklist("L-2", "beta", "default", specs, nil, homeSupport, homeT0.Add(-10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ready.Items[:3] {
		ready.Items[i].State, ready.Items[i].At = store.ItemVerified, homeT0.Add(-time.Hour)
	}
	ready.Items[3].State, ready.Items[3].Detail = store.ItemFailing, "no report yet"
	ready.Items[3].Waiver = &store.ItemWaiver{Category: "business priority", Reason: "pentest booked for <January>", Expires: homeT0.Add(3*24*time.Hour + 2*time.Hour),
		AskedBy: homeSecurity, AskedAt: homeT0.Add(-5 * 24 * time.Hour), ApprovedBy: admin, ApprovedAt: homeT0.Add(-4 * 24 * time.Hour)}
	for _, cl := range []*store.Checklist{blocked, ready} {
		if err := f.st.CreateChecklist(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
}

func homeJSON(t *testing.T, f *fixture, user string) string {
	t.Helper()
	view, err := f.r.Home(context.Background(), commands.User{ID: user})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// Security's Home: the open high and critical findings of the clients that
// pay for scans (not medium, not accepted, not gamma's: it has no
// detectify block), Shield gaps, who is overdue; no launches (admin only).
func TestHomeSecuritySections(t *testing.T) {
	f := newHomeFixture(t)
	sec := homeJSON(t, f, homeSecurity)
	for _, want := range []string{
		"Security: open high and critical findings (2)", "Acme Ltd (`acme`): 1 high", "Beta \\u0026amp; Co (`beta`): 1 critical",
		"SQL injection in login", "Reflected \\u0026lt;script\\u0026gt; XSS", "open since \\u003c!date^", "(9d)",
		"`/ops findings --severity high` lists them all",
		"Security: Shield gaps (2)", "web-1 (i-0web1, eu-west-1)", "web-2 (i-0web2, eu-west-1)", "`/ops shield \\u003cclient\\u003e`",
		"Security: training overdue (2)", "\\u003c@UENGINEER1\\u003e — Secure Coding completed", "\\u003c@USECURITY1\\u003e — never trained",
		"2 of the 3 people who must be trained are overdue", "`/ops training` lists the team",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("security's Home lacks %q", want)
		}
	}
	for _, not := range []string{"Missing CSP", "Old TLS", "Gamma secret finding", "db-1", "\\u003c@USUPPORT01\\u003e — Secure", "Launches blocked", "Waivers expiring"} {
		if strings.Contains(sec, not) {
			t.Errorf("security's Home shows %q", not)
		}
	}
	if i, j := strings.Index(sec, "SQL injection"), strings.Index(sec, "Reflected"); i > j {
		t.Errorf("the critical finding is not listed before the high one")
	}
	for _, user := range []string{homeSupport, homeFinance, homeStakeholder, homeEngineer, homeNobody} {
		if h := homeJSON(t, f, user); strings.Contains(h, "Security:") || strings.Contains(h, "Launches blocked") {
			t.Errorf("%s sees the security or admin part of Home", user)
		}
	}
}

// The admin's Home adds the launches held back, their red items named, with
// the launch's own Re-verify button, and the waivers ending this week.
func TestHomeAdminLaunches(t *testing.T) {
	f := newHomeFixture(t)
	adm := homeJSON(t, f, admin)
	for _, want := range []string{
		"Security: open high and critical findings (2)",
		"Launches blocked (1)", "L-1\\u003e Acme Ltd (`acme`) — 1/4 ready", "❌ *OWASP scan clean*: 1 open high finding: Reflected \\u0026lt;script\\u0026gt; XSS",
		"❌ *Shield protects the public endpoints*: web-1 has an unprotected Elastic IP", "⏳ not checked yet: Penetration test",
		"🟢 1 ready to sign off.", `"action_id":"checklist.reverify","value":"L-1"`,
		"Waivers expiring this week (1)", "*Penetration test* waived until", "(in 3d 2h)", "business priority: pentest booked for \\u0026lt;January\\u0026gt;",
		"asked by \\u003c@USECURITY1\\u003e, approved by \\u003c@UADMIN0001\\u003e",
	} {
		if !strings.Contains(adm, want) {
			t.Errorf("the admin's Home lacks %q", want)
		}
	}
	if strings.Contains(adm, `"value":"L-2"`) {
		t.Errorf("a launch ready to sign off got a Re-verify button")
	}
}

// The Re-verify button on Home is the message's: its route and guard apply.
// Security may re-verify; a stakeholder of another client is told there is
// no such checklist, and nothing starts.
func TestHomeReverifyButtonUsesTheMessagesGuard(t *testing.T) {
	f := newHomeFixture(t)
	r := f.r.Action(context.Background(), commands.Action{User: commands.User{ID: homeStakeholder}, ActionID: "checklist.reverify", Value: "L-1"})
	if !strings.Contains(text(r), "no launch checklist L-1 that you can see") {
		t.Errorf("a stakeholder of beta pressing Re-verify L-1: %q", text(r))
	}
	if cl, err := f.st.GetChecklist(context.Background(), "L-1"); err != nil || cl.Run != nil {
		t.Errorf("a refused Re-verify started a run: %+v, %v", cl.Run, err)
	}
}

// Accepting a finding's risk and recording training change what Home shows
// (open findings, who is overdue), so each refreshes it through the same
// signal as a queued message.
func TestHomeRefreshedAfterAcceptAndTrainingRecord(t *testing.T) {
	var nudges atomic.Int32
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Now = func() time.Time { return homeT0 }
		homeSecurityDeps(d, st)
		d.Nudge = func() { nudges.Add(1) }
	})
	f.grant(t, homeEngineer, store.Grant{Role: store.Engineer})
	seedHomeSecurity(t, f)
	before := homeJSON(t, f, homeSecurity)
	if r := text(f.run(homeSecurity, "findings accept e26b149d 7d fix deployed on Monday")); !strings.Contains(r, "Accepted the risk") {
		t.Fatalf("findings accept: %s", r)
	}
	if n := nudges.Load(); n != 1 {
		t.Errorf("%d refreshes after an acceptance, want 1", n)
	}
	if r := text(f.run(homeSecurity, "training record <@UENGINEER1> owasp 2026-11-19 certificate https://x.example/1")); !strings.Contains(r, "Recorded") {
		t.Fatalf("training record: %s", r)
	}
	if n := nudges.Load(); n != 2 {
		t.Errorf("%d refreshes after a recorded training, want 2", n)
	}
	after := homeJSON(t, f, homeSecurity)
	for _, c := range []struct{ before, after string }{
		{"open high and critical findings (2)", "open high and critical findings (1)"},
		{"training overdue (2)", "training overdue (1)"},
	} {
		if !strings.Contains(before, c.before) || !strings.Contains(after, c.after) {
			t.Errorf("Home before %q, after %q: not so\n%s", c.before, c.after, after)
		}
	}
}

// The console (no Home tab) prints the admin's Home as a message, security
// and launches included, within a message's 50 blocks.
func TestHomeAdminInTheConsole(t *testing.T) {
	f := newHomeFixture(t)
	r := f.run(admin, "home")
	got := text(r)
	if len(r.Blocks) == 0 || len(r.Blocks) > 50 {
		t.Fatalf("/ops home: %d blocks", len(r.Blocks))
	}
	for _, want := range []string{"Security: Shield gaps (2)", "Launches blocked (1)", "Waivers expiring this week (1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the admin's Home in the console lacks %q:\n%s", want, got)
		}
	}
}

// /ops training for security: the summary, then the team as one Block Kit
// table, worst first, that Slack takes in a message.
func TestTrainingTeamAsATable(t *testing.T) {
	f := newHomeFixture(t)
	r := f.run(homeSecurity, "training") // checkReply: within Slack's message rules
	if !strings.Contains(text(r), "3 people: 1 current, 0 due soon, 2 overdue, 0 unmatched.") {
		t.Errorf("summary: %s", text(r))
	}
	tbl, ok := r.Blocks[len(r.Blocks)-1].(*slack.TableBlock)
	if !ok {
		t.Fatalf("last block %T, want the team table", r.Blocks[len(r.Blocks)-1])
	}
	raw, _ := json.Marshal(tbl)
	got := string(raw)
	for _, want := range []string{`"text":"Person"`, `"user_id":"USECURITY1"`, `"text":"🔴 overdue"`, `"text":"🟢 current"`, `"text":"Secure Coding (udemy)"`,
		`"type":"date","timestamp":` + fmt.Sprint(homeT0.Add(-100*24*time.Hour).Unix())} {
		if !strings.Contains(got, want) {
			t.Errorf("the table lacks %s:\n%s", want, got)
		}
	}
	if len(tbl.Rows) != 4 || strings.Index(got, "🟢 current") < strings.Index(got, "🔴 overdue") {
		t.Errorf("rows: want the header and 3 people, worst first:\n%s", got)
	}
}
