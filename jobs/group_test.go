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

// groupRig is the delivery rig with grouping on, the server monitor for
// acme (one instance) and the uptime monitor for three of its sites.
type groupRig struct {
	*rig
	src     *snapSource
	servers *jobs.Servers
	uptime  *jobs.Uptime
	now     time.Time
}

func newGroupRig(t *testing.T) *groupRig {
	t.Helper()
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	r.al.GroupWithin(10 * time.Minute)
	g := &groupRig{rig: r, src: &snapSource{snaps: map[string]integrations.ServerSnapshot{}, errs: map[string]error{}}}
	g.servers = jobs.NewServers([]jobs.ServerClient{acmeClient()}, g.src, r.st, r.al, jobs.ServersOptions{
		Defaults: store.ServerThresholds{CPU: 90, FreeStorageGB: 5, Periods: 3, SpikeFactor: 4},
		Period:   5 * time.Minute, Now: func() time.Time { return g.now }})
	var sites []jobs.UptimeSite
	for _, name := range []string{"api", "shop", "www"} {
		s := uptimeSite("uptime/acme/"+name, name, "")
		s.Thresholds = store.Thresholds{FailAfter: 2, RecoverAfter: 1}
		sites = append(sites, s)
	}
	g.uptime = jobs.NewUptime(sites, r.al, r.st, nil, nil)
	return g
}

func (g *groupRig) instance(t *testing.T, at time.Time, impaired bool) {
	t.Helper()
	i := web("i-1", "t3.medium")
	if impaired {
		i.InstanceStatus = "impaired"
	}
	g.now = at
	g.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{i},
		Metrics: []integrations.MetricSeries{series(at, "i-1", integrations.MetricCPU, 10)}}, nil)
	if err := g.servers.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (g *groupRig) sites(t *testing.T, at time.Time, state integrations.CheckState) {
	t.Helper()
	for _, name := range []string{"api", "shop", "www"} {
		res := integrations.CheckResult{Source: "probe", State: state, Error: "HTTP 502", CheckedAt: at}
		if state == integrations.StateUp {
			res.Error = ""
		}
		if err := g.uptime.Observe(context.Background(), "uptime/acme/"+name, res); err != nil {
			t.Fatal(err)
		}
	}
}

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// An instance fails its status checks and three sites of its client fail
// with it: one parent message listing them, one page. The sites recover and
// resolve one by one, then the instance: the parent closes.
func TestInstanceDownGathersItsSites(t *testing.T) {
	g := newGroupRig(t)
	parent := jobs.ServerAlertKey("acme", "i-1", "status")
	g.instance(t, tick(0), true)
	g.sites(t, tick(1), integrations.StateDown)
	g.sites(t, tick(2), integrations.StateDown) // the sites' threshold: they fire, under the instance
	g.sites(t, tick(3), integrations.StateDown)

	if _, err := g.pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the parent to list three sites", func() bool {
		top := topLevel(g.slack.Messages(supportChannel))
		return len(top) == 1 && strings.Count(string(top[0].Blocks), "— down: HTTP 502") == 3
	})
	for _, name := range []string{"api", "shop", "www"} {
		a, _, _ := g.st.GetAlert(context.Background(), "uptime/acme/"+name)
		if a.Status != store.AlertFiring || a.Parent != parent || !a.Suppressed {
			t.Fatalf("%s: %+v; want firing, suppressed under the instance", name, a)
		}
	}

	g.sites(t, tick(4), integrations.StateUp)
	for _, name := range []string{"api", "shop", "www"} {
		if a, _, _ := g.st.GetAlert(context.Background(), "uptime/acme/"+name); a.Status != store.AlertResolved {
			t.Fatalf("%s after recovery: %+v", name, a)
		}
	}
	waitUntil(t, "the parent to show the sites recovered", func() bool {
		top := topLevel(g.slack.Messages(supportChannel))
		return len(top) == 1 && strings.Count(string(top[0].Blocks), "— recovered") == 3
	})
	g.instance(t, tick(5), false)
	if _, err := g.pd.WaitEvents(2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the parent to close", func() bool {
		top := topLevel(g.slack.Messages(supportChannel))
		return len(top) == 1 && strings.Contains(top[0].Text, "RECOVERED")
	})
	// parent; 3 "down too", 3 "recovered" and the recovery line in its thread
	waitUntil(t, "the thread lines", func() bool { return len(g.slack.Messages(supportChannel)) >= 1+3+3+1 })
	time.Sleep(200 * time.Millisecond) // anything else queued would be delivered by now
	evs := g.pd.Events()
	if len(evs) != 2 || evs[0].DedupKey != "opsbot/"+parent || evs[1].EventAction != "resolve" {
		t.Fatalf("pages = %+v; want one trigger and its resolve, for the instance", evs)
	}
	if !strings.Contains(evs[0].Payload.Summary, "web-i-1 (i-1) status checks in breach") {
		t.Errorf("summary = %q", evs[0].Payload.Summary)
	}
	if msgs := g.slack.Messages("C0ACMEALRT"); len(msgs) != 0 {
		t.Fatalf("site alerts posted on their own: %+v", msgs)
	}
	if all := g.slack.Messages(supportChannel); len(all) != 1+3+3+1 {
		for _, m := range all {
			t.Logf("%s %q", m.ThreadTS, m.Text)
		}
		t.Fatalf("%d messages in the support channel", len(all))
	}
}

// Sites that fired just before the instance are adopted (they keep their
// message and page); a site still down when the instance recovers alerts
// on its own then; a site already failing for an hour is not gathered.
func TestGroupAdoptsAndReleases(t *testing.T) {
	g := newGroupRig(t)
	ctx := context.Background()
	parent := jobs.ServerAlertKey("acme", "i-1", "status")
	old := uptimeSite("uptime/acme/old", "old", "")
	old.Thresholds = store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	if _, err := g.al.Observe(ctx, old.Subject, false, "HTTP 500", tick(0).Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	g.sites(t, tick(0), integrations.StateDown)
	g.sites(t, tick(1), integrations.StateDown) // fired: own messages and pages
	g.instance(t, tick(2), true)                // within 10 minutes: adopted
	for _, name := range []string{"api", "shop", "www"} {
		a, _, _ := g.st.GetAlert(ctx, "uptime/acme/"+name)
		if a.Parent != parent || a.Suppressed {
			t.Fatalf("%s: parent %q suppressed %v; want adopted", name, a.Parent, a.Suppressed)
		}
	}
	if a, _, _ := g.st.GetAlert(ctx, "uptime/acme/old"); a.Parent != "" {
		t.Fatalf("an hour-old alert was gathered: %+v", a)
	}
	p, _, _ := g.st.GetAlert(ctx, parent)
	if len(p.Children) != 3 || !p.Gathering {
		t.Fatalf("parent = %+v", p)
	}

	// A second instance failing does not take the group over.
	if _, err := g.al.Observe(ctx, jobs.Subject{Key: jobs.ServerAlertKey("acme", "i-2", "status"), Monitor: "server", Client: "acme",
		Name: "i-2", Site: "i-2", Channel: supportChannel, PagerRef: "acme", Gathers: true,
		Thresholds: store.Thresholds{FailAfter: 1, RecoverAfter: 1}}, false, "impaired", tick(3), false); err != nil {
		t.Fatal(err)
	}
	if key, _ := g.st.AlertGroup(ctx, "acme"); key != parent {
		t.Fatalf("group = %q, want %q", key, parent)
	}
	if a, _, _ := g.st.GetAlert(ctx, jobs.ServerAlertKey("acme", "i-2", "status")); a.Gathering {
		t.Fatalf("second instance gathers too")
	}
}

// A site that fires under the instance and is still down when the instance
// recovers alerts on its own; one already passing checks again is not paged.
func TestClosedParentReleasesSitesStillDown(t *testing.T) {
	g := newGroupRig(t)
	ctx := context.Background()
	g.instance(t, tick(0), true)
	g.sites(t, tick(1), integrations.StateDown)
	g.sites(t, tick(2), integrations.StateDown) // suppressed under the instance
	// api passes once (recovering); shop and www still fail.
	for name, state := range map[string]integrations.CheckState{"api": integrations.StateUp, "shop": integrations.StateDown, "www": integrations.StateDown} {
		s := uptimeSite("uptime/acme/"+name, name, "")
		s.Thresholds = store.Thresholds{FailAfter: 2, RecoverAfter: 2}
		if _, err := g.al.Observe(ctx, s.Subject, state == integrations.StateUp, "HTTP 502", tick(3), false); err != nil {
			t.Fatal(err)
		}
	}
	g.instance(t, tick(4), false)
	for name, want := range map[string]bool{"api": true, "shop": false, "www": false} {
		a, _, _ := g.st.GetAlert(ctx, "uptime/acme/"+name)
		if a.Suppressed != want {
			t.Errorf("%s suppressed = %v, want %v (%+v)", name, a.Suppressed, want, a)
		}
	}
	evs, err := g.pd.WaitEvents(4, 5*time.Second) // instance trigger+resolve, shop and www triggers
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, e := range evs {
		keys[e.DedupKey+" "+e.EventAction]++
	}
	if keys["opsbot/uptime/acme/shop trigger"] != 1 || keys["opsbot/uptime/acme/www trigger"] != 1 || keys["opsbot/uptime/acme/api trigger"] != 0 {
		t.Fatalf("pages = %v", keys)
	}
}
