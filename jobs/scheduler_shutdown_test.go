package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/store/redistest"
)

func TestShutdownWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	started := make(chan struct{})
	var once sync.Once
	var finished atomic.Bool
	var jobErr atomic.Value
	// The run needs 700ms, well within the grace: shutdown waits for it.
	s := replica(t, srv, Options{Timeout: 5 * time.Second, ShutdownGrace: 3 * time.Second})
	err := s.Add("@every 1s", funcJob{"report", func(ctx context.Context) error {
		once.Do(func() { close(started) })
		select {
		case <-ctx.Done():
			jobErr.Store(fmt.Sprint(ctx.Err()))
		case <-time.After(700 * time.Millisecond):
		}
		finished.Store(true)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	select {
	case <-started:
	case <-time.After(8 * time.Second):
		t.Fatal("job never started")
	}
	t0 := time.Now()
	stop() // cancels Run's ctx and waits for Run to return nil
	if !finished.Load() {
		t.Error("Run returned before the in-flight run finished")
	}
	if v := jobErr.Load(); v != nil {
		t.Errorf("in-flight run's ctx was cancelled by shutdown: %v", v)
	}
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("Run took %v to return after cancel, want about the job's remaining time", d)
	}
}

// longPoll is a job that runs until its ctx ends, like a vendor long poll.
type longPoll struct {
	name      string
	started   chan struct{} // closed when the first run starts
	once      sync.Once
	cancelled atomic.Bool  // the run saw ctx.Done()
	cause     atomic.Value // context.Cause of the run's ctx, as error
}

func newLongPoll(name string) *longPoll {
	return &longPoll{name: name, started: make(chan struct{})}
}

func (l *longPoll) Name() string { return l.name }

func (l *longPoll) Run(ctx context.Context) error {
	l.once.Do(func() { close(l.started) })
	<-ctx.Done()
	l.cancelled.Store(true)
	l.cause.Store(context.Cause(ctx))
	return ctx.Err()
}

func (l *longPoll) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-l.started:
	case <-time.After(8 * time.Second):
		t.Fatal("job never started")
	}
}

// assertLockFree checks that another replica can take job name's lock now.
func assertLockFree(t *testing.T, srv *redistest.Server, name string) {
	t.Helper()
	other := replica(t, srv, Options{})
	ctx := context.Background()
	release, ok, err := other.lock(ctx, name)
	if err != nil || !ok {
		t.Fatalf("other replica's Lock(job:%s) = %v, %v; want the lock free after shutdown", name, ok, err)
	}
	if err := release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}
}

func TestShutdownCancelsRunAfterGraceAndReleasesLock(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	log, logs := testLogger(t)
	var out outcomes
	job := newLongPoll("statuscake")
	// The run's own Timeout (10m default) and LockTTL (11m) are far away:
	// only the shutdown grace ends it.
	s := replica(t, srv, Options{Logger: log, Metrics: out.record, ShutdownGrace: 200 * time.Millisecond})
	if err := s.Add("@every 1s", job); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	job.waitStarted(t)

	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	d := time.Since(t0)
	if d > time.Second {
		t.Errorf("Run took %v to return, want about the 200ms grace", d)
	}
	if d < 200*time.Millisecond {
		t.Errorf("Run returned after %v, before the 200ms grace was over", d)
	}
	if !job.cancelled.Load() {
		t.Error("the run in flight did not see its ctx cancelled")
	}
	if c, _ := job.cause.Load().(error); !errors.Is(c, ErrStopped) {
		t.Errorf("cancel cause = %v, want ErrStopped", c)
	}
	if out.get("error") != 1 {
		t.Errorf("error outcomes = %d, want 1 (the cancelled run)", out.get("error"))
	}
	if !strings.Contains(logs.String(), `"msg":"job cancelled by shutdown"`) {
		t.Errorf("log lacks the cancelled run:\n%s", logs)
	}
	assertLockFree(t, srv, "statuscake")
}

func TestRunNowDuringShutdown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	job := newLongPoll("scan")
	s := replica(t, srv, Options{ShutdownGrace: 200 * time.Millisecond})
	if err := s.Add("@yearly", job); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	// A RunNow in flight when shutdown begins is cancelled after the grace,
	// and Run waits for it.
	runNow := make(chan error, 1)
	go func() { runNow <- s.RunNow(context.Background(), "scan") }()
	job.waitStarted(t)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	// Run waited for the run to end and release its lock.
	if !job.cancelled.Load() {
		t.Error("the RunNow run did not see its ctx cancelled")
	}
	assertLockFree(t, srv, "scan")
	select {
	case err := <-runNow:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("in-flight RunNow = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Error("the in-flight RunNow did not return")
	}

	// A RunNow after shutdown began returns at once without running.
	job.cancelled.Store(false)
	t0 := time.Now()
	err := s.RunNow(context.Background(), "scan")
	if !errors.Is(err, ErrStopped) || !errors.Is(err, context.Canceled) {
		t.Errorf("RunNow after shutdown = %v, want ErrStopped and context.Canceled", err)
	}
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("RunNow after shutdown took %v, want it prompt", d)
	}
	if job.cancelled.Load() {
		t.Error("RunNow after shutdown ran the job")
	}
}
