package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

func TestLockTwoReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := store.New(srv.Client(t), "opsbot:")
	b := store.New(srv.Client(t), "opsbot:")

	releaseA, ok, err := a.Lock(ctx, "job:report", time.Minute)
	if err != nil || !ok {
		t.Fatalf("replica a: Lock = %v, %v; want true, nil", ok, err)
	}
	releaseB, ok, err := b.Lock(ctx, "job:report", time.Minute)
	if err != nil || ok {
		t.Fatalf("replica b while a holds it: Lock = %v, %v; want false, nil", ok, err)
	}
	if err := releaseB(ctx); err != nil {
		t.Errorf("no-op release of a lock not obtained: %v", err)
	}
	// Another name is independent.
	if _, ok, err := b.Lock(ctx, "job:other", time.Minute); err != nil || !ok {
		t.Fatalf("other name: Lock = %v, %v; want true, nil", ok, err)
	}
	if err := releaseA(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := releaseA(ctx); !errors.Is(err, store.ErrLockNotHeld) {
		t.Errorf("double release = %v, want ErrLockNotHeld", err)
	}
	if _, ok, err := b.Lock(ctx, "job:report", time.Minute); err != nil || !ok {
		t.Fatalf("replica b after release: Lock = %v, %v; want true, nil", ok, err)
	}
}

func TestLockExpires(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := store.New(srv.Client(t), "opsbot:")
	b := store.New(srv.Client(t), "opsbot:")

	releaseA, ok, err := a.Lock(ctx, "crashy", 100*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, ok, err := b.Lock(ctx, "crashy", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock with a 100ms ttl never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := releaseA(ctx); !errors.Is(err, store.ErrLockNotHeld) {
		t.Errorf("stale holder's release = %v, want ErrLockNotHeld", err)
	}
}

func TestLockUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), "opsbot:")
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, ok, err := s.Lock(ctx, "x", time.Second)
	if ok || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Lock with Redis down = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

func TestLeadRunsOnOneReplicaAndFailsOver(t *testing.T) {
	srv := redistest.Start(t)
	var running, maxRunning, starts atomic.Int32
	var leader atomic.Value // name of the replica whose work started last
	work := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			leader.Store(name)
			starts.Add(1)
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			<-ctx.Done()
			running.Add(-1)
			return nil
		}
	}
	stops := map[string]context.CancelFunc{}
	done := map[string]chan struct{}{}
	for _, name := range []string{"a", "b"} {
		ctx, stop := context.WithCancel(context.Background())
		stops[name], done[name] = stop, make(chan struct{})
		defer stop()
		go func() {
			_ = store.New(srv.Client(t), "opsbot:").Lead(ctx, "probes", 300*time.Millisecond, work(name))
			close(done[name])
		}()
	}
	waitFor(t, func() bool { return starts.Load() == 1 })
	time.Sleep(700 * time.Millisecond) // two ttls: the leader keeps renewing
	if starts.Load() != 1 || maxRunning.Load() != 1 {
		t.Fatalf("starts=%d max concurrent=%d, want 1 and 1", starts.Load(), maxRunning.Load())
	}
	first := leader.Load().(string)
	stops[first]() // the leader stops: the other replica takes over
	<-done[first]
	waitFor(t, func() bool { return starts.Load() == 2 })
	if second := leader.Load().(string); second == first || maxRunning.Load() != 1 {
		t.Fatalf("after failover: leader %s (was %s), max concurrent %d", second, first, maxRunning.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
