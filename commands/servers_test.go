package commands_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

var serversT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const serversSupport = "USRVSUPP01"

var thresholdDefaults = store.ServerThresholds{CPU: 90, FreeStorageGB: 5, Periods: 3, SpikeFactor: 4}

// serverDeps wires the real store as the servers view and threshold store.
func serverDeps(d *commands.Deps, st *store.Store) {
	clk := &clock{t: serversT0}
	d.Servers, d.Thresholds, d.Now = st, st, clk.Now
	d.ThresholdDefaults = thresholdDefaults
	d.ServerThresholds = map[string]store.ServerThresholds{"acme": {CPU: 85}}
	d.Clients = map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co", "gamma": "Gamma"}
}

func newServersFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixtureWith(t, serverDeps)
	f.grant(t, serversSupport, store.Grant{Role: store.Support})
	f.grant(t, stakeholderAcme, store.Grant{Role: store.Stakeholder, Client: "acme"})
	return f
}

func cpu(v float64) map[string]store.MetricValue {
	return map[string]store.MetricValue{store.MetricCPU: {Value: v, At: serversT0.Add(-10 * time.Minute)}}
}

func (f *fixture) standardServers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db := store.ServerResource{Kind: store.ResourceDatabase, ID: "acme-db", Region: "eu-west-1", Type: "db.t3.medium", Engine: "postgres",
		State: "available", StorageBytes: 100 << 30, Metrics: map[string]store.MetricValue{
			store.MetricCPU: {Value: 12, At: serversT0}, store.MetricFreeStorage: {Value: 3 << 30, At: serversT0}}}
	recs := []store.ServerRecord{
		{Client: "acme", TakenAt: serversT0.Add(-4 * time.Minute), Resources: []store.ServerResource{
			{Kind: store.ResourceInstance, ID: "i-web", Name: "web <1>", Region: "eu-west-1", Type: "t3.medium", State: "running",
				SystemStatus: "ok", InstanceStatus: "ok", Metrics: cpu(42)},
			{Kind: store.ResourceInstance, ID: "i-hot", Name: "worker", Region: "eu-west-1", Type: "c5.large", State: "running",
				SystemStatus: "ok", InstanceStatus: "ok", Metrics: cpu(88)},
			{Kind: store.ResourceInstance, ID: "i-bad", Region: "eu-west-1", Type: "t3.small", State: "running",
				SystemStatus: "impaired", InstanceStatus: "ok", Metrics: cpu(5)},
			db,
		}},
		{Client: "beta", TakenAt: serversT0.Add(-time.Hour), Resources: []store.ServerResource{
			{Kind: store.ResourceInstance, ID: "i-b1", Type: "t3.micro", State: "stopped"}}},
	}
	for _, r := range recs {
		if err := f.st.SaveServers(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.SetServersFetchError(ctx, "beta", "AWS is throttling or unavailable: Throttling: Rate exceeded", serversT0.Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func TestServersOneClient(t *testing.T) {
	f := newServersFixture(t)
	f.standardServers(t)
	got := f.run(serversSupport, "servers AC")
	all := text(got)
	checkLimits(t, got)
	if got.InChannel {
		t.Error("servers reply is in channel; want ephemeral")
	}
	for _, want := range []string{
		"Acme Ltd — servers: 3 instances, 1 database: 1 🔴 down, 2 🟠 over threshold, 1 🟢 ok",
		"Data from 4m ago",
		"🔴 *status check failed* `i-bad` — t3.small, running, eu-west-1 · status checks: system impaired, instance ok",
		"🟠 *CPU high* *worker* `i-hot` — c5.large, running, eu-west-1 · status checks: system ok, instance ok · CPU 88.0 % (alerts above 85 %)",
		"🟠 *storage low* `acme-db` — db.t3.medium postgres, available, eu-west-1 · CPU 12.0 % (alerts above 85 %) · free storage 3.0 GB of 100.0 GB (alerts below 5 GB)",
		"🟢 *ok* *web &lt;1&gt;* `i-web`",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("reply lacks %q:\n%s", want, all)
		}
	}
	if strings.Index(all, "i-bad") > strings.Index(all, "i-web") {
		t.Errorf("the failed instance is not listed first:\n%s", all)
	}
}

func TestServersThrottledClientShowsOldDataAndWhy(t *testing.T) {
	f := newServersFixture(t)
	f.standardServers(t)
	all := text(f.run(admin, "servers beta"))
	for _, want := range []string{"⚪ *stopped* `i-b1`", "Data from 1h ago", "⚠️ The latest read failed 2m ago: AWS is throttling", "Older data shown."} {
		if !strings.Contains(all, want) {
			t.Errorf("reply lacks %q:\n%s", want, all)
		}
	}
	if all := text(f.run(admin, "servers gamma")); !strings.Contains(all, "No server data yet") {
		t.Errorf("client without data:\n%s", all)
	}
}

func TestServersAllClientsByRole(t *testing.T) {
	f := newServersFixture(t)
	f.standardServers(t)
	all := text(f.run(admin, "servers"))
	for _, want := range []string{
		"Servers — all clients: 3 clients · 4 instances, 1 database: 1 🔴 down, 2 🟠 over threshold, 1 ⚪ stopped or not ready, 1 🟢 ok",
		"🔴 Acme Ltd (`acme`) — 3 instances, 1 database",
		"⚪ Beta &amp; Co (`beta`) — 1 instance, 0 databases: 1 ⚪ stopped or not ready · 1h ago · ⚠️ AWS is throttling",
		"⚪ Gamma (`gamma`) — no server data yet",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("admin view lacks %q:\n%s", want, all)
		}
	}
	if support := text(f.run(serversSupport, "servers")); !strings.Contains(support, "3 clients") {
		t.Errorf("support view:\n%s", support)
	}
	own := text(f.run(stakeholderAcme, "servers"))
	if !strings.Contains(own, "Servers — all your clients: 1 client") || strings.Contains(own, "Beta") || strings.Contains(own, "Gamma") {
		t.Errorf("stakeholder sees other clients:\n%s", own)
	}
	if one := text(f.run(stakeholderAcme, "servers acme")); !strings.Contains(one, "i-hot") {
		t.Errorf("stakeholder's own client:\n%s", one)
	}
}

func TestServersRefusalsAndBadInput(t *testing.T) {
	f := newServersFixture(t)
	f.standardServers(t)
	f.grant(t, "UFINANCE01", store.Grant{Role: store.Finance})
	tests := []struct{ user, in, prefix, want string }{
		// Another client and no client get the same answer, naming neither.
		{stakeholderAcme, "servers beta", ":no_entry:", "\"beta\" is not one of the clients you can see. Clients you can see: Acme Ltd (`acme`)."},
		{stakeholderAcme, "servers zzz", ":no_entry:", "\"zzz\" is not one of the clients you can see. Clients you can see: Acme Ltd (`acme`)."},
		{serversSupport, "servers zzz", ":warning:", "I don't know a client called \"zzz\". Clients you can see: Acme Ltd (`acme`), Beta &amp; Co (`beta`)"},
		{serversSupport, "servers <b>", ":warning:", "&lt;b&gt;"},
		{serversSupport, "servers acme beta", ":warning:", "takes at most one client"},
		{"UFINANCE01", "servers", ":no_entry:", "To run `/ops servers` you need one of these roles"},
		{"UNOBODY001", "servers acme", ":no_entry:", "you have no role yet"},
	}
	for _, tt := range tests {
		got := f.run(tt.user, tt.in)
		if !strings.HasPrefix(got.Text, tt.prefix) || !strings.Contains(got.Text, tt.want) || got.InChannel {
			t.Errorf("%s %q → %q; want %s … %q, ephemeral", tt.user, tt.in, got.Text, tt.prefix, tt.want)
		}
		if strings.Contains(got.Text, "i-hot") {
			t.Errorf("%s %q leaked server data: %q", tt.user, tt.in, got.Text)
		}
	}
}

func TestServersNotConfigured(t *testing.T) {
	f := newFixture(t)
	if got := f.run(admin, "servers"); !strings.Contains(got.Text, "Server monitoring is not configured") {
		t.Fatalf("reply: %q", got.Text)
	}
}

// BenchmarkServers50Clients answers `/ops servers` (all clients, then one)
// for 50 clients of 6 resources each from Redis through the router, and
// reports the p99 latency.
func BenchmarkServers50Clients(b *testing.B) {
	srv := redistest.Start(b)
	st := store.New(srv.Client(b), "opsbot:")
	ctx := context.Background()
	clients := map[string]string{}
	for i := range 50 {
		key := fmt.Sprintf("client%02d", i)
		clients[key] = fmt.Sprintf("Client %d", i)
		rec := store.ServerRecord{Client: key, TakenAt: serversT0.Add(-3 * time.Minute)}
		for j := range 5 {
			rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceInstance, ID: fmt.Sprintf("i-%02d%02d", i, j),
				Name: "web", Region: "eu-west-1", Type: "t3.medium", State: "running", SystemStatus: "ok", InstanceStatus: "ok", Metrics: cpu(float64(10 * j))})
		}
		rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceDatabase, ID: key + "-db", Type: "db.t3.medium", State: "available",
			StorageBytes: 100 << 30, Metrics: map[string]store.MetricValue{store.MetricFreeStorage: {Value: 40 << 30, At: serversT0}}})
		if err := st.SaveServers(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	clk := &clock{t: serversT0}
	r, err := commands.New(commands.Deps{Roles: st, Audit: st, Servers: st, Thresholds: st, Clients: clients, Admins: []string{admin},
		ThresholdDefaults: thresholdDefaults, SigningKey: []byte("0123456789abcdef0123456789abcdef"), Now: clk.Now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		text := "servers"
		if i%2 == 1 {
			text = "servers client07"
		}
		start := time.Now()
		reply := r.Command(ctx, commands.Command{User: commands.User{ID: admin}, ChannelID: "C0OPS0001", Text: text})
		lat = append(lat, time.Since(start))
		if !strings.HasPrefix(reply.Text, "Servers — all clients: 50 clients") && !strings.HasPrefix(reply.Text, "Client 7 — servers") {
			b.Fatalf("reply: %q", reply.Text)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
}
