package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/httpprobe"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/statuscake"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

func uptimeSite(key, site, scID string) jobs.UptimeSite {
	return jobs.UptimeSite{Subject: jobs.Subject{Key: key, Monitor: "uptime", Client: "acme", Name: site + ".acme.example",
		URL: "https://" + site + ".acme.example/", Channel: "C0ACMEALRT", PagerRef: "acme",
		Thresholds: store.Thresholds{FailAfter: 2, RecoverAfter: 1}}, Site: site, StatusCakeID: scID,
		Interval: 30 * time.Second, SLATarget: 99.9}
}

// Own probe against a real local target that goes down and comes back.
func TestOwnProbeDownAndBack(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	var healthy atomic.Bool
	healthy.Store(true)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer target.Close()
	site := uptimeSite("uptime/acme/api", "api", "")
	site.URL = target.URL
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	prober := httpprobe.New(httpprobe.Config{AllowPrivate: true}, nil, nil)
	probe := func() {
		t.Helper()
		res := prober.Check(context.Background(), httpprobe.Target{ID: site.Key, URL: target.URL, Timeout: 2 * time.Second})
		if err := u.Observe(context.Background(), site.Key, res); err != nil {
			t.Fatal(err)
		}
	}
	probe()
	healthy.Store(false)
	probe()
	probe() // second failure: fires
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	msg, err := r.slack.WaitCall("chat.postMessage", nil, 5*time.Second)
	if err != nil || !strings.Contains(msg.Form.Get("blocks"), "status 503") {
		t.Fatalf("alert post = %v, %v", msg.Form, err)
	}
	healthy.Store(true)
	probe()
	if events, err := r.pd.WaitEvents(2, 5*time.Second); err != nil || events[1].EventAction != "resolve" {
		t.Fatalf("events = %+v, %v", events, err)
	}
	statuses, _ := r.st.SiteStatuses(context.Background())
	if len(statuses) != 1 || statuses[0].State != "up" || statuses[0].Source != "probe" || statuses[0].ResponseTime <= 0 {
		t.Fatalf("site status = %+v", statuses)
	}
}

func TestSilencedSiteDoesNotAlertUntilSilenceEnds(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	ctx := context.Background()
	sil, err := r.st.AddSilence(ctx, store.Silence{Client: "acme", Site: "www", Reason: "deploy", CreatedBy: "UADMIN0001", Start: tick(0), End: tick(10)})
	if err != nil {
		t.Fatal(err)
	}
	down := func(i int) {
		res := integrations.CheckResult{Source: "probe", State: integrations.StateDown, Error: "timeout after 10s", CheckedAt: tick(i)}
		if err := u.Observe(ctx, site.Key, res); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		down(i)
	}
	if n := len(r.pd.Events()); n != 0 {
		t.Fatalf("%d PagerDuty events while silenced", n)
	}
	if _, err := r.st.RemoveSilence(ctx, sil.ID, "UADMIN0001", tick(4)); err != nil {
		t.Fatal(err)
	}
	down(5) // the silence has ended and the site is still down
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatalf("no alert after the silence ended: %v", err)
	}
	if _, err := r.slack.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(waitTop(t, r.slack, 1)); n != 1 {
		t.Fatalf("%d alert messages, want 1", n)
	}
}

func TestStatusCakeFailuresMarkSourceUnavailable(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	sc := statuscaketest.New(t)
	id := sc.AddTest(statuscaketest.Test{Name: "www", WebsiteURL: "https://www.acme.example/", Status: "up"})
	site := uptimeSite("uptime/acme/www", "www", id)
	u := jobs.NewUptime([]jobs.UptimeSite{site, uptimeSite("uptime/acme/api", "api", "")}, r.al, r.st, nil, nil)
	poll := jobs.StatusCakePoll{U: u, Source: statuscake.New(statuscake.Config{APIURL: sc.URL, Token: statuscaketest.Token}, nil, nil)}
	ctx := context.Background()

	sc.FailNext(http.StatusTooManyRequests, http.Header{"X-Ratelimit-Reset": {"42"}}, "")
	if err := poll.Run(ctx); err == nil {
		t.Fatal("poll succeeded through a 429")
	}
	src, _ := r.st.SourceStatuses(ctx)
	if len(src) != 1 || src[0].OK || !strings.Contains(src[0].Reason, "429") || !strings.Contains(src[0].Reason, "42s") {
		t.Fatalf("source after 429 = %+v", src)
	}
	// Own probes keep working meanwhile.
	if err := u.Observe(ctx, "uptime/acme/api", integrations.CheckResult{Source: "probe", State: integrations.StateUp, CheckedAt: tick(0)}); err != nil {
		t.Fatal(err)
	}
	sc.FailNext(http.StatusUnauthorized, nil, "")
	_ = poll.Run(ctx)
	if src, _ := r.st.SourceStatuses(ctx); len(src) != 1 || !strings.Contains(src[0].Reason, "rejected the API token") || strings.Contains(src[0].Reason, statuscaketest.Token) {
		t.Fatalf("source after 401 = %+v", src)
	}
	// StatusCake answers again: the site goes down there and alerts once.
	sc.SetStatus(id, "down")
	for range 3 {
		if err := poll.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if events, err := r.pd.WaitEvents(1, 5*time.Second); err != nil || len(events) != 1 {
		t.Fatalf("events = %+v, %v", events, err)
	}
	if src, _ := r.st.SourceStatuses(ctx); !src[0].OK {
		t.Fatalf("source still unavailable: %+v", src)
	}
}

// Two replicas' schedulers poll StatusCake on one Redis: one alert.
func TestTwoSchedulersOneAlertPerTransition(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	sc := statuscaketest.New(t)
	id := sc.AddTest(statuscaketest.Test{Name: "www", WebsiteURL: "https://www.acme.example/", Status: "down"})
	site := uptimeSite("uptime/acme/www", "www", id)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		st := store.New(srv.Client(t), "opsbot:")
		u := jobs.NewUptime([]jobs.UptimeSite{site}, jobs.NewAlerter(st, nil), st, nil, nil)
		sched := jobs.NewScheduler(st, st, jobs.Options{})
		if err := sched.Add("@every 1s", jobs.StatusCakePoll{U: u, Source: statuscake.New(statuscake.Config{APIURL: sc.URL, Token: statuscaketest.Token}, nil, nil)}); err != nil {
			t.Fatal(err)
		}
		go func() { _ = sched.Run(ctx) }()
	}
	if _, err := r.pd.WaitEvents(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Let several more fires pass on both replicas: still one alert.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && sc.Requests("") < 5 {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(r.pd.Events()); n != 1 {
		t.Fatalf("%d PagerDuty events, want 1", n)
	}
	if n := len(waitTop(t, r.slack, 1)); n != 1 {
		t.Fatalf("%d alert messages, want 1", n)
	}
}

func TestSLABreachAnnouncedOncePerMonth(t *testing.T) {
	// The monitor and the outbox share one clock, starting on a fixed date and
	// running on: on the wall clock the outbox would find the SLA message
	// weeks old and dead-letter it at the first failed delivery.
	monthStart := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := clockFrom(monthStart.Add(10 * 24 * time.Hour))
	r := newRigAt(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t), clock)
	ctx := context.Background()
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, clock)
	// Down for an hour on the 2nd: 99.9 % of November allows 43m 12s.
	for _, c := range []struct {
		state integrations.CheckState
		at    time.Time
	}{{integrations.StateUp, monthStart}, {integrations.StateDown, monthStart.Add(24 * time.Hour)}, {integrations.StateUp, monthStart.Add(25 * time.Hour)}} {
		if err := u.Observe(ctx, site.Key, integrations.CheckResult{Source: "probe", State: c.state, CheckedAt: c.at}); err != nil {
			t.Fatal(err)
		}
	}
	// Slack fails the first post: the message is retried, not dropped.
	r.slack.FailNext("chat.postMessage", 503, `{"ok":false,"error":"service_unavailable"}`, nil)
	sla := jobs.SLA{U: u, Store: r.st}
	for range 2 {
		if err := sla.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := r.slack.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return strings.Contains(c.Form.Get("text"), "SLA breached") }, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Form.Get("text"), "99.583 %") {
		t.Fatalf("SLA message = %q", msg.Form.Get("text"))
	}
	if top := waitTop(t, r.slack, 1); len(top) != 1 || !strings.Contains(top[0].Text, "SLA breached") {
		t.Fatalf("posted = %+v, want the SLA message", top)
	} else if b := string(top[0].Blocks); !strings.Contains(b, `"action_id":"alert_ack"`) || !strings.Contains(b, `"action_id":"alert_resolve"`) || !strings.Contains(b, `"value":"sla/acme/www/2026-11"`) {
		t.Fatalf("the SLA message has no Acknowledge/Resolve: %s", b)
	}
	events, err := r.pd.WaitEvents(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var sla1 int
	for _, e := range events {
		if e.Payload != nil && strings.HasPrefix(e.Payload.Summary, "acme — www.acme.example SLA breached: uptime 99.583 %") && e.DedupKey == "opsbot/sla/acme/www/2026-11" {
			sla1++
		}
	}
	if sla1 != 1 {
		t.Fatalf("%d SLA incidents, want 1", sla1)
	}
	statuses, _ := r.st.SiteStatuses(ctx)
	if len(statuses) != 1 || statuses[0].Month != "2026-11" || statuses[0].MonthUptime > 99.6 || statuses[0].MonthUptime < 99.5 {
		t.Fatalf("month uptime = %+v", statuses)
	}
}

func TestCertificateExpiryWarnedOnce(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	ctx := context.Background()
	for i := range 3 { // three healthy checks, certificate 9 days from expiry
		res := integrations.CheckResult{Source: "probe", State: integrations.StateUp, CheckedAt: tick(i),
			CertExpiry: tick(0).Add(9*24*time.Hour + time.Hour)}
		if err := u.Observe(ctx, site.Key, res); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := r.slack.WaitCall("chat.postMessage", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if text := msg.Form.Get("text"); !strings.Contains(text, "TLS certificate of *www.acme.example* (acme) expires in 9 days") {
		t.Fatalf("warning = %q", text)
	}
	time.Sleep(200 * time.Millisecond) // give a duplicate the chance to show
	if n := len(r.slack.Calls("chat.postMessage")); n != 1 {
		t.Fatalf("%d certificate warnings, want 1", n)
	}
	if n := len(r.pd.Events()); n != 0 {
		t.Fatalf("a certificate warning paged PagerDuty: %d events", n)
	}
}
