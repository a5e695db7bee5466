package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

func TestServersCPUAboveThresholdForNPeriodsAlertsThenRecovers(t *testing.T) {
	c := acmeClient()
	c.Thresholds = store.ServerThresholds{CPU: 80} // config; periods stay the default 3
	r := newServerRig(t, c)
	key := jobs.ServerAlertKey("acme", "i-1", "cpu")
	cpu := []float64{10, 10, 10, 50, 85, 90}
	step := func(v ...float64) {
		cpu = append(cpu, v...)
		r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")},
			// Periods are fixed in time: a round without a new value sees the same points.
			Metrics: []integrations.MetricSeries{series(srvT0.Add(time.Duration(len(cpu)-6)*5*time.Minute), "i-1", integrations.MetricCPU, cpu...)}}, nil)
		r.run(t)
	}
	step()
	if a := r.alert(t, key); a.Status != store.AlertOK || a.Failures != 2 {
		t.Fatalf("after two periods above 80 %%: %+v; want ok with 2 failures", a)
	}
	step() // no new period: the same two breaches, not a third
	if a := r.alert(t, key); a.Status != store.AlertOK || a.Failures != 2 {
		t.Fatalf("a round without a new period counted: %+v", a)
	}
	step(95)
	a := r.alert(t, key)
	if a.Status != store.AlertFiring || !strings.Contains(a.LastError, "CPU 95 % is above the 80 % threshold") || a.Channel != supportChannel {
		t.Fatalf("after the third period: %+v; want firing in the support channel", a)
	}
	evs := pagerEvents(t, r.rdb, key)
	if len(evs) != 1 || evs[0]["Severity"] != "error" || evs[0]["Action"] != "trigger" {
		t.Fatalf("pager events = %+v; want one error trigger", evs)
	}
	step(20, 20) // two healthy periods: RecoverAfter is the periods too
	if a := r.alert(t, key); a.Status != store.AlertFiring {
		t.Fatalf("recovered after two healthy periods: %+v", a)
	}
	step(20)
	if a := r.alert(t, key); a.Status != store.AlertResolved {
		t.Fatalf("after three healthy periods: %+v; want resolved", a)
	}
	if evs := pagerEvents(t, r.rdb, key); len(evs) != 2 || evs[1]["Action"] != "resolve" {
		t.Fatalf("pager events = %+v; want trigger then resolve", evs)
	}
	rec, ok, err := r.st.Servers(context.Background(), "acme")
	if cpu, _ := rec.Resources[0].Metric(store.MetricCPU); err != nil || !ok || cpu.Value != 20 {
		t.Fatalf("stored record = %+v, %v, %v", rec, ok, err)
	}
}

func TestServersFailedStatusCheckPagesCriticalAndResolves(t *testing.T) {
	r := newServerRig(t, acmeClient())
	bad := web("i-1", "t3.medium")
	bad.SystemStatus = "impaired"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{bad}}, nil)
	r.run(t)
	key := jobs.ServerAlertKey("acme", "i-1", "status")
	if a := r.alert(t, key); a.Status != store.AlertFiring || !strings.Contains(a.LastError, "system impaired") {
		t.Fatalf("alert = %+v; want firing at the first failed check", a)
	}
	if evs := pagerEvents(t, r.rdb, key); len(evs) != 1 || evs[0]["Severity"] != "critical" {
		t.Fatalf("pager events = %+v; want one critical", evs)
	}
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")}}, nil)
	r.run(t)
	if a := r.alert(t, key); a.Status != store.AlertResolved {
		t.Fatalf("alert = %+v; want resolved", a)
	}
}

func TestServersSilencedClientDoesNotFire(t *testing.T) {
	r := newServerRig(t, acmeClient())
	if _, err := r.st.AddSilence(context.Background(), store.Silence{Client: "acme", Reason: "maintenance", CreatedBy: "U1",
		Start: srvT0.Add(-time.Hour), End: srvT0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	bad := web("i-1", "t3.medium")
	bad.InstanceStatus = "impaired"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{bad}}, nil)
	r.run(t)
	if a := r.alert(t, jobs.ServerAlertKey("acme", "i-1", "status")); a.Status != store.AlertOK || !a.Muted {
		t.Fatalf("alert = %+v; want muted, not firing", a)
	}
	if q := outbox(t, r.rdb); len(q) != 0 {
		t.Fatalf("silenced failure queued %+v", q)
	}
}

func TestServersFreeStorageUsesOverride(t *testing.T) {
	c := acmeClient()
	c.Thresholds = store.ServerThresholds{FreeStorageGB: 1, Periods: 1}
	r := newServerRig(t, c)
	v, _ := store.ParseThreshold("free_storage_gb", "10")
	if _, _, err := r.st.SetThreshold(context.Background(), "UADMIN", "acme", v, srvT0); err != nil {
		t.Fatal(err)
	}
	db := integrations.Database{ID: "db-1", Region: "eu-west-1", Class: "db.t3.medium", Engine: "postgres", Status: "available", StorageBytes: 100 << 30}
	r.src.set("acme", integrations.ServerSnapshot{Databases: []integrations.Database{db},
		Metrics: []integrations.MetricSeries{series(r.now, "db-1", integrations.MetricFreeStorage, 6<<30)}}, nil)
	r.run(t)
	a := r.alert(t, jobs.ServerAlertKey("acme", "db-1", "free_storage"))
	if a.Status != store.AlertFiring || !strings.Contains(a.LastError, "free storage 6 GB is below the 10 GB threshold") {
		t.Fatalf("alert = %+v; want firing against the 10 GB override (config says 1)", a)
	}
}

func TestServersInventoryChangesPostedOncePerEvent(t *testing.T) {
	r := newServerRig(t, acmeClient())
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium"), web("i-2", "t3.small")}}, nil)
	r.run(t)
	if p := posts(t, r.rdb); len(p) != 0 {
		t.Fatalf("first snapshot posted %q; want no 'appeared' noise", p)
	}
	first, _, _ := r.st.Servers(context.Background(), "acme")
	gone := web("i-2", "t3.small")
	gone.State = "terminated"
	second := integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "m5.large"), gone, web("i-3", "t3.micro")}}
	r.src.set("acme", second, nil)
	r.run(t)
	got := strings.Join(posts(t, r.rdb), "\n")
	for _, want := range []string{
		"instance *web-i-3* (`i-3`) appeared (t3.micro, eu-west-1)",
		"instance *web-i-1* (`i-1`) changed type from t3.medium to m5.large",
		"instance *web-i-2* (`i-2`) (t3.small, eu-west-1) is terminated; it was running",
		"Acme &lt;Ltd&gt;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("posts lack %q:\n%s", want, got)
		}
	}
	if n := len(posts(t, r.rdb)); n != 3 {
		t.Fatalf("%d posts, want 3:\n%s", n, got)
	}
	// A retried round against the same previous snapshot posts nothing new.
	if err := r.st.SaveServers(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	r.run(t) // and a steady state posts nothing either
	if n := len(posts(t, r.rdb)); n != 3 {
		t.Fatalf("%d posts after a retry and a steady round, want still 3", n)
	}
}

func TestServersSpikes(t *testing.T) {
	tests := []struct {
		name   string
		metric string
		values []float64
		want   string // "" = no post
	}{
		{"idle box 0.5 % to 3 % is no spike", integrations.MetricCPU, []float64{0.5, 0.4, 0.6, 0.5, 3}, ""},
		{"CPU 10 % to 80 %", integrations.MetricCPU, []float64{10, 12, 8, 10, 80}, "CPU spike on *web-i-1* (`i-1`) — 80 % in the period"},
		{"below the factor", integrations.MetricCPU, []float64{30, 30, 30, 30, 90}, ""},
		{"too little history", integrations.MetricCPU, []float64{5, 90}, ""},
		{"network out 10 MB to 900 MB", integrations.MetricNetworkOut, []float64{10e6, 12e6, 8e6, 10e6, 900e6}, "NetworkOut spike on *web-i-1* (`i-1`) — 900 MB"},
		{"network out under the floor", integrations.MetricNetworkOut, []float64{1e6, 1e6, 1e6, 1e6, 50e6}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newServerRig(t, acmeClient())
			r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")},
				Metrics: []integrations.MetricSeries{series(r.now, "i-1", tt.metric, tt.values...)}}, nil)
			r.run(t)
			p := posts(t, r.rdb)
			switch {
			case tt.want == "" && len(p) != 0:
				t.Fatalf("posted %q; want no spike", p)
			case tt.want != "" && (len(p) != 1 || !strings.Contains(p[0], tt.want)):
				t.Fatalf("posts = %q; want one containing %q", p, tt.want)
			}
		})
	}
}

func TestServersSustainedSpikeIsOneEvent(t *testing.T) {
	r := newServerRig(t, acmeClient())
	out := []float64{10e6, 10e6, 10e6, 10e6, 10e6, 900e6}
	for range 3 {
		r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")},
			Metrics: []integrations.MetricSeries{series(r.now, "i-1", integrations.MetricNetworkOut, out...)}}, nil)
		r.run(t)
		out = append(out[1:], 900e6) // still spiking: the same event
	}
	if p := posts(t, r.rdb); len(p) != 1 || !strings.Contains(p[0], "90× the trailing average of 10 MB") {
		t.Fatalf("posts = %q; want one spike post with its evidence", p)
	}
}

func TestServersAccessDeniedPostedOncePerDayAndKeepsSnapshot(t *testing.T) {
	r := newServerRig(t, acmeClient())
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{web("i-1", "t3.medium")}}, nil)
	r.run(t)
	denied := &integrations.PermissionError{Action: "ec2:DescribeInstances", Err: fmt.Errorf("awsmon: describe instances: missing IAM permission ec2:DescribeInstances (or invalid credentials): AccessDenied: no: %w", integrations.ErrUnauthorized)}
	r.src.set("acme", integrations.ServerSnapshot{}, denied)
	r.run(t)
	r.run(t)
	p := posts(t, r.rdb)
	if len(p) != 1 || !strings.Contains(p[0], "AWS denied `ec2:DescribeInstances`") {
		t.Fatalf("posts = %q; want one naming the IAM action", p)
	}
	rec, _, _ := r.st.Servers(context.Background(), "acme")
	if len(rec.Resources) != 1 || !strings.Contains(rec.FetchError, "ec2:DescribeInstances") {
		t.Fatalf("record = %+v; want the old snapshot and the reason", rec)
	}
	r.now = r.now.Add(24 * time.Hour)
	r.run(t)
	if p := posts(t, r.rdb); len(p) != 2 {
		t.Fatalf("%d posts the next day, want 2", len(p))
	}
}

func TestServersThrottlingSkipsRoundKeepsSnapshot(t *testing.T) {
	r := newServerRig(t, acmeClient())
	bad := web("i-1", "t3.medium")
	bad.SystemStatus = "impaired"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{bad}}, nil)
	r.run(t)
	throttled := &integrations.RetryableError{Op: "awsmon: get metric data", StatusCode: 400, Err: errors.New("Throttling: Rate exceeded")}
	r.src.set("acme", integrations.ServerSnapshot{}, throttled)
	r.run(t)
	rec, _, _ := r.st.Servers(context.Background(), "acme")
	if len(rec.Resources) != 1 || !rec.TakenAt.Equal(srvT0) || !strings.Contains(rec.FetchError, "throttling") {
		t.Fatalf("record = %+v; want the first snapshot kept with a throttling note", rec)
	}
	if a := r.alert(t, jobs.ServerAlertKey("acme", "i-1", "status")); a.Status != store.AlertFiring {
		t.Fatalf("a throttled round changed the alert: %+v", a)
	}
	if p := posts(t, r.rdb); len(p) != 0 {
		t.Fatalf("throttling posted %q", p)
	}
}
