package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

var ladder = []jobs.EscalationStep{
	{After: 2 * time.Hour},
	{After: 4 * time.Hour, Channel: "C0ESCALATE", Severity: integrations.SeverityCritical},
}

// threadLines are the replies under the alert's message that contain s.
func threadLines(fake *slacktest.Server, s string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range fake.Messages("C0ACMEALRT") {
		if m.ThreadTS != "" && strings.Contains(m.Text, s) {
			out = append(out, m)
		}
	}
	return out
}

// A site down for 5 hours, with the timer job running every minute: one
// reminder per step, the second step tells another channel and pages at a
// higher severity; the recovery resolves both incidents.
func TestEscalationOneReminderPerStep(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	t0 := time.Now().Add(-6 * time.Hour).Truncate(time.Minute)
	for i := range 3 {
		r.observe(t, false, t0.Add(time.Duration(i)*time.Minute))
	}
	fired := t0.Add(2 * time.Minute)
	timers := jobs.AlertTimers{Alerter: r.al, Store: r.st, Ladder: func(string) []jobs.EscalationStep { return ladder }}
	for m := 0; m <= 5*60; m++ {
		at := fired.Add(time.Duration(m) * time.Minute)
		timers.Now = func() time.Time { return at }
		if err := timers.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m == 119 {
			if a, _, _ := r.st.GetAlert(context.Background(), site.Key); a.Escalated != 0 {
				t.Fatalf("escalated before 2h: %+v", a)
			}
		}
	}
	evs, err := r.pd.WaitEvents(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].DedupKey != "opsbot/uptime/acme/www/escalation/2" || evs[1].Payload.Severity != "critical" ||
		!strings.Contains(evs[1].Payload.Summary, "still down after 4h 0m") {
		t.Fatalf("pages = %+v", evs)
	}
	if inc := r.pd.Incidents(); len(inc) != 2 || inc[1].Urgency != "high" {
		t.Fatalf("incidents = %+v", inc)
	}
	if _, err := r.slack.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("channel") == "C0ESCALATE" }, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(threadLines(r.slack, "Still down")) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	two, four := threadLines(r.slack, "Still down after 2h 0m."), threadLines(r.slack, "Still down after 4h 0m.")
	if len(two) != 1 || len(four) != 1 || !strings.Contains(four[0].Text, "paged again at critical severity") {
		t.Fatalf("reminders: 2h %+v, 4h %+v", two, four)
	}
	if n := len(r.slack.Messages("C0ESCALATE")); n != 1 {
		t.Fatalf("%d posts in the escalation channel, want 1", n)
	}
	// The site recovers: the alert's incident and the escalation's are resolved.
	r.observe(t, true, fired.Add(5*time.Hour+time.Minute))
	r.observe(t, true, fired.Add(5*time.Hour+2*time.Minute))
	if _, err := r.pd.WaitEvents(4, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, in := range r.pd.Incidents() {
		if in.Status != "resolved" {
			t.Errorf("incident %s (%s) is %s after recovery", in.ID, in.DedupKey, in.Status)
		}
	}
}

// An acknowledged alert still gets its reminders but is not paged again;
// a silenced one waits for its silence to end.
func TestEscalationRespectsAckAndSilence(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, "opsbot:")
	al := jobs.NewAlerter(st, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	subj := site
	subj.Thresholds = store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	if _, err := al.Observe(ctx, subj, false, "HTTP 503", t0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := al.Acknowledge(ctx, subj.Key, "UALICE0001", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSilence(ctx, store.Silence{Client: "acme", Site: "www", Reason: "deploy", CreatedBy: "UALICE0001",
		Start: t0, End: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time) {
		t.Helper()
		timers := jobs.AlertTimers{Alerter: al, Store: st, Ladder: func(string) []jobs.EscalationStep { return ladder }, Now: func() time.Time { return at }}
		if err := timers.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run(t0.Add(2*time.Hour + time.Minute))
	if a, _, _ := st.GetAlert(ctx, subj.Key); a.Escalated != 0 {
		t.Fatalf("escalated while silenced: %d steps", a.Escalated)
	}
	run(t0.Add(4*time.Hour + time.Minute)) // silence over: both steps are due
	a, _, _ := st.GetAlert(ctx, subj.Key)
	if a.Escalated != 2 || len(a.EscalationPages) != 0 {
		t.Fatalf("after the silence: escalated %d, pages %v", a.Escalated, a.EscalationPages)
	}
	var lines []string
	for _, q := range outbox(t, rdb) {
		if q.Kind == "pagerduty" && strings.Contains(fmtJSON(q.Payload), "escalation") {
			t.Errorf("an acknowledged alert was paged again: %v", q.Payload)
		}
		if text := fmtJSON(q.Payload["text"]); q.Kind == "slack.thread" && strings.Contains(text, "Still down") {
			lines = append(lines, text)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[1], "not paged again") {
		t.Fatalf("reminders = %v", lines)
	}
}
