package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

const pdKey = "R0123456789abcdef0123456789abcde"

type emails map[string]string

func (e emails) UserEmail(_ context.Context, id string) (string, error) { return e[id], nil }

// alertFixture is the router with the real Alerter on Redis and the real
// PagerDuty client against its fake; alice is support with a PagerDuty user.
type alertFixture struct {
	*fixture
	al *jobs.Alerter
	pd *pagerdutytest.Server
	pc *pagerduty.Client
}

func newAlertFixture(t *testing.T) *alertFixture {
	t.Helper()
	pd := pagerdutytest.New(t)
	pd.AddUser("PALICE1", "Alice", "alice@example.com")
	pc := pagerduty.New(pagerduty.Config{APIURL: pd.URL, EventsURL: pd.URL, Token: pagerdutytest.Token}, nil, nil)
	var al *jobs.Alerter
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		al = jobs.NewAlerter(st, nil)
		d.Alerts, d.Incidents, d.Emails, d.Silences = al, pc, emails{"UALICE0001": "alice@example.com"}, st
	})
	f.grant(t, "UALICE0001", store.Grant{Role: store.Support})
	return &alertFixture{fixture: f, al: al, pd: pd, pc: pc}
}

// fire makes subj fire now and opens its incident at the fake PagerDuty
// (the outbox's job in production).
func (f *alertFixture) fire(t *testing.T, subj jobs.Subject, why string) store.Alert {
	t.Helper()
	ctx := context.Background()
	subj.Thresholds = store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	if _, err := f.al.Observe(ctx, subj, false, why, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	a, _, _ := f.al.Alert(ctx, subj.Key)
	if err := f.pc.Send(ctx, integrations.Alert{RoutingKey: pdKey, Action: "trigger", DedupKey: a.DedupKey(), Summary: why,
		Source: subj.Name, Severity: integrations.SeverityCritical}); err != nil {
		t.Fatal(err)
	}
	return a
}

var wwwSubject = jobs.Subject{Key: "uptime/acme/www", Monitor: "uptime", Client: "acme", ClientName: "Acme Ltd", Name: "www",
	Site: "www", URL: "https://www.acme.example/", Channel: "C0ACMEALRT", PagerRef: "acme"}

// The reply says what was done at PagerDuty in plain English
// ("acknowledged", not "acknowledgd").
func TestAlertButtonsSayWhatPagerDutyDid(t *testing.T) {
	f := newAlertFixture(t)
	f.fire(t, wwwSubject, "HTTP 503")
	if got := f.click("UALICE0001", "alert_ack", "uptime/acme/www").Text; !strings.Contains(got, "PagerDuty incident #1 acknowledged as alice@example.com.") {
		t.Fatalf("ack reply = %q", got)
	}
	if got := f.click("UALICE0001", "alert_resolve", "uptime/acme/www").Text; !strings.Contains(got, "PagerDuty incident #1 resolved as alice@example.com.") {
		t.Fatalf("resolve reply = %q", got)
	}
}

// Server alerts' keys have four parts; their buttons work like a site's.
func TestServerAlertButtonsWork(t *testing.T) {
	f := newAlertFixture(t)
	key := jobs.ServerAlertKey("acme", "i-0abc123", "status")
	subj := jobs.Subject{Key: key, Monitor: "server", Client: "acme", ClientName: "Acme Ltd", Name: "web-1 (i-0abc123) status checks",
		Site: "i-0abc123", Channel: "C0SUPPORT1", PagerRef: "acme"}
	f.fire(t, subj, "EC2 status checks failed")
	if got := f.click("UALICE0001", "alert_ack", key).Text; !strings.Contains(got, "Acknowledged *web-1 (i-0abc123) status checks*") {
		t.Fatalf("ack of a server alert = %q", got)
	}
	if a, _, _ := f.al.Alert(context.Background(), key); a.Status != store.AlertAcknowledged || a.AckedBy != "UALICE0001" {
		t.Fatalf("server alert after ack: %+v", a)
	}
	for _, forged := range []string{"server/acme/i-0abc123/status/x/y", "server//i-0abc123/status", "server/acme/I-0ABC/status"} {
		if got := f.click("UALICE0001", "alert_ack", forged).Text; !strings.Contains(got, "does not name an alert") {
			t.Errorf("forged key %q: %q", forged, got)
		}
	}
}
