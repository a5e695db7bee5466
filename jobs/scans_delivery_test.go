package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// deliver runs the outbox (real Slack poster against the fake Slack, real
// PagerDuty client against its fake) on the rig's store until the test ends.
func (r *scanRig) deliver(t *testing.T, fake *slacktest.Server, pd *pagerdutytest.Server) {
	t.Helper()
	poster := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, r.st)
	pager := pagerduty.New(pagerduty.Config{APIURL: pd.URL, EventsURL: pd.URL}, nil, nil)
	ob := jobs.NewOutbox(r.st, poster, pager, jobs.OutboxOptions{BaseBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond,
		Kept: r.st, RoutingKey: func(ref string) (string, bool) { return routingKey, ref == "acme" }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ob.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor waits until the channel's messages satisfy ok.
func waitFor(t *testing.T, fake *slacktest.Server, ok func([]slacktest.Message) bool) []slacktest.Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msgs := fake.Messages(securityChannel)
		if ok(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; messages: %+v", msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestScanMessageAndFindingAlertAsSlackShowsThem(t *testing.T) {
	r := newScanRigClock(t, true)
	fake, pd := slacktest.New(t), pagerdutytest.New(t)
	r.deliver(t, fake, pd)
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Steps: []detectifytest.Step{{Phase: "crawling", State: "running"}},
		Findings: []detectifytest.Finding{high(xss, "search?q=<b>")}})
	if _, err := r.scans.Start(context.Background(), "acme", "USEC1"); err != nil {
		t.Fatal(err)
	}
	r.tick(t)
	waitFor(t, fake, func(ms []slacktest.Message) bool {
		return len(ms) == 1 && strings.Contains(string(ms[0].Blocks), "crawling")
	})
	r.tick(t)
	msgs := waitFor(t, fake, func(ms []slacktest.Message) bool { return len(topLevel(ms)) == 2 })
	var scanMsg, alertMsg slacktest.Message
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), "Detectify scan") {
			scanMsg = m
		} else {
			alertMsg = m
		}
	}
	scanMsg = waitFor(t, fake, func(ms []slacktest.Message) bool {
		return strings.Contains(string(ms[0].Blocks), "finished")
	})[0]
	if scanMsg.Updated < 2 || !strings.Contains(string(scanMsg.Blocks), "*New* 1") {
		t.Fatalf("scan message (one, updated in place): %+v", scanMsg)
	}
	b := string(alertMsg.Blocks)
	for _, want := range []string{"OPEN", "Reflected \\u0026lt;script\\u0026gt; XSS", "A03:2021 Injection", "shop.acme.example/search?q=\\u0026lt;b\\u0026gt;",
		"First seen", "https://detectify.com/dashboard/findings/" + xss, "alert_ack", "/ops findings accept", "`e26b149d`"} {
		if !strings.Contains(b, want) {
			t.Errorf("alert message lacks %q:\n%s", want, b)
		}
	}
	for _, unwanted := range []string{"alert_resolve", "alert_silence_1h", "<script>", "<b>"} {
		if strings.Contains(b, unwanted) {
			t.Errorf("alert message has %q:\n%s", unwanted, b)
		}
	}
	if _, err := pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if inc := pd.Incidents(); len(inc) != 1 || inc[0].DedupKey != "opsbot/finding/acme/"+xss || inc[0].Status != "triggered" {
		t.Fatalf("incidents = %+v", inc)
	}

	// Fixed: the alert message turns FIXED in place and the incident resolves.
	r.fake.SetStatus(xss, "patched")
	r.scanToEnd(t)
	waitFor(t, fake, func(ms []slacktest.Message) bool {
		for _, m := range ms {
			if m.TS == alertMsg.TS && strings.Contains(string(m.Blocks), "FIXED") {
				return true
			}
		}
		return false
	})
	if _, err := pd.WaitEvents(2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if inc := pd.Incidents(); inc[0].Status != "resolved" {
		t.Fatalf("incident after the fix = %+v", inc)
	}
	waitFor(t, fake, func(ms []slacktest.Message) bool {
		for _, m := range ms {
			if m.ThreadTS == alertMsg.TS && strings.Contains(m.Text, "Fixed after") {
				return true
			}
		}
		return false
	})
	a, _, _ := r.st.GetAlert(context.Background(), jobs.FindingAlertKey("acme", xss))
	if a.Status != store.AlertResolved {
		t.Fatalf("alert = %s", a.Status)
	}
}
