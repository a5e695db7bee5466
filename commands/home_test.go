package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var homeT0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The people of the seeded state, one per role.
const (
	homeSupport     = "USUPPORT01"
	homeFinance     = "UFINANCE01"
	homeStakeholder = "USTAKEBETA"
	homeEngineer    = "UENGINEER1"
	homeNobody      = "UNOBODY001"
)

type onCalls []integrations.OnCall

func (o onCalls) OnCalls(context.Context, []string, time.Time) ([]integrations.OnCall, error) {
	return o, nil
}

// newHomeFixture seeds one state every role's Home is drawn from: alerts
// of each kind, a change waiting for approvals, one in its window, a
// silence, costs against quotes, who is on call.
func newHomeFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Now = func() time.Time { return homeT0 }
		d.Sites, d.Silences, d.Changes, d.Costs, d.ChangeLog = st, st, st, st, st
		d.SLATargets = map[string]float64{"acme": 99.9, "beta": 99.5}
		d.CostQuotes = map[string]float64{"acme": 1200, "beta": 800}
		d.OnCall = onCalls{{Schedule: "Primary", EscalationPolicy: "Ops", Level: 1, UserName: "Alice Example"}}
		d.Schedules = map[string]string{"primary": "PPRIMARY"}
		d.ChangeSettings = commands.ChangeSettings{Channel: "C0SUPPORT", FinanceChannel: "C0FINANCE"}
		homeSecurityDeps(d, st)
	})
	f.grant(t, homeSupport, store.Grant{Role: store.Support})
	f.grant(t, homeFinance, store.Grant{Role: store.Finance})
	f.grant(t, homeStakeholder, store.Grant{Role: store.Stakeholder, Client: "beta"})
	f.grant(t, homeEngineer, store.Grant{Role: store.Engineer})
	seedHomeSecurity(t, f)
	ctx := context.Background()
	al := jobs.NewAlerter(f.st, nil)
	fire := func(subj jobs.Subject, why string, at time.Time) {
		t.Helper()
		subj.Thresholds = store.Thresholds{FailAfter: 1, RecoverAfter: 1}
		if _, err := al.Observe(ctx, subj, false, why, at, false); err != nil {
			t.Fatal(err)
		}
	}
	site := func(client, name string) jobs.Subject {
		return jobs.Subject{Key: "uptime/" + client + "/" + name, Monitor: "uptime", Client: client, ClientName: map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co"}[client],
			Name: name, Site: name, Channel: "C0ALERTS", PagerRef: client}
	}
	fire(site("acme", "www"), "HTTP 503 from UKCON2 (StatusCake)", homeT0.Add(-40*time.Minute))
	fire(site("acme", "api"), "timeout after 10s", homeT0.Add(-25*time.Minute))
	if _, err := al.Acknowledge(ctx, "uptime/acme/api", homeSupport, homeT0.Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	fire(jobs.Subject{Key: jobs.ServerAlertKey("beta", "i-0beta", "cpu"), Monitor: "server", Client: "beta", ClientName: "Beta & Co",
		Name: "shop-1 (i-0beta) CPU", Site: "i-0beta", Channel: "C0SUPPORT", PagerRef: "beta"}, "CPU 97 % is above the 90 % threshold", homeT0.Add(-2*time.Hour))
	if err := al.Raise(ctx, jobs.Subject{Key: "sla/beta/shop/2026-11", Monitor: "sla", Client: "beta", ClientName: "Beta & Co", Name: "shop", Site: "shop",
		Channel: "C0ALERTS", PagerRef: "beta"}, "uptime 99.312 % against a target of 99.5 % in 2026-11", homeT0.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []store.SiteStatus{
		{Key: "uptime/acme/www", Client: "acme", Site: "www", Source: "statuscake", State: "down", LastChecked: homeT0},
		{Key: "uptime/acme/api", Client: "acme", Site: "api", Source: "probe", State: "down", LastChecked: homeT0},
		{Key: "uptime/beta/shop", Client: "beta", Site: "shop", Source: "probe", State: "up", LastChecked: homeT0},
		{Key: "uptime/beta/www", Client: "beta", Site: "www", Source: "probe", State: "up", LastChecked: homeT0},
	} {
		if _, _, err := f.st.RecordCheck(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for key, pct := range map[string]float64{"uptime/beta/shop": 99.312, "uptime/beta/www": 100} {
		if err := f.st.SetMonthUptime(ctx, key, "2026-11", pct); err != nil {
			t.Fatal(err)
		}
	}
	waiting, err := store.NewChangeRequest("CR-1", "beta", "Bigger shop database", "Checkout slow at peak", "", homeEngineer, homeT0.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := waiting.Investigate(homeSupport, homeT0.Add(-47*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := waiting.Propose(store.Proposal{Plan: "db.m6g.large", Magnitude: store.MagnitudeMinor, CurrentMonthly: 60000, ProposedMonthly: 72000,
		Measured: &store.CostMeasure{Monthly: 60000, At: homeT0.Add(-47 * time.Hour)}}, nil, homeSupport, homeT0.Add(-46*time.Hour)); err != nil {
		t.Fatal(err)
	}
	inWindow := &store.ChangeRequest{ID: "CR-2", Client: "acme", Title: "New web cluster", RequestedBy: homeEngineer, State: store.ChangeProvisioning,
		CreatedAt: homeT0.Add(-72 * time.Hour), Proposal: &store.Proposal{Plan: "blue/green", Magnitude: store.MagnitudeMajor, Version: 1,
			WindowStart: homeT0.Add(-time.Hour), WindowEnd: homeT0.Add(2 * time.Hour)}}
	for _, cr := range []*store.ChangeRequest{waiting, inWindow} {
		if err := f.st.CreateChange(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.AddSilence(ctx, store.Silence{Client: "acme", Site: "blog", Reason: "migrating the blog", CreatedBy: homeSupport,
		Start: homeT0.Add(-time.Hour), End: homeT0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cost := func(mtd, forecast float64) store.CostSnapshot {
		return store.CostSnapshot{Currency: "USD", FetchedAt: homeT0.Add(-time.Hour), Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			Days: []store.CostDay{{Day: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Amount: mtd}}, MonthToDate: mtd, Forecast: forecast, HasForecast: true}
	}
	for k, s := range map[string]store.CostSnapshot{"acme": cost(790.5, 1185.75), "beta": cost(602.25, 903.4)} {
		if err := f.st.SaveCostSnapshot(ctx, k, s); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// Every role's Home from one seeded state: the golden view (rewrite with
// go test ./commands -run TestHomeGolden -update), accepted by the fake
// Slack's views.publish (which refuses what Slack refuses: over 100 blocks,
// texts over their limits, anything but a Home view).
func TestHomeGolden(t *testing.T) {
	f := newHomeFixture(t)
	fake := slacktest.New(t)
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	for _, tt := range []struct{ role, user string }{
		{"admin", admin}, {"support", homeSupport}, {"finance", homeFinance}, {"stakeholder", homeStakeholder},
		{"engineer", homeEngineer}, {"no-role", homeNobody}, {"security", homeSecurity},
	} {
		t.Run(tt.role, func(t *testing.T) {
			view, err := f.r.Home(context.Background(), commands.User{ID: tt.user})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(view.Blocks.BlockSet); n > 100 {
				t.Fatalf("%d blocks; a Home view holds 100", n)
			}
			if _, err := api.PublishViewContext(context.Background(), slack.PublishViewContextRequest{UserID: tt.user, View: view}); err != nil {
				t.Fatalf("views.publish refused it: %v", err)
			}
			got, err := json.MarshalIndent(view, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "home", tt.role+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("%s's Home differs from %s (run with -update if the change is right):\n%s", tt.role, golden, got)
			}
		})
	}
}

// What each role sees, and does not see, in words.
func TestHomeByRole(t *testing.T) {
	f := newHomeFixture(t)
	flat := func(user string) string {
		view, err := f.r.Home(context.Background(), commands.User{ID: user})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(view)
		return string(raw)
	}
	support := flat(homeSupport)
	for _, want := range []string{"Sites down and incidents open (3)", "Acme Ltd — www*: HTTP 503", `acknowledged by \u003c@USUPPORT01\u003e`,
		"SLA breached", "Servers in breach (1)", "Changes in flight (1)", "CR-2", "Freezes and silences (2)", "change window of *CR-2*", "Alice Example"} {
		if !strings.Contains(support, want) {
			t.Errorf("support's Home lacks %q", want)
		}
	}
	finance := flat(homeFinance)
	for _, want := range []string{"Approvals waiting for you as finance (1)", `"action_id":"change_approve","value":"CR-1|1"`, "Cost against the quote",
		"forecast $1,185.75 of the $1,200.00 quote", "Change log, November 2026"} {
		if !strings.Contains(finance, want) {
			t.Errorf("finance's Home lacks %q", want)
		}
	}
	if strings.Contains(finance, "Sites down") {
		t.Errorf("finance sees the incidents list")
	}
	stake := flat(homeStakeholder)
	for _, want := range []string{"Approvals waiting for you as stakeholder (1)", "Your clients", `Beta \u0026amp; Co: 2 up, 0 down`, "lowest uptime this month 99.31 %", "below target"} {
		if !strings.Contains(stake, want) {
			t.Errorf("the stakeholder's Home lacks %q", want)
		}
	}
	if strings.Contains(stake, "Acme") {
		t.Errorf("a stakeholder of beta sees acme")
	}
	eng := flat(homeEngineer)
	if !strings.Contains(eng, "Your open change requests") || !strings.Contains(eng, "waits for the approval of stakeholder and finance") || strings.Contains(eng, "change_approve") {
		t.Errorf("the engineer's Home: %s", eng)
	}
	if nobody := flat(homeNobody); !strings.Contains(nobody, "You have no role yet") || strings.Contains(nobody, "Acme") {
		t.Errorf("Home of someone without a role: %s", nobody)
	}
}

// The console shows Home as text; within a message's limits.
func TestHomeCommandInTheConsole(t *testing.T) {
	f := newHomeFixture(t)
	r := f.run(homeSupport, "home")
	if len(r.Blocks) == 0 || len(r.Blocks) > 50 || !strings.Contains(text(r), "Sites down and incidents open (3)") {
		t.Fatalf("/ops home: %d blocks\n%s", len(r.Blocks), text(r))
	}
}
