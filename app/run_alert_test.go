package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

const pdRoutingKey = "R0123456789abcdef0123456789abcde"

// startWithPagerDuty runs opsbot with a client "acme" whose alerts go to
// C0ACMEALRT and to the fake PagerDuty.
func startWithPagerDuty(t *testing.T) (*opsbot, *pagerdutytest.Server) {
	t.Helper()
	pd := pagerdutytest.New(t)
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `clients:
  acme:
    name: Acme Ltd
    channels:
      alerts: "#acme-alerts"
    sites:
      - name: www
        url: https://www.acme.example/
        statuscake_id: "1234"
integrations:
  pagerduty:
    api_url: ` + pd.URL + `
    events_url: ` + pd.URL + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg, "PAGERDUTY_TOKEN": pagerdutytest.Token, "PAGERDUTY_ROUTING_KEY": pdRoutingKey})
	return o, pd
}

// fire makes the acme/www alert fire the way the uptime monitor would.
func fire(t *testing.T, o *opsbot) {
	t.Helper()
	st := store.New(o.redis.Connect(t), "opsbot:")
	al := jobs.NewAlerter(st, nil)
	subj := jobs.Subject{Key: "uptime/acme/www", Monitor: "uptime", Client: "acme", Name: "www", URL: "https://www.acme.example/",
		Channel: "C0ACMEALRT", PagerRef: "acme", Thresholds: store.Thresholds{FailAfter: 1, RecoverAfter: 1}}
	now := time.Now()
	if _, _, err := st.RecordCheck(context.Background(), store.SiteStatus{Key: subj.Key, Client: "acme", Site: "www", URL: subj.URL,
		Source: "statuscake", State: "down", LastChecked: now, Error: "status 503"}); err != nil {
		t.Fatal(err)
	}
	if _, err := al.Observe(context.Background(), subj, false, "status 503", now, false); err != nil {
		t.Fatal(err)
	}
}

func TestAlertButtonsActAsThePerson(t *testing.T) {
	o, pd := startWithPagerDuty(t)
	pd.AddUser("PALICE1", "Alice", "alice@example.com")
	o.command(t, admin, "role grant @alice support")
	o.command(t, admin, "role grant @bob engineer")

	fire(t, o)
	post, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("channel") == "C0ACMEALRT" }, wait)
	if err != nil {
		t.Fatalf("alert not posted by opsbot's outbox: %v\n%s", err, o.logs)
	}
	if _, err := pd.WaitEvents(1, wait); err != nil {
		t.Fatal(err)
	}
	var msgs []slacktest.Message
	for deadline := time.Now().Add(wait); len(msgs) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		msgs = o.fake.Messages("C0ACMEALRT") // stored just after the call is recorded
	}
	if len(msgs) == 0 {
		t.Fatal("alert message not stored")
	}
	ts := msgs[0].TS
	if !strings.Contains(post.Form.Get("blocks"), `"action_id":"alert_ack"`) {
		t.Fatalf("alert has no Acknowledge button: %s", post.Form.Get("blocks"))
	}
	click := func(user, action string) string {
		return o.replyTo(t, func() string {
			return o.fake.BlockAction(user, slacktest.BlockAction{ActionID: action, BlockID: "alert_actions", Value: "uptime/acme/www", ChannelID: "C0ACMEALRT", MessageTS: ts})
		})
	}

	// An engineer may not acknowledge: refused, nothing changes anywhere.
	if got := click("UBOB000001", "alert_ack"); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("engineer ack:\n%s", got)
	}
	// Support, but with no PagerDuty account for her email... (bob is
	// granted support to try it).
	o.command(t, admin, "role grant @bob support")
	if got := click("UBOB000001", "alert_ack"); !strings.Contains(got, "PagerDuty has no user with your Slack email bob@example.com") {
		t.Fatalf("ack without a PagerDuty user:\n%s", got)
	}
	if inc := pd.Incidents(); len(inc) != 1 || inc[0].Status != "triggered" {
		t.Fatalf("incident changed by refused clicks: %+v", inc)
	}

	// Alice acknowledges: PagerDuty as her, the message updated in place, a thread line.
	if got := click("UALICE0001", "alert_ack"); !strings.Contains(got, "Acknowledged *www*") || !strings.Contains(got, "as alice@example.com") {
		t.Fatalf("ack reply:\n%s", got)
	}
	if inc := pd.Incidents(); inc[0].Status != "acknowledged" || inc[0].From != "alice@example.com" {
		t.Fatalf("incident after ack: %+v", inc)
	}
	if _, err := o.fake.WaitCall("chat.update", func(c slacktest.Call) bool {
		return strings.Contains(c.Form.Get("blocks"), "Acknowledged by \\u003c@UALICE0001\\u003e") || strings.Contains(c.Form.Get("blocks"), "Acknowledged by <@UALICE0001>")
	}, wait); err != nil {
		t.Fatalf("alert message not updated: %v\n%+v", err, o.fake.Calls("chat.update"))
	}
	if _, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("thread_ts") == ts }, wait); err != nil {
		t.Fatalf("no thread line: %v", err)
	}
	// Status (served from Redis) shows the site down and acknowledged by alice.
	if got := o.command(t, "UALICE0001", "status acme"); !strings.Contains(got, "acknowledged") || !strings.Contains(got, "UALICE0001") || !strings.Contains(got, "status 503") {
		t.Fatalf("status:\n%s", got)
	}
	// A second ack says who did it; Resolve closes it at PagerDuty as alice.
	if got := click("UALICE0001", "alert_ack"); !strings.Contains(got, "already acknowledged by <@UALICE0001>") {
		t.Fatalf("second ack:\n%s", got)
	}
	if got := click("UALICE0001", "alert_resolve"); !strings.Contains(got, "Resolved *www*") {
		t.Fatalf("resolve:\n%s", got)
	}
	if inc := pd.Incidents(); inc[0].Status != "resolved" {
		t.Fatalf("incident after resolve: %+v", inc)
	}
	// Silence 1h from the message.
	if got := click("UALICE0001", "alert_silence_1h"); !strings.Contains(got, "Silenced *acme/www* for 1h") {
		t.Fatalf("silence:\n%s", got)
	}
	if got := o.command(t, "UALICE0001", "silences"); !strings.Contains(got, "acme/www") {
		t.Fatalf("silences:\n%s", got)
	}
}
