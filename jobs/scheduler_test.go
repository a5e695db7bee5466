package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// funcJob adapts a func to Job.
type funcJob struct {
	name string
	run  func(ctx context.Context) error
}

func (f funcJob) Name() string                  { return f.name }
func (f funcJob) Run(ctx context.Context) error { return f.run(ctx) }

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// outcomes records Metrics calls.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) record(_, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

func (o *outcomes) get(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[outcome]
}

// replica is one Scheduler on its own go-redis client, as a second opsbot would be.
func replica(t *testing.T, srv *redistest.Server, o Options) *Scheduler {
	t.Helper()
	if o.Logger == nil {
		o.Logger, _ = testLogger(t)
	}
	st := store.New(srv.Client(t), "opsbot:")
	return NewScheduler(st, st, o)
}

// start runs s until the test ends (or stop is called) and returns stop,
// which cancels Run and waits for it to return nil.
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return within 5s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// testLogger logs at Debug into a buffer that is printed if the test fails.
func testLogger(t *testing.T) (*slog.Logger, *syncBuf) {
	buf := &syncBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scheduler log:\n%s", buf)
		}
	})
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEachFireRunsOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var (
		mu    sync.Mutex
		fires = map[int64]int{}
		runs  atomic.Int64
	)
	job := funcJob{"tick", func(ctx context.Context) error {
		at, ok := FireTime(ctx)
		if !ok {
			t.Error("scheduled run has no FireTime")
		}
		runs.Add(1)
		mu.Lock()
		fires[at.Unix()]++
		mu.Unlock()
		return nil
	}}
	for range 2 {
		s := replica(t, srv, Options{})
		if err := s.Add("@every 1s", job); err != nil {
			t.Fatal(err)
		}
		start(t, s)
	}
	waitFor(t, "3 runs", 10*time.Second, func() bool { return runs.Load() >= 3 })
	time.Sleep(500 * time.Millisecond) // let a late duplicate, if any, land

	mu.Lock()
	defer mu.Unlock()
	for at, n := range fires {
		if n != 1 {
			t.Errorf("fire %s ran %d times, want 1", time.Unix(at, 0).UTC(), n)
		}
	}
	if got, want := runs.Load(), int64(len(fires)); got != want || got < 2 {
		t.Errorf("runs = %d, distinct fires = %d; want equal and >= 2", got, want)
	}
}

func TestPanicIsRecoveredAndNextFireRuns(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	log, logs := testLogger(t)
	var out outcomes
	var runs atomic.Int64
	s := replica(t, srv, Options{Logger: log, Metrics: out.record})
	err := s.Add("@every 1s", funcJob{"boom", func(context.Context) error {
		if runs.Add(1) == 1 {
			panic("kaboom")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	waitFor(t, "a run after the panic", 10*time.Second, func() bool { return runs.Load() >= 2 })

	got := logs.String()
	for _, want := range []string{`"msg":"job panicked"`, `"job":"boom"`, `"panic":"kaboom"`, `"stack":"`, `"fire_time":`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	if out.get("panic") != 1 {
		t.Errorf("panic outcomes = %d, want 1", out.get("panic"))
	}
}

func TestSlowJobDoesNotOverlap(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var running, maxRunning, done atomic.Int64
	job := funcJob{"slow", func(context.Context) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(1500 * time.Millisecond)
		done.Add(1)
		return nil
	}}
	var out outcomes
	for range 2 { // two replicas: the Redis lock, not only SkipIfStillRunning
		s := replica(t, srv, Options{Metrics: out.record})
		if err := s.Add("@every 1s", job); err != nil {
			t.Fatal(err)
		}
		start(t, s)
	}
	waitFor(t, "2 slow runs", 10*time.Second, func() bool { return done.Load() >= 2 })
	if got := maxRunning.Load(); got != 1 {
		t.Errorf("max concurrent runs = %d, want 1", got)
	}
	if out.get("skipped") == 0 {
		t.Error("no fire was skipped although the job is slower than its interval")
	}
}

func TestAddErrors(t *testing.T) {
	s := NewScheduler(nil, nil, Options{})
	noop := funcJob{"report", func(context.Context) error { return nil }}
	if err := s.Add("*/5 * * * *", noop); err != nil {
		t.Fatalf("5-field spec: %v", err)
	}
	if err := s.Add("*/10 * * * * *", funcJob{"sec", noop.run}); err != nil {
		t.Fatalf("6-field spec: %v", err)
	}
	if err := s.Add("@hourly", funcJob{"hourly", noop.run}); err != nil {
		t.Fatalf("descriptor: %v", err)
	}
	tests := []struct {
		name, spec, job, want string
	}{
		{"bad spec", "every five minutes", "cost", "cost"},
		{"bad field", "61 * * * *", "uptime", "uptime"},
		{"duplicate", "@hourly", "report", "duplicate"},
		{"empty name", "@hourly", "", "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Add(tt.spec, funcJob{tt.job, noop.run})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Add(%q, %q) = %v, want an error containing %q", tt.spec, tt.job, err, tt.want)
			}
		})
	}
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := store.New(srv.Client(t), "opsbot:")
	s := NewScheduler(st, st, Options{})
	errBad := errors.New("vendor down")
	var runs atomic.Int64
	var fail, boom atomic.Bool
	err := s.Add("@yearly", funcJob{"scan", func(ctx context.Context) error {
		runs.Add(1)
		if _, ok := FireTime(ctx); ok {
			t.Error("RunNow run has a FireTime")
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("RunNow run has no timeout")
		}
		if boom.Load() {
			panic("oops")
		}
		if fail.Load() {
			return errBad
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.RunNow(ctx, "scan"); err != nil || runs.Load() != 1 {
		t.Fatalf("RunNow = %v with %d runs, want nil and 1", err, runs.Load())
	}
	if err := s.RunNow(ctx, "scan"); err != nil {
		t.Fatalf("second RunNow = %v: the lock was not released", err)
	}
	fail.Store(true)
	if err := s.RunNow(ctx, "scan"); !errors.Is(err, errBad) || !strings.Contains(err.Error(), "scan") {
		t.Errorf("failing job: RunNow = %v, want errBad naming the job", err)
	}
	boom.Store(true)
	if err := s.RunNow(ctx, "scan"); err == nil || !strings.Contains(err.Error(), "panic: oops") {
		t.Errorf("panicking job: RunNow = %v, want the panic as an error", err)
	}
	if err := s.RunNow(ctx, "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("unknown job: RunNow = %v, want ErrUnknownJob", err)
	}
	// Another replica is running it.
	other := store.New(srv.Client(t), "opsbot:")
	release, ok, err := other.Lock(ctx, "job:scan", time.Minute)
	if err != nil || !ok {
		t.Fatalf("other replica's lock: %v, %v", ok, err)
	}
	defer release(ctx)
	before := runs.Load()
	if err := s.RunNow(ctx, "scan"); !errors.Is(err, ErrBusy) || runs.Load() != before {
		t.Errorf("while locked: RunNow = %v (runs %d→%d), want ErrBusy and no run", err, before, runs.Load())
	}
}

func TestRedisDownSkipsFiresThenRecovers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	log, logs := testLogger(t)
	var out outcomes
	var runs atomic.Int64
	// No command retries, so a refused connection fails the fire at once
	// (run.go's client may retry; redisTimeout bounds it either way).
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	st := store.New(rdb, "opsbot:")
	s := NewScheduler(st, st, Options{Logger: log, Metrics: out.record})
	if err := s.Add("@every 1s", funcJob{"uptime", func(context.Context) error {
		runs.Add(1)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	waitFor(t, "a first run", 8*time.Second, func() bool { return runs.Load() >= 1 })
	srv.Stop()
	waitFor(t, "a fire skipped for Redis", 10*time.Second, func() bool { return out.get("lock_error") >= 1 })
	if got := logs.String(); !strings.Contains(got, `"msg":"fire skipped: cannot mark it"`) || !strings.Contains(got, "state store unavailable") {
		t.Errorf("log lacks the skipped fire and its cause:\n%s", got)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	after := runs.Load()
	waitFor(t, "a run after Redis restarted", 10*time.Second, func() bool { return runs.Load() > after })
}

func TestLocationHonoured(t *testing.T) {
	ny := time.FixedZone("EST", -5*60*60)
	s := NewScheduler(nil, nil, Options{Location: ny})
	noop := func(context.Context) error { return nil }
	if err := s.Add("0 9 * * MON-FRI", funcJob{"standup", noop}); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC) // Friday 07:00 EST
	if got, want := s.next("standup", from), time.Date(2026, 1, 2, 14, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next after %s = %s, want %s (09:00 EST)", from, got.UTC(), want)
	}
	from = time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC) // Friday 10:00 EST → Monday
	if got, want := s.next("standup", from), time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next after %s = %s, want %s", from, got.UTC(), want)
	}
	// The default is UTC, whatever time.Local is.
	u := NewScheduler(nil, nil, Options{})
	if err := u.Add("0 9 * * *", funcJob{"daily", noop}); err != nil {
		t.Fatal(err)
	}
	if got, want := u.next("daily", from), time.Date(2026, 1, 3, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("UTC default: next = %s, want %s", got, want)
	}
}

func TestEveryIsAlignedAcrossReplicas(t *testing.T) {
	sched, err := parse("@every 30s")
	if err != nil {
		t.Fatal(err)
	}
	a := time.Date(2026, 1, 1, 10, 0, 3, 400, time.UTC)  // replica a started
	b := time.Date(2026, 1, 1, 10, 0, 17, 900, time.UTC) // replica b started
	want := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	if ga, gb := sched.Next(a), sched.Next(b); !ga.Equal(want) || !gb.Equal(want) {
		t.Errorf("Next = %s and %s, want both %s", ga, gb, want)
	}
	if got := sched.Next(want); !got.Equal(want.Add(30 * time.Second)) {
		t.Errorf("Next(fire time) = %s, want the following fire", got)
	}
}

func TestFireTime(t *testing.T) {
	f := &fireSchedule{Schedule: every(time.Second)}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	fire := f.Next(t0.Add(-300 * time.Millisecond)) // cron computes the next fire: t0
	wake := t0.Add(2 * time.Millisecond)
	f.Next(wake) // cron schedules the following fire before the goroutine runs
	if got := f.fireTime(wake.Add(5 * time.Millisecond)); !got.Equal(fire) {
		t.Errorf("fireTime = %s, want %s", got, fire)
	}
}
