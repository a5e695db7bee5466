package jobs

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// catchJob is a daily job that opts into catch-up and records its fires.
type catchJob struct {
	mu    sync.Mutex
	fires []time.Time
	fail  int  // fail this many runs first
	block bool // run until cancelled (cut short by shutdown)
}

func (c *catchJob) Name() string                 { return "daily" }
func (c *catchJob) CatchUpWindow() time.Duration { return 23 * time.Hour }
func (c *catchJob) Run(ctx context.Context) error {
	at, _ := FireTime(ctx)
	c.mu.Lock()
	c.fires = append(c.fires, at)
	block := c.block
	c.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errors.New("cut short")
	}
	return nil
}

func (c *catchJob) runs() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.fires...)
}

// dailySpec fires once a day, at the last whole minute before now, so the
// latest fire is always in the past and the next one a day away.
func dailySpec(now time.Time) (string, time.Time) {
	prev := now.Add(-time.Minute).Truncate(time.Minute)
	return prev.Format("4 15") + " * * *", prev
}

func catchUpScheduler(t *testing.T, st *store.Store) *Scheduler {
	t.Helper()
	log, _ := testLogger(t)
	return NewScheduler(st, st, Options{Logger: log, FireLog: st, CatchUpEvery: 50 * time.Millisecond,
		ShutdownGrace: 50 * time.Millisecond})
}

func waitRuns(t *testing.T, j *catchJob, n int) []time.Time {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(j.runs()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return j.runs()
}

// The day's fire was missed (Redis down at fire time, or no replica up):
// the job runs it once, with that fire time, and records it done.
func TestMissedFireRunsOnceWhenItCan(t *testing.T) {
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	ctx := context.Background()
	spec, prev := dailySpec(time.Now().UTC())
	if err := st.SetLastFire(ctx, "daily", prev.Add(-24*time.Hour)); err != nil { // yesterday's ran
		t.Fatal(err)
	}
	j := &catchJob{}
	s := catchUpScheduler(t, st)
	if err := s.Add(spec, j); err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	waitRuns(t, j, 1)
	time.Sleep(300 * time.Millisecond) // several more catch-up rounds
	stop()
	runs := j.runs()
	if len(runs) != 1 || !runs[0].Equal(prev) {
		t.Fatalf("runs = %v, want the missed fire %v once", runs, prev)
	}
	if last, _ := st.LastFire(ctx, "daily"); !last.Equal(prev) {
		t.Fatalf("last fire = %v, want %v", last, prev)
	}
}

// A run cut short by shutdown is not recorded as done and its marker is
// handed back: the next replica to start runs that fire once.
func TestFireCutShortRunsAgain(t *testing.T) {
	srv := redistest.Start(t)
	st := store.New(srv.Client(t), "opsbot:")
	ctx := context.Background()
	spec, prev := dailySpec(time.Now().UTC())
	_ = st.SetLastFire(ctx, "daily", prev.Add(-24*time.Hour))
	j := &catchJob{block: true}
	s := catchUpScheduler(t, st)
	if err := s.Add(spec, j); err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	waitRuns(t, j, 1)
	stop() // shutdown: grace over, the run is cancelled mid-way
	if last, _ := st.LastFire(ctx, "daily"); !last.Equal(prev.Add(-24 * time.Hour)) {
		t.Fatalf("a cut-short fire was recorded done: %v", last)
	}
	j.mu.Lock()
	j.block = false
	j.mu.Unlock()
	next := catchUpScheduler(t, store.New(srv.Client(t), "opsbot:"))
	if err := next.Add(spec, j); err != nil {
		t.Fatal(err)
	}
	start(t, next)
	runs := waitRuns(t, j, 2)
	if len(runs) != 2 || !runs[1].Equal(prev) {
		t.Fatalf("runs = %v, want the fire %v again after the restart", runs, prev)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if last, _ := st.LastFire(ctx, "daily"); last.Equal(prev) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fire was not recorded done after it ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A job that finishes with an error has run: its fire is done and is not
// retried every minute (a paid API, a notice each time).
func TestFailedFireIsNotRetried(t *testing.T) {
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	ctx := context.Background()
	spec, prev := dailySpec(time.Now().UTC())
	_ = st.SetLastFire(ctx, "daily", prev.Add(-24*time.Hour))
	j := &catchJob{fail: 5}
	s := catchUpScheduler(t, st)
	if err := s.Add(spec, j); err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	waitRuns(t, j, 1)
	time.Sleep(300 * time.Millisecond)
	stop()
	if runs := j.runs(); len(runs) != 1 {
		t.Fatalf("runs = %v, want 1", runs)
	}
	if last, _ := st.LastFire(ctx, "daily"); !last.Equal(prev) {
		t.Fatalf("last fire = %v, want %v", last, prev)
	}
}

// The first time a job is seen there is nothing to catch up: its latest
// fire becomes the baseline and does not run (no weekly report at install).
func TestFirstStartRecordsABaselineWithoutRunning(t *testing.T) {
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	spec, prev := dailySpec(time.Now().UTC())
	j := &catchJob{}
	s := catchUpScheduler(t, st)
	if err := s.Add(spec, j); err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	time.Sleep(300 * time.Millisecond)
	stop()
	if runs := j.runs(); len(runs) != 0 {
		t.Fatalf("runs = %v at first start, want none", runs)
	}
	if last, _ := st.LastFire(context.Background(), "daily"); !last.Equal(prev) {
		t.Fatalf("baseline = %v, want %v", last, prev)
	}
}
