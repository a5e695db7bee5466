package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestServersSaveReadAndFetchError(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	if _, ok, err := s.Servers(ctx, "acme"); err != nil || ok {
		t.Fatalf("Servers before any snapshot = ok %v, %v", ok, err)
	}
	rec := store.ServerRecord{Client: "acme", TakenAt: t0, Resources: []store.ServerResource{
		{Kind: store.ResourceInstance, ID: "i-1", Name: "web", Type: "t3.medium", State: "running", SystemStatus: "ok", InstanceStatus: "ok",
			Metrics: map[string]store.MetricValue{store.MetricCPU: {Value: 42.5, At: t0.Add(-5 * time.Minute)}}},
		{Kind: store.ResourceDatabase, ID: "db-1", Type: "db.t3.medium", State: "available", StorageBytes: 20 << 30},
	}}
	if err := s.SaveServers(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.SetServersFetchError(ctx, "acme", "AWS is throttling", t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Servers(ctx, "acme")
	if err != nil || !ok {
		t.Fatalf("Servers = ok %v, %v", ok, err)
	}
	if !got.TakenAt.Equal(t0) || len(got.Resources) != 2 || got.FetchError != "AWS is throttling" || !got.FetchErrorAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("record = %+v", got)
	}
	if cpu, ok := got.Resources[0].Metric(store.MetricCPU); !ok || cpu.Value != 42.5 {
		t.Fatalf("cpu = %+v, %v", cpu, ok)
	}
	// A fetch error alone (no snapshot yet) is still a record.
	if err := s.SetServersFetchError(ctx, "beta", "AccessDenied", t0); err != nil {
		t.Fatal(err)
	}
	all, err := s.AllServers(ctx)
	if err != nil || len(all) != 2 || all["beta"].FetchError != "AccessDenied" || len(all["beta"].Resources) != 0 || len(all["acme"].Resources) != 2 {
		t.Fatalf("AllServers = %+v, %v", all, err)
	}
	// A new snapshot clears the error.
	rec.TakenAt = t0.Add(15 * time.Minute)
	if err := s.SaveServers(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Servers(ctx, "acme"); got.FetchError != "" || !got.TakenAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("after a good snapshot = %+v", got)
	}
	rdb.HSet(ctx, "opsbot:servers", "gamma", "{not json")
	if _, err := s.AllServers(ctx); err == nil {
		t.Fatal("a corrupt record went unnoticed")
	}
}
