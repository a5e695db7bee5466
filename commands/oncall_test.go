package commands_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

var oncallT0 = time.Now().UTC().Truncate(time.Second)

// newOncallFixture wires the real PagerDuty client against its fake.
func newOncallFixture(t *testing.T, schedules map[string]string) (*fixture, *pagerdutytest.Server) {
	t.Helper()
	fake := pagerdutytest.New(t)
	fake.AddUser("PALICE", "Alice <Ops>", "alice@example.com")
	fake.AddUser("PBOB", "Bob", "bob@example.com")
	fake.AddUser("PCAROL", "Carol", "carol@example.com")
	fake.SetOnCalls(
		pagerdutytest.OnCall{UserID: "PALICE", ScheduleID: "PSCHED1", Schedule: "Primary rota", EscalationPolicyID: "PEP1",
			EscalationPolicy: "Platform", Level: 1, Start: oncallT0.Add(-2 * time.Hour), End: oncallT0.Add(4 * time.Hour)},
		pagerdutytest.OnCall{UserID: "PBOB", EscalationPolicyID: "PEP1", EscalationPolicy: "Platform", Level: 2},
		pagerdutytest.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED2", Schedule: "Data rota", EscalationPolicyID: "PEP2",
			EscalationPolicy: "Data", Level: 1, Start: oncallT0.Add(-time.Hour), End: oncallT0.Add(8 * time.Hour)},
	)
	pd := pagerduty.New(pagerduty.Config{APIURL: fake.URL, EventsURL: fake.URL, Token: pagerdutytest.Token}, nil, nil)

	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 300 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	st := store.New(rdb, "opsbot:")
	logs := &syncBuffer{}
	r, err := commands.New(commands.Deps{
		Roles: st, Audit: st, OnCall: pd, Schedules: schedules,
		Directory:  directory{},
		Admins:     []string{admin},
		Clients:    map[string]string{"acme": "Acme Ltd"},
		SigningKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		Now:        func() time.Time { return oncallT0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, r: r, st: st, rdb: rdb, srv: srv, log: logs}, fake
}

var twoSchedules = map[string]string{"primary": "PSCHED1", "data": "PSCHED2"}

func TestOncallNamedSchedule(t *testing.T) {
	f, fake := newOncallFixture(t, twoSchedules)
	f.grant(t, stakeholderAcme, store.Grant{Role: store.Stakeholder, Client: "acme"})
	r := f.run(stakeholderAcme, "oncall Primary")
	checkLimits(t, r)
	got := text(r)
	for _, want := range []string{"On call now — primary", "*Platform*", "L1 *Alice &lt;Ops&gt;* via Primary rota until <!date^"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	// The team's e-mail addresses are for staff, not a client's stakeholder.
	if strings.Contains(got, "Carol") || strings.Contains(got, "Alice <Ops>") || strings.Contains(got, "@example.com") {
		t.Errorf("other schedule shown or name not escaped:\n%s", got)
	}
	reqs := fake.Requests()
	if q := reqs[len(reqs)-1].RawQuery; !strings.Contains(q, "PSCHED1") || strings.Contains(q, "PSCHED2") {
		t.Errorf("asked PagerDuty for %s", q)
	}
}

func TestOncallAllSchedules(t *testing.T) {
	f, _ := newOncallFixture(t, twoSchedules)
	got := text(f.run(admin, "oncall"))
	for _, want := range []string{"On call now", "*Data*", "L1 *Carol* (carol@example.com) via Data rota until <!date^", "*Platform*", "L1 *Alice"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "*Data*") > strings.Index(got, "*Platform*") {
		t.Errorf("policies not in order:\n%s", got)
	}

	// No schedules configured: everyone on call, permanent levels included.
	f, _ = newOncallFixture(t, nil)
	got = text(f.run(admin, "oncall"))
	for _, want := range []string{"L1 *Alice", "L2 *Bob* (bob@example.com) permanently", "L1 *Carol*"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "L1 *Alice") > strings.Index(got, "L2 *Bob*") {
		t.Errorf("levels not in order:\n%s", got)
	}
}

func TestOncallUnknownSchedule(t *testing.T) {
	f, fake := newOncallFixture(t, map[string]string{"primary": "PSCHED1", "secondary": "PSCHED2"})
	before := len(fake.Requests())
	got := f.run(admin, "oncall nightshift")
	if !strings.HasPrefix(got.Text, ":warning: ") || !strings.Contains(got.Text, "Schedules: `primary`, `secondary`.") ||
		!strings.Contains(got.Text, "For example: `/ops oncall primary`") || got.InChannel {
		t.Fatalf("got %q", got.Text)
	}
	if len(fake.Requests()) != before {
		t.Fatal("an unknown schedule still asked PagerDuty")
	}
	if got := f.run(admin, "oncall <!here>"); strings.Contains(got.Text, "<!here>") {
		t.Fatalf("typed name not escaped: %q", got.Text)
	}
}

func TestOncallPagerDutyErrors(t *testing.T) {
	f, fake := newOncallFixture(t, twoSchedules)
	fake.FailREST(pagerdutytest.Response{Status: 503, RetryAfter: 20 * time.Second})
	if got := f.run(admin, "oncall"); !strings.Contains(got.Text, "PagerDuty is not answering; try again in 20 seconds") {
		t.Fatalf("503: %q", got.Text)
	}
	fake.FailREST(pagerdutytest.Response{Status: 503})
	if got := f.run(admin, "oncall primary"); !strings.Contains(got.Text, "PagerDuty is not answering; try again in a minute") {
		t.Fatalf("503 without Retry-After: %q", got.Text)
	}
	fake.FailREST(pagerdutytest.Response{Status: 401})
	got := f.run(admin, "oncall")
	if !strings.Contains(got.Text, "PagerDuty rejected opsbot's API token (PAGERDUTY_TOKEN)") || strings.Contains(got.Text, pagerdutytest.Token) {
		t.Fatalf("401: %q", got.Text)
	}
	fake.SetToken("rotated")
	if got := f.run(admin, "oncall"); !strings.Contains(got.Text, "rejected opsbot's API token") {
		t.Fatalf("wrong token: %q", got.Text)
	}
	fake.SetToken(pagerdutytest.Token)
	if got := text(f.run(admin, "oncall")); !strings.Contains(got, "L1 *Alice") {
		t.Fatalf("after recovery: %s", got)
	}
}

func TestOncallNotConfigured(t *testing.T) {
	f := newFixture(t)
	got := f.run(admin, "oncall")
	if !strings.Contains(got.Text, "PagerDuty is not configured") || got.InChannel {
		t.Fatalf("got %q", got.Text)
	}
}
