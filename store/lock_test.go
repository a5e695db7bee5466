package store_test

import (
	"context"
	"errors"
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
