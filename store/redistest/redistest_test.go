package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

func TestClusterFailsOverAndRestarts(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := context.Background()
	rdb := c.Connect(t)
	for _, k := range []string{"a", "b", "c", "{x}1"} {
		if err := rdb.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	m, err := c.MasterOf("{x}1")
	if err != nil {
		t.Fatal(err)
	}
	m.Stop()
	start := time.Now()
	if err := c.WaitServing(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if m2, err := c.MasterOf("{x}1"); err != nil || m2 == m {
		t.Fatalf("after the kill, master = %v, %v", m2, err)
	}
	t.Logf("replica promoted %v after the kill", time.Since(start))
	rdb.(*redis.ClusterClient).ReloadState(ctx) // else go-redis looks again only when its view is 10 s old
	time.Sleep(300 * time.Millisecond)          // the reload runs in the background
	if err := rdb.Set(ctx, "{x}2", "v", 0).Err(); err != nil {
		t.Fatalf("write after the failover: %v", err)
	}

	c.Stop()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "{x}3", "v", 0).Err(); err != nil {
		t.Fatalf("write after a restart of every node: %v", err)
	}
}

func TestSentinelFailsOverAndRestarts(t *testing.T) {
	s := redistest.StartSentinel(t)
	if err := s.WaitReady(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rdb := s.Connect(t)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := s.CurrentPrimary(); err != nil || p != s.Primary {
		t.Fatalf("primary = %v, %v", p, err)
	}
	start := time.Now()
	s.Primary.Stop()
	for {
		if p, err := s.CurrentPrimary(); err == nil && p == s.Replica {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("no failover within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("failover %v after the kill", time.Since(start))
	if err := rdb.Set(ctx, "k2", "v", 0).Err(); err != nil {
		t.Fatalf("write after the failover: %v", err)
	}

	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "k3", "v", 0).Err(); err != nil {
		t.Fatalf("write after a restart of every process: %v", err)
	}
}
