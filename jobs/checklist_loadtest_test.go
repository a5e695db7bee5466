package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// slowTester is a loader.io run that takes runFor (wall clock) to be ready.
type slowTester struct {
	runFor  time.Duration
	started chan string // receives each test's name as it starts
	mu      sync.Mutex
	at      time.Time
}

func (s *slowTester) VerifyFile(context.Context, string, string) error { return nil }
func (s *slowTester) StartLoadTest(_ context.Context, spec jobs.LoadSpec) (string, string, error) {
	s.mu.Lock()
	s.at = time.Now()
	s.mu.Unlock()
	s.started <- spec.Name
	return "t1", "r1", nil
}
func (s *slowTester) LoadResult(context.Context, string, string) (jobs.LoadResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return jobs.LoadResult{Ready: time.Since(s.at) >= s.runFor, Success: 100, AvgMS: 80, ReportURL: "https://loader.io/reports/t1/results/r1"}, nil
}

// A test running far longer than the account lock's ttl keeps the lock:
// it is renewed while the test runs, so a second request meanwhile is told
// who runs what, and the lock is free once the test ends.
func TestLoadtestLockRenewedWhileTheTestRuns(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	tester := &slowTester{runFor: 1500 * time.Millisecond, started: make(chan string, 4)}
	spec := jobs.LoadSpec{URL: "https://acme.example/", Total: 100, Duration: 60, MaxAvgMS: 500, MaxErrorRate: 1}
	acme, beta := spec, spec
	acme.Name, beta.Name = "acme launch", "beta launch"
	chk := jobs.LoadtestCheck{Tester: tester, Tests: map[string]jobs.LoadSpec{"acme": acme, "beta": beta}, Locks: st,
		Poll: 20 * time.Millisecond, LockTTL: 300 * time.Millisecond}
	ctx := context.Background()
	done := make(chan store.CheckResult, 1)
	go func() { done <- chk.Check(ctx, "acme") }()
	<-tester.started
	time.Sleep(900 * time.Millisecond) // three times the lock's ttl
	if res := chk.Check(ctx, "beta"); res.State != store.ItemFailing || !strings.Contains(res.Detail, "busy with the load test of acme") {
		t.Fatalf("beta while acme runs past the lock's ttl: %+v", res)
	}
	if res := <-done; res.State != store.ItemVerified || res.URL == "" {
		t.Fatalf("acme: %+v", res)
	}
	tester.runFor = 0
	if res := chk.Check(ctx, "beta"); res.State != store.ItemVerified {
		t.Fatalf("beta once acme ended: %+v", res)
	}
}

// A check cut short (its replica stopped) leaves its test on loader.io; the
// check carried on reads that test's result instead of starting another.
func TestLoadtestCarriedOnReadsTheRunningTest(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	tester := &slowTester{runFor: time.Hour, started: make(chan string, 4)}
	spec := jobs.LoadSpec{Name: "acme launch", URL: "https://acme.example/", Total: 100, Duration: 60, MaxAvgMS: 500, MaxErrorRate: 1}
	chk := jobs.LoadtestCheck{Tester: tester, Tests: map[string]jobs.LoadSpec{"acme": spec}, Locks: st, Runs: st, Poll: 20 * time.Millisecond}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan store.CheckResult, 1)
	go func() { done <- chk.Check(ctx, "acme") }()
	<-tester.started
	stop()
	<-done
	tester.mu.Lock()
	tester.runFor = 0
	tester.mu.Unlock()
	var notes []string
	res := chk.CheckProgress(context.Background(), "acme", func(s string) { notes = append(notes, s) })
	if res.State != store.ItemVerified || len(tester.started) != 0 || !strings.Contains(strings.Join(notes, "\n"), "reading the test started") {
		t.Fatalf("carried on: %+v, %d more test(s) started, progress %q", res, len(tester.started), notes)
	}
	if _, kept, err := st.CurrentLoadRun(context.Background()); err != nil || kept {
		t.Fatalf("the run is still kept after its result was read: %v %v", kept, err)
	}
}

// A check that gave up (its budget over, the replica alive) forgets its
// test: the next Re-verify, after a fix perhaps, starts a test of its own
// instead of reading the old one's result.
func TestLoadtestGivenUpIsNotReadAgain(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	tester := &slowTester{runFor: time.Hour, started: make(chan string, 4)}
	spec := jobs.LoadSpec{Name: "acme launch", URL: "https://acme.example/", Total: 100, Duration: 60, MaxAvgMS: 500, MaxErrorRate: 1}
	chk := jobs.LoadtestCheck{Tester: tester, Tests: map[string]jobs.LoadSpec{"acme": spec}, Locks: st, Runs: st, Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if res := chk.Check(ctx, "acme"); res.State != store.ItemFailing || !strings.Contains(res.Detail, "did not finish in time") {
		t.Fatalf("over its budget: %+v", res)
	}
	<-tester.started
	if _, kept, err := st.CurrentLoadRun(context.Background()); err != nil || kept {
		t.Fatalf("the given-up run is still kept: %v %v", kept, err)
	}
	tester.mu.Lock()
	tester.runFor = 0
	tester.mu.Unlock()
	if res := chk.Check(context.Background(), "acme"); res.State != store.ItemVerified || len(tester.started) != 1 {
		t.Fatalf("the next Re-verify: %+v, %d test(s) started", res, len(tester.started))
	}
}
