package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

const routingKey = "R0123456789abcdef0123456789abcde" // 32 characters, as PagerDuty wants

var site = jobs.Subject{Key: "uptime/acme/www", Monitor: "uptime", Client: "acme", Name: "www.acme.example", Site: "www",
	URL: "https://www.acme.example/", Channel: "C0ACMEALRT", PagerRef: "acme",
	Thresholds: store.Thresholds{FailAfter: 3, RecoverAfter: 2}}

// rig is a monitor's delivery path: real Redis, the real Slack poster
// against the fake Slack, the real PagerDuty client against its fake.
type rig struct {
	st    *store.Store
	slack *slacktest.Server
	pd    *pagerdutytest.Server
	al    *jobs.Alerter
	stop  func()
}

func newRig(t *testing.T, srv *redistest.Server, fake *slacktest.Server, pd *pagerdutytest.Server) *rig {
	t.Helper()
	return newRigAt(t, srv, fake, pd, nil)
}

// newRigAt is newRig whose outbox reads the clock now (nil: time.Now). A test
// whose monitor runs on a fixed date gives the outbox the same clock: it
// judges an item's age and due time by it.
func newRigAt(t *testing.T, srv *redistest.Server, fake *slacktest.Server, pd *pagerdutytest.Server, now func() time.Time) *rig {
	t.Helper()
	st := store.New(srv.Client(t), "opsbot:")
	poster := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, st)
	pager := pagerduty.New(pagerduty.Config{APIURL: pd.URL, EventsURL: pd.URL}, nil, nil)
	ob := jobs.NewOutbox(st, poster, pager, jobs.OutboxOptions{BaseBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond,
		Now: now, RoutingKey: func(ref string) (string, bool) { return routingKey, ref == "acme" }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ob.Run(ctx); close(done) }()
	r := &rig{st: st, slack: fake, pd: pd, al: jobs.NewAlerter(st, ob.Nudge)}
	r.stop = func() { cancel(); <-done }
	t.Cleanup(r.stop)
	return r
}

// clockFrom is a clock that reads start now and runs on in real time (retries
// come due), whatever the calendar date.
func clockFrom(start time.Time) func() time.Time {
	t0 := time.Now()
	return func() time.Time { return start.Add(time.Since(t0)) }
}

func (r *rig) observe(t *testing.T, ok bool, at time.Time) {
	t.Helper()
	if _, err := r.al.Observe(context.Background(), site, ok, "status 503 (expected 2xx/3xx)", at, false); err != nil {
		t.Fatal(err)
	}
}

// tickBase anchors observations on the real clock, an hour back: the outbox
// these tests run judges an item's age and due time by time.Now, so a fixed
// date would age every delivery past MaxAge once the calendar moved on, and a
// date ahead of now would hold deliveries until the clock caught up.
var tickBase = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

func tick(i int) time.Time {
	return tickBase.Add(time.Duration(i) * 30 * time.Second)
}

// waitTop waits until the fake holds at least n top-level messages in the
// alert channel (it records a call before it stores the message) and
// returns them.
func waitTop(t *testing.T, fake *slacktest.Server, n int) []slacktest.Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		top := topLevel(fake.Messages("C0ACMEALRT"))
		if len(top) >= n || time.Now().After(deadline) {
			return top
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func topLevel(msgs []slacktest.Message) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

func TestDownThenRecoveredAnnouncedOnce(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	for i := range 5 { // threshold is 3: fires on the third, stays quiet after
		r.observe(t, false, tick(i))
	}
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := r.slack.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	msgs := waitTop(t, r.slack, 1)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "www.acme.example is DOWN") || !strings.Contains(string(msgs[0].Blocks), `"action_id":"alert_ack"`) {
		t.Fatalf("alert messages = %+v", msgs)
	}
	r.observe(t, true, tick(5))
	r.observe(t, true, tick(6))
	events, err := r.pd.WaitEvents(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if events[0].EventAction != "trigger" || events[1].EventAction != "resolve" || events[0].DedupKey != events[1].DedupKey || events[0].RoutingKey != routingKey {
		t.Fatalf("pagerduty events = %+v", events)
	}
	if _, err := r.slack.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("thread_ts") != "" }, 5*time.Second); err != nil {
		t.Fatalf("no recovery line in the thread: %v", err)
	}
	if _, err := r.slack.WaitCall("chat.update", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	all := r.slack.Messages("C0ACMEALRT")
	top := topLevel(all)
	if len(top) != 1 || top[0].Updated != 1 || !strings.Contains(top[0].Text, "RECOVERED") {
		t.Fatalf("the alert message was not updated in place: %+v", top)
	}
	if len(all) != 2 || !strings.Contains(all[1].Text, "Recovered after 2m 30s") && !strings.Contains(all[1].Text, "Recovered after 2m") {
		t.Fatalf("thread = %+v", all)
	}
	incidents := r.pd.Incidents()
	if len(incidents) != 1 || incidents[0].Status != "resolved" {
		t.Fatalf("incidents = %+v", incidents)
	}
}

func TestPagerDutyFailuresRetriedNothingLost(t *testing.T) {
	pd := pagerdutytest.New(t)
	pd.FailEnqueue(pagerdutytest.Response{Status: 500}, pagerdutytest.Response{Status: 500},
		pagerdutytest.Response{Status: 429, RetryAfter: time.Second})
	r := newRig(t, redistest.Start(t), slacktest.New(t), pd)
	for i := range 3 {
		r.observe(t, false, tick(i))
	}
	events, err := pd.WaitEvents(1, 10*time.Second)
	if err != nil {
		t.Fatalf("trigger never delivered: %v", err)
	}
	if len(events) != 1 || events[0].EventAction != "trigger" {
		t.Fatalf("events = %+v", events)
	}
	if n := len(pd.Incidents()); n != 1 {
		t.Fatalf("%d incidents, want 1", n)
	}
	if msgs := waitTop(t, r.slack, 1); len(msgs) != 1 {
		t.Fatalf("%d alert messages, want 1", len(msgs))
	}
	// Four enqueue attempts reached PagerDuty: 500, 500, 429, 202.
	enqueues := 0
	for _, req := range pd.Requests() {
		if req.Path == "/v2/enqueue" {
			enqueues++
		}
	}
	if enqueues != 4 {
		t.Fatalf("%d enqueue requests, want 4", enqueues)
	}
}

func TestRestartWhileDownKeepsOneAlert(t *testing.T) {
	srv, fake, pd := redistest.Start(t), slacktest.New(t), pagerdutytest.New(t)
	first := newRig(t, srv, fake, pd)
	for i := range 3 {
		first.observe(t, false, tick(i))
	}
	if _, err := pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	first.stop() // opsbot restarts

	second := newRig(t, srv, fake, pd)
	for i := 3; i < 6; i++ {
		second.observe(t, false, tick(i))
	}
	second.observe(t, true, tick(6))
	second.observe(t, true, tick(7))
	events, err := pd.WaitEvents(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].EventAction != "resolve" {
		t.Fatalf("events after restart = %+v", events)
	}
	if _, err := fake.WaitCall("chat.update", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	top := topLevel(fake.Messages("C0ACMEALRT"))
	if len(top) != 1 || top[0].Updated != 1 {
		t.Fatalf("after restart: %+v", top)
	}
	a, _, _ := second.st.GetAlert(context.Background(), site.Key)
	raw, _ := json.Marshal(a)
	if a.Status != store.AlertResolved || a.MessageTS != top[0].TS {
		t.Fatalf("alert = %s", raw)
	}
}

// Deliveries queued when opsbot and Redis both crash are made after they
// come back: nothing is lost, nothing is sent twice.
func TestQueuedAlertsSurviveRedisAndOpsbotCrash(t *testing.T) {
	srv, fake, pd := redistest.StartPersistent(t), slacktest.New(t), pagerdutytest.New(t)
	first := newRig(t, srv, fake, pd)
	first.stop() // opsbot dies before its outbox delivers anything...
	for i := range 3 {
		first.observe(t, false, tick(i)) // ...while the site crosses its threshold
	}
	srv.Stop() // Redis crashes (SIGKILL) with the deliveries queued
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	second := newRig(t, srv, fake, pd) // both come back
	events, err := pd.WaitEvents(1, 5*time.Second)
	if err != nil || events[0].EventAction != "trigger" {
		t.Fatalf("queued trigger lost: %+v, %v", events, err)
	}
	if _, err := fake.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatalf("queued alert post lost: %v", err)
	}
	a, ok, err := second.st.GetAlert(context.Background(), site.Key)
	if err != nil || !ok || a.Status != store.AlertFiring || a.Failures != 3 {
		t.Fatalf("alert state after the crash: %+v %v %v", a, ok, err)
	}
	if n := len(waitTop(t, fake, 1)); n != 1 {
		t.Fatalf("%d alert messages, want 1", n)
	}
}

// The site recovers and fails again while deliveries are held up: the first
// firing's message is updated and threaded, the new firing gets its own.
func TestRefireWhileDeliveriesQueued(t *testing.T) {
	srv, fake, pd := redistest.Start(t), slacktest.New(t), pagerdutytest.New(t)
	first := newRig(t, srv, fake, pd)
	for i := range 3 {
		first.observe(t, false, tick(i))
	}
	if _, err := fake.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	first.stop() // deliveries held up from here
	first.observe(t, true, tick(3))
	first.observe(t, true, tick(4)) // recovered
	for i := 5; i < 8; i++ {
		first.observe(t, false, tick(i)) // fired again
	}
	second := newRig(t, srv, fake, pd)
	if _, err := pd.WaitEvents(3, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.Messages("C0ACMEALRT")) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := fake.Messages("C0ACMEALRT")
	top := topLevel(msgs)
	if len(top) != 2 {
		t.Fatalf("%d alert messages, want 2 (one per firing): %+v", len(top), msgs)
	}
	if top[0].Updated != 1 || !strings.Contains(top[0].Text, "RECOVERED") {
		t.Fatalf("first firing's message not updated to recovered: %+v", top[0])
	}
	if !strings.Contains(top[1].Text, "DOWN") || top[1].Updated != 0 {
		t.Fatalf("second firing's message = %+v", top[1])
	}
	var threaded []slacktest.Message
	for _, m := range msgs {
		if m.ThreadTS != "" {
			threaded = append(threaded, m)
		}
	}
	if len(threaded) != 1 || threaded[0].ThreadTS != top[0].TS || !strings.Contains(threaded[0].Text, "Recovered") {
		t.Fatalf("recovery line = %+v, want it under the first message %s", threaded, top[0].TS)
	}
	// The ts is saved just after the post: wait for it.
	var a store.Alert
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if a, _, _ = second.st.GetAlert(context.Background(), site.Key); a.MessageTS != "" {
			break
		}
	}
	if a.MessageTS != top[1].TS || a.PrevMessageTS != top[0].TS {
		t.Fatalf("alert messages: current %s prev %s", a.MessageTS, a.PrevMessageTS)
	}
}
