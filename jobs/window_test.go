package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// scheduleChange stores a change of acme, scheduled, whose window is [from, to).
func scheduleChange(t *testing.T, st *store.Store, id string, from, to time.Time) {
	t.Helper()
	cr := &store.ChangeRequest{ID: id, Client: "acme", Title: "Move to the new cluster", RequestedBy: "UENG000001",
		State: store.ChangeScheduled, CreatedAt: from.Add(-24 * time.Hour),
		Proposal: &store.Proposal{Plan: "blue/green", Magnitude: store.MagnitudeMinor, WindowStart: from, WindowEnd: to, Version: 1}}
	if err := st.CreateChange(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
}

// A scheduled change's window over a failing site: no alert and no page
// during it; one alert (message and page) as soon as it ends.
func TestChangeWindowSilencesThenAlertsOnceAtItsEnd(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	w0 := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	scheduleChange(t, r.st, "CR-7", w0, w0.Add(time.Hour))
	s := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{s}, r.al, r.st, nil, nil)
	timers := jobs.AlertTimers{Alerter: r.al, Store: r.st}
	ctx := context.Background()
	step := func(at time.Time) {
		t.Helper()
		if err := u.Observe(ctx, s.Key, integrations.CheckResult{Source: "probe", State: integrations.StateDown, Error: "HTTP 503", CheckedAt: at}); err != nil {
			t.Fatal(err)
		}
		timers.Now = func() time.Time { return at }
		if err := timers.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for m := 1; m < 60; m += 2 {
		step(w0.Add(time.Duration(m) * time.Minute))
	}
	mutes, _ := r.st.Mutes(ctx, w0.Add(30*time.Minute))
	if len(mutes) != 1 || mutes[0].Change != "CR-7" || mutes[0].Client != "acme" {
		t.Fatalf("mutes during the window = %+v", mutes)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(r.pd.Events()); n != 0 {
		t.Fatalf("%d pages during the change window", n)
	}
	if n := len(r.slack.Messages("C0ACMEALRT")); n != 0 {
		t.Fatalf("%d alert messages during the change window", n)
	}
	// The window ends: the timer job fires the alert at once, before any check.
	timers.Now = func() time.Time { return w0.Add(time.Hour) }
	if err := timers.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatalf("no page at the end of the window: %v", err)
	}
	for m := 61; m < 70; m++ {
		step(w0.Add(time.Duration(m) * time.Minute))
	}
	if top := waitTop(t, r.slack, 1); len(top) != 1 {
		t.Fatalf("%d alert messages, want 1", len(top))
	}
	time.Sleep(100 * time.Millisecond)
	if evs := r.pd.Events(); len(evs) != 1 || evs[0].EventAction != "trigger" {
		t.Fatalf("pages = %+v, want one trigger", evs)
	}
}

// Server alerts of the client are held back by its change window too.
func TestChangeWindowSilencesServerAlerts(t *testing.T) {
	r := newServerRig(t, acmeClient())
	scheduleChange(t, r.st, "CR-8", srvT0.Add(-time.Minute), srvT0.Add(time.Hour))
	bad := web("i-1", "t3.medium")
	bad.SystemStatus = "impaired"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{bad}}, nil)
	r.run(t)
	key := jobs.ServerAlertKey("acme", "i-1", "status")
	if a := r.alert(t, key); a.Status == store.AlertFiring || !a.Muted {
		t.Fatalf("alert during the window = %+v; want muted", a)
	}
	if evs := pagerEvents(t, r.rdb, key); len(evs) != 0 {
		t.Fatalf("paged during the window: %+v", evs)
	}
}
