package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

// BenchmarkCostAndServers50Clients measures `/ops cost` and `/ops servers`
// without a client (one line per client) for 50 clients answered from the
// Redis cache, end to end: slash command over the fake Slack's websocket,
// the program, real Redis, and the reply posted to the response_url.
func BenchmarkCostAndServers50Clients(b *testing.B) {
	e := startAWS(b, 50)
	ctx := context.Background()
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		snap := store.CostSnapshot{Currency: "USD", FetchedAt: now.Add(-time.Hour), Month: month,
			MonthToDate: 400 + float64(i), LastMonth: 610, Forecast: 600 + float64(i), HasForecast: true,
			Services: []store.CostService{{Service: "Amazon Elastic Compute Cloud - Compute", Amount: 300}, {Service: "Amazon Relational Database Service", Amount: 100}}}
		for d := month; d.Before(now); d = d.AddDate(0, 0, 1) {
			snap.Days = append(snap.Days, store.CostDay{Day: d, Amount: 20})
		}
		if err := e.st.SaveCostSnapshot(ctx, clientOf(i), snap); err != nil {
			b.Fatal(err)
		}
		rec := store.ServerRecord{Client: clientOf(i), TakenAt: now.Add(-time.Minute)}
		for r := range 4 {
			rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceInstance, ID: "i-0abc0000000000" + string(rune('a'+r)) + "0",
				Name: "web", Region: "eu-west-1", Type: "t3.medium", State: "running", SystemStatus: "ok", InstanceStatus: "ok",
				Metrics: map[string]store.MetricValue{store.MetricCPU: {Value: 42, At: now.Add(-5 * time.Minute)}}})
		}
		rec.Resources = append(rec.Resources, store.ServerResource{Kind: store.ResourceDatabase, ID: "db-main", Type: "db.t3.medium",
			State: "available", StorageBytes: 100 << 30, Metrics: map[string]store.MetricValue{store.MetricFreeStorage: {Value: 40 << 30, At: now}}})
		if err := e.st.SaveServers(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	for _, verb := range []string{"cost", "servers"} {
		if got := e.command(b, admin, verb); !strings.Contains(got, "Client 49") || strings.Contains(got, "went wrong") {
			b.Fatalf("/ops %s for 50 clients:\n%s", verb, got)
		}
	}
	var cost, servers []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		e.command(b, admin, "cost")
		cost = append(cost, time.Since(t0))
		t0 = time.Now()
		e.command(b, admin, "servers")
		servers = append(servers, time.Since(t0))
	}
	b.StopTimer()
	for name, d := range map[string][]time.Duration{"cost": cost, "servers": servers} {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, name+"-p99-ms")
	}
}
