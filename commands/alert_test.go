package commands_test

import (
	"context"
	"encoding/json"
	"slices"
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

// queuedItems lists every outbox item queued so far, queue by queue.
func (f *fixture) queuedItems(t *testing.T) []store.OutboxItem {
	t.Helper()
	ctx := context.Background()
	keys, err := f.rdb.Keys(ctx, "opsbot:outbox:q:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	var out []store.OutboxItem
	for _, k := range keys {
		for _, raw := range f.rdb.LRange(ctx, k, 0, -1).Val() {
			var it store.OutboxItem
			if err := json.Unmarshal([]byte(raw), &it); err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
	}
	return out
}

// Silence 1h from the alert: the silence, the message saying who and until
// when, and the PagerDuty incident acknowledged and snoozed as the person.
func TestSilenceFromTheAlertFinishesTheJob(t *testing.T) {
	f := newAlertFixture(t)
	f.fire(t, wwwSubject, "HTTP 503")
	before := time.Now()
	got := f.click("UALICE0001", "alert_silence_1h", "uptime/acme/www").Text
	if !strings.Contains(got, "Silenced *acme/www* for 1h") || !strings.Contains(got, "PagerDuty incident #1 acknowledged and snoozed for 1h as alice@example.com.") {
		t.Fatalf("silence reply = %q", got)
	}
	in := f.pd.Incidents()[0]
	if in.Status != "acknowledged" || in.From != "alice@example.com" || in.SnoozedUntil.Before(before.Add(59*time.Minute)) {
		t.Fatalf("incident = %+v; want acknowledged and snoozed an hour by alice", in)
	}
	a, _, _ := f.al.Alert(context.Background(), "uptime/acme/www")
	if a.Status != store.AlertAcknowledged || a.SilencedBy != "UALICE0001" || a.SilencedUntil.Before(before.Add(59*time.Minute)) {
		t.Fatalf("alert = %+v", a)
	}
	var updated, line bool
	for _, it := range f.queuedItems(t) {
		p := string(it.Payload)
		updated = updated || it.Kind == "slack.alert" && strings.Contains(p, "Silenced by \\u003c@UALICE0001\\u003e until")
		line = line || it.Kind == "slack.thread" && strings.Contains(p, "Silenced by \\u003c@UALICE0001\\u003e until")
	}
	if !updated || !line {
		t.Fatalf("message updated %v, thread line %v: %+v", updated, line, f.queuedItems(t))
	}
	if sils, _ := f.st.Silences(context.Background(), time.Now()); len(sils) != 1 || sils[0].Site != "www" {
		t.Fatalf("silences = %+v", sils)
	}
}

// Resolve by hand while the site still fails: the reply says so, and the
// next failed checks page again only once the failure is confirmed anew.
func TestHandResolveWhileFailingSaysSo(t *testing.T) {
	f := newAlertFixture(t)
	ctx := context.Background()
	subj := wwwSubject
	subj.Thresholds = store.Thresholds{FailAfter: 3, RecoverAfter: 2}
	t0 := time.Now().Add(-time.Hour)
	observe := func(i int) store.Transition {
		t.Helper()
		tr, err := f.al.Observe(ctx, subj, false, "HTTP 503", t0.Add(time.Duration(i)*time.Minute), false)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for i := range 3 {
		observe(i)
	}
	got := f.click("UALICE0001", "alert_resolve", "uptime/acme/www").Text
	if !strings.Contains(got, "Resolved *www*") || !strings.Contains(got, "It is still failing (HTTP 503, last checked") {
		t.Fatalf("resolve reply = %q", got)
	}
	if tr := observe(3); tr != store.NoChange {
		t.Fatalf("the next failed check: %q, want no new alert", tr)
	}
	if tr := observe(4); tr != store.NoChange {
		t.Fatalf("the second failed check: %q, want no new alert", tr)
	}
	if tr := observe(5); tr != store.Fired {
		t.Fatalf("the third failed check: %q, want it to alert again", tr)
	}
	var triggers int
	var line bool
	for _, it := range f.queuedItems(t) {
		triggers += strings.Count(string(it.Payload), `"Action":"trigger"`)
		line = line || it.Kind == "slack.thread" && strings.Contains(string(it.Payload), "while it was still failing (HTTP 503)")
	}
	if triggers != 2 || !line {
		t.Fatalf("%d triggers queued (want 2: the first firing and the one confirmed after the resolve), thread line %v", triggers, line)
	}
}

// The SLA incident's message has Acknowledge and Resolve, and they work.
func TestSLAIncidentButtons(t *testing.T) {
	f := newAlertFixture(t)
	ctx := context.Background()
	subj := wwwSubject
	subj.Key, subj.Monitor = "sla/acme/www/2026-11", "sla"
	if err := f.al.Raise(ctx, subj, "uptime 99.5 % against a target of 99.9 % in 2026-11", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := f.click("UALICE0001", "alert_ack", subj.Key).Text; !strings.Contains(got, "Acknowledged *www*") {
		t.Fatalf("ack = %q", got)
	}
	if got := f.click("UALICE0001", "alert_resolve", subj.Key).Text; !strings.Contains(got, "Resolved *www*") || strings.Contains(got, "still failing") {
		t.Fatalf("resolve = %q", got)
	}
	if a, _, _ := f.al.Alert(ctx, subj.Key); a.Status != store.AlertResolved || a.ResolvedBy != "UALICE0001" {
		t.Fatalf("SLA alert = %+v", a)
	}
	if err := f.al.Raise(ctx, subj, "again", time.Now()); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := f.al.Alert(ctx, subj.Key); a.Status != store.AlertResolved {
		t.Fatalf("raised twice in a month: %+v", a)
	}
}
