package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// CloudWatch stops sending CPU for an instance in breach: after the
// periods of grace it is "no data" (its own alert, a warning), and the CPU
// alert closes as stale instead of staying in breach for ever. When data
// is back, the no-data alert resolves.
func TestServersNoDataIsItsOwnState(t *testing.T) {
	c := acmeClient()
	c.Thresholds = store.ServerThresholds{CPU: 80}
	r := newServerRig(t, c)
	cpuKey, noKey := jobs.ServerAlertKey("acme", "i-1", "cpu"), jobs.ServerAlertKey("acme", "i-1", "nodata")
	hot := series(srvT0, "i-1", integrations.MetricCPU, 95, 95, 95)
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")},
		Metrics: []integrations.MetricSeries{hot}}, nil)
	r.run(t)
	if a := r.alert(t, cpuKey); a.Status != store.AlertFiring {
		t.Fatalf("cpu alert = %+v; want firing", a)
	}
	// The same points, round after round: nothing new from CloudWatch.
	for range 3 {
		r.run(t)
		if a := r.alert(t, noKey); a.Status == store.AlertFiring {
			t.Fatalf("no data declared within the grace of 3+1 periods (at %v)", r.now)
		}
	}
	r.run(t) // the last point is now more than 4 periods old
	no := r.alert(t, noKey)
	if no.Status != store.AlertFiring || no.Monitor != "nodata" || !strings.Contains(no.LastError, "no CPU data for 3 periods") {
		t.Fatalf("no-data alert = %+v", no)
	}
	cpu := r.alert(t, cpuKey)
	if cpu.Status != store.AlertResolved || !cpu.Stale || cpu.ResolvedBy != "" {
		t.Fatalf("cpu alert = %+v; want closed as stale", cpu)
	}
	evs := pagerEvents(t, r.rdb, noKey)
	if len(evs) != 1 || evs[0]["Severity"] != "warning" || !strings.Contains(evs[0]["Summary"].(string), "metrics without data") {
		t.Fatalf("no-data pages = %+v", evs)
	}
	if evs := pagerEvents(t, r.rdb, cpuKey); len(evs) != 2 || evs[1]["Action"] != "resolve" {
		t.Fatalf("cpu pages = %+v; want trigger and resolve", evs)
	}
	// Data comes back (healthy): the no-data alert resolves, the CPU alert stays closed.
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")},
		Metrics: []integrations.MetricSeries{series(r.now, "i-1", integrations.MetricCPU, 20)}}, nil)
	r.run(t)
	if a := r.alert(t, noKey); a.Status != store.AlertResolved || a.Stale {
		t.Fatalf("no-data alert after data came back = %+v", a)
	}
	if a := r.alert(t, cpuKey); a.Status != store.AlertResolved {
		t.Fatalf("cpu alert = %+v", a)
	}
}

// A freshly launched instance is not "no data" before CloudWatch could report.
func TestServersNoDataSparesNewInstances(t *testing.T) {
	r := newServerRig(t, acmeClient())
	i := web("i-1", "t3.medium")
	i.LaunchedAt = srvT0.Add(-time.Minute)
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{i}}, nil)
	for range 3 {
		r.run(t)
	}
	if a := r.alert(t, jobs.ServerAlertKey("acme", "i-1", "nodata")); a.Status == store.AlertFiring {
		t.Fatalf("a new instance is 'no data': %+v", a)
	}
	for range 2 {
		r.run(t)
	}
	if a := r.alert(t, jobs.ServerAlertKey("acme", "i-1", "nodata")); a.Status != store.AlertFiring {
		t.Fatalf("still no data 25 minutes after launch: %+v", a)
	}
}

// Unusual activity pages as the client's config says (default: a vanished
// instance pages, a new one is posted only), once per event.
func TestServersUnusualActivityPagesPerConfig(t *testing.T) {
	c := acmeClient()
	c.Name, c.PageOn = "ACME Ltd", []string{"vanished"}
	r := newServerRig(t, c)
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium"), web("i-2", "t3.small")}}, nil)
	r.run(t)
	gone := web("i-2", "t3.small")
	gone.State = "terminated"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium"), gone, web("i-3", "t3.micro")}}, nil)
	r.run(t)
	r.run(t)
	var pages []map[string]any
	for _, q := range outbox(t, r.rdb) {
		if q.Kind == "pagerduty" && q.Subject == "servers/acme" {
			pages = append(pages, q.Payload["event"].(map[string]any))
		}
	}
	if len(pages) != 1 || pages[0]["Summary"] != "ACME Ltd — unusual activity: instance web-i-2 (i-2) (t3.small, eu-west-1) terminated" ||
		pages[0]["Component"] != "vanished" {
		t.Fatalf("pages = %+v; want one, for the vanished instance", pages)
	}
	if n := len(posts(t, r.rdb)); n != 2 {
		t.Fatalf("%d posts, want 2 (appeared, vanished)", n)
	}
}
