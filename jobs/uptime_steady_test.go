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

func checkOf(up bool, i int) integrations.CheckResult {
	if up {
		return integrations.CheckResult{Source: "probe", State: integrations.StateUp, CheckedAt: tick(i), ResponseTime: time.Duration(100+i) * time.Millisecond}
	}
	return integrations.CheckResult{Source: "probe", State: integrations.StateDown, Error: "status 503 (expected 2xx/3xx)", CheckedAt: tick(i)}
}

// observeAll delivers checks as the probe engine does (OnProbe).
func observeAll(t *testing.T, u *jobs.Uptime, key string, from int, ups ...bool) {
	t.Helper()
	for i, up := range ups {
		u.OnProbe(key, checkOf(up, from+i), tick(from+i))
	}
}

// A healthy check of a site whose state did not change costs one Redis
// command (its data refreshed); before, eleven (the record script and the
// alert transaction).
func TestHealthyCheckCostsOneRedisCommand(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	observeAll(t, u, site.Key, 0, true)
	r.stop() // the outbox polls Redis too
	if _, err := srv.Do("config", "resetstat"); err != nil {
		t.Fatal(err)
	}
	observeAll(t, u, site.Key, 1, true, true, true, true, true, true, true, true, true, true)
	if n := redisCalls(t, srv); n > 10 {
		t.Fatalf("10 healthy checks ran %d Redis commands, want at most 10", n)
	}
	all, err := r.st.SiteStatuses(context.Background())
	if err != nil || len(all) != 1 || all[0].ResponseTime != 110*time.Millisecond || !all[0].Since.Equal(tick(0)) {
		t.Fatalf("status = %+v, %v; want the newest response time, up since the first check", all, err)
	}
}

// Skipping the write of a settled alert's passing checks keeps failures
// consecutive: up, down, up, down never fires a FailAfter 2 alert.
func TestSkippedHealthyChecksKeepFailuresConsecutive(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	observeAll(t, u, site.Key, 0, true, true, true, false, true, true, false, true, false)
	a, _, err := r.st.GetAlert(context.Background(), site.Key)
	if err != nil || a.Status == store.AlertFiring || a.Failures != 1 {
		t.Fatalf("alert = %+v, %v; want not firing, one failure", a, err)
	}
	observeAll(t, u, site.Key, 9, false) // the second in a row
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// A replica that takes the lead again reads the alerts afresh: another
// replica fired the alert meanwhile, and the first passing check recovers it.
func TestForgetReadsAlertsChangedByAnotherReplica(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u1 := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	observeAll(t, u1, site.Key, 0, true, true)
	u2 := jobs.NewUptime([]jobs.UptimeSite{site}, jobs.NewAlerter(r.st, nil), r.st, nil, nil)
	observeAll(t, u2, site.Key, 2, false, false)
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	u1.Forget()
	observeAll(t, u1, site.Key, 4, true)
	if events, err := r.pd.WaitEvents(2, 5*time.Second); err != nil || events[1].EventAction != "resolve" {
		t.Fatalf("events = %+v, %v; want the recovery", events, err)
	}
	if all, _ := r.st.SiteStatuses(context.Background()); len(all) != 1 || all[0].State != "up" || !all[0].Since.Equal(tick(4)) {
		t.Fatalf("status = %+v", all)
	}
}

// Redis loses its data while a site is steady: the next check records the
// site again in full, and a failure afterwards counts from zero and fires.
func TestHealthyCheckAfterRedisLostDataRecordsAgain(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	observeAll(t, u, site.Key, 0, true, true)
	srv.Flush(t)
	observeAll(t, u, site.Key, 2, true)
	all, err := r.st.SiteStatuses(context.Background())
	if err != nil || len(all) != 1 || all[0].State != "up" || !all[0].Since.Equal(tick(2)) {
		t.Fatalf("status after the loss = %+v, %v", all, err)
	}
	observeAll(t, u, site.Key, 3, false, false)
	if _, err := r.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// While the write-behind runs, a state change is recorded at once and a
// refresh of an earlier check never overwrites it.
func TestWriteBehindNeverOverwritesAChange(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.WriteBehind(ctx) }()
	time.Sleep(50 * time.Millisecond) // let it start
	observeAll(t, u, site.Key, 0, true, true, false)
	status := func() store.SiteStatus {
		t.Helper()
		all, err := r.st.SiteStatuses(context.Background())
		if err != nil || len(all) != 1 {
			t.Fatalf("statuses = %+v, %v", all, err)
		}
		return all[0]
	}
	if st := status(); st.State != "down" || !st.Since.Equal(tick(2)) {
		t.Fatalf("status after the change = %+v", st)
	}
	observeAll(t, u, site.Key, 3, true, true) // up again, then a refresh waits
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := status(); st.State != "up" || !st.Since.Equal(tick(3)) || st.ResponseTime != 104*time.Millisecond {
		t.Fatalf("status after the write-behind stopped = %+v; want the last check written", st)
	}
}

// Monitors that may run on any replica (StatusCake's poll) observe through
// Observe, which never skips a write: a failure recorded by another replica
// in between is seen, so up, down, up, down on alternating replicas never
// fires a FailAfter 2 alert.
func TestObserveOnAlternatingReplicasKeepsFailuresConsecutive(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u1 := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	u2 := jobs.NewUptime([]jobs.UptimeSite{site}, jobs.NewAlerter(r.st, nil), r.st, nil, nil)
	for i, c := range []struct {
		u  *jobs.Uptime
		up bool
	}{{u1, true}, {u1, true}, {u2, false}, {u1, true}, {u2, false}} {
		if err := c.u.Observe(context.Background(), site.Key, checkOf(c.up, i)); err != nil {
			t.Fatal(err)
		}
	}
	a, _, err := r.st.GetAlert(context.Background(), site.Key)
	if err != nil || a.Status == store.AlertFiring || a.Failures != 1 {
		t.Fatalf("alert = %+v, %v; want not firing, one failure", a, err)
	}
	if all, _ := r.st.SiteStatuses(context.Background()); len(all) != 1 || all[0].State != "down" {
		t.Fatalf("status = %+v", all)
	}
}
