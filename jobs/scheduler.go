// Package jobs runs opsbot's background monitors and reports on a shared
// schedule. With several replicas on one Redis every fire runs exactly once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is a background monitor or report.
type Job interface {
	// Name identifies the job in logs, metrics and Redis keys; unique per Scheduler.
	Name() string
	// Run does one pass. ctx carries the per-run timeout (and FireTime).
	Run(ctx context.Context) error
}

// Locker takes a mutual-exclusion lock shared by all replicas; ok is false
// (nil error) when another holder has it. Satisfied by *store.Store.
type Locker interface {
	Lock(ctx context.Context, name string, ttl time.Duration) (func(context.Context) error, bool, error)
}

// Marker records that a fire ran: FirstSeen is true only for the first caller
// of a key within ttl. Satisfied by *store.Store.
type Marker interface {
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Options configure a Scheduler. Zero values take the defaults.
type Options struct {
	Location *time.Location // time zone of cron specs (from config); nil means UTC
	Logger   *slog.Logger   // nil discards
	// Metrics, if set, is called once per fire or RunNow with the outcome:
	// "ok", "error", "panic", "skipped" (another replica ran the fire, the
	// job is still running or the Scheduler is shutting down) or
	// "lock_error" (Redis failed, not run).
	Metrics func(job, outcome string, d time.Duration)
	// LockTTL bounds the job lock if a replica dies mid-run; when zero or
	// shorter than Timeout it is Timeout + 1m. A job that ignores its ctx
	// and outlives LockTTL may overlap its next fire.
	LockTTL time.Duration
	Timeout time.Duration // per run; default 10m
	// ShutdownGrace is how long runs in flight may go on once Run's ctx
	// ends; then their ctx is cancelled (cause ErrStopped) and Run waits for
	// them to return and release their locks. Default 20s, to leave time to
	// release the locks within Kubernetes' default 30s termination grace.
	ShutdownGrace time.Duration
	// FireLog records finished fires; with it, a job implementing CatchUp
	// whose latest fire never finished (Redis down, no replica up, a crash
	// mid-run) runs that fire once when it can. Nil: no catch-up.
	FireLog FireLog
	// CatchUpEvery is how often missed fires are looked for; default 1m.
	CatchUpEvery time.Duration
}

// DefaultTimeout bounds a run when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// DefaultShutdownGrace bounds runs in flight at shutdown when
// Options.ShutdownGrace is zero.
const DefaultShutdownGrace = 20 * time.Second

// redisTimeout bounds each lock or marker round trip.
const redisTimeout = 5 * time.Second

// releaseTimeout bounds releasing a job lock. It uses a fresh context, so a
// run cancelled by shutdown still releases its lock.
const releaseTimeout = 2 * time.Second

// ErrUnknownJob is returned by RunNow for a name that was never added.
var ErrUnknownJob = errors.New("jobs: unknown job")

// ErrBusy is returned by RunNow when the job is running (here or on another
// replica).
var ErrBusy = errors.New("jobs: job already running")

// ErrStopped is returned by RunNow once the Scheduler is shutting down, and
// is the cause (context.Cause) of a run's ctx cancelled by shutdown.
var ErrStopped = errors.New("jobs: scheduler stopped")

// Scheduler runs Jobs on cron schedules in one time zone. Each fire takes a
// fire marker "fire:<job>:<unix fire time>" (so exactly one replica runs it,
// even one whose clock fires late after another finished) and then the lock
// "job:<name>" for the length of the run (so a slow run does not overlap the
// next fire anywhere; locally cron.SkipIfStillRunning does the same). A
// replica that loses either skips the fire. Panics are recovered. On
// shutdown runs in flight get Options.ShutdownGrace to finish, are then
// cancelled, and release their locks before Run returns, so another replica
// can take the jobs over at once.
type Scheduler struct {
	locker  Locker
	marker  Marker
	o       Options
	log     *slog.Logger
	cron    *cron.Cron
	base    context.Context // values for scheduled runs, set by Run
	running atomic.Bool

	// hard is cancelled ShutdownGrace after Run's ctx ends (or when Run
	// returns); every run's ctx is cancelled with it.
	hard     context.Context
	hardStop context.CancelFunc

	mu       sync.Mutex
	jobs     map[string]*entry
	stopErr  error          // Run's ctx error once shutdown began; no new runs then
	inflight sync.WaitGroup // executions in progress (fires and RunNow); Add under mu
	active   map[string]int // job name → executions in progress, for logs
}

type entry struct {
	job   Job
	sched *fireSchedule
}

// NewScheduler returns a Scheduler with no jobs; Add them, then Run.
func NewScheduler(l Locker, m Marker, o Options) *Scheduler {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LockTTL < o.Timeout {
		o.LockTTL = o.Timeout + time.Minute
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.CatchUpEvery <= 0 {
		o.CatchUpEvery = DefaultCatchUpEvery
	}
	log := o.Logger.With("component", "scheduler")
	clog := cronLogger{log}
	c := cron.New(cron.WithLocation(o.Location), cron.WithParser(parser), cron.WithLogger(clog),
		cron.WithChain(cron.Recover(clog), cron.SkipIfStillRunning(clog)))
	hard, hardStop := context.WithCancel(context.Background())
	return &Scheduler{locker: l, marker: m, o: o, log: log, cron: c,
		base: context.Background(), hard: hard, hardStop: hardStop,
		jobs: map[string]*entry{}, active: map[string]int{}}
}

// Add schedules j. spec is a 5-field cron spec ("*/5 * * * *") in the
// Scheduler's location, a 6-field one with leading seconds, or a descriptor
// ("@hourly", "@every 30s"; @every is aligned to multiples of its interval so
// replicas agree). An empty or duplicate name or a bad spec is an error.
// Add may be called before or during Run.
func (s *Scheduler) Add(spec string, j Job) error {
	name := j.Name()
	if name == "" {
		return errors.New("jobs: add: job has an empty name")
	}
	sched, err := parse(spec)
	if err != nil {
		return fmt.Errorf("jobs: add %s: bad schedule %q: %w", name, spec, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[name]; dup {
		return fmt.Errorf("jobs: add %s: duplicate job name", name)
	}
	e := &entry{job: j, sched: &fireSchedule{Schedule: sched}}
	s.jobs[name] = e
	s.cron.Schedule(e.sched, cron.FuncJob(func() { s.fire(e) }))
	return nil
}

// Run starts the schedule and blocks until ctx is done. It then shuts down:
// it stops firing and refuses new RunNow calls (ErrStopped), lets runs in
// flight (scheduled or RunNow) go on for at most Options.ShutdownGrace, so a
// report half sent is usually finished, then cancels their ctx, waits for
// them to return and for their job locks to be released, and returns nil.
// A job that ignores its ctx delays Run until it returns. Run must be called
// at most once.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("jobs: scheduler already running")
	}
	// Scheduled runs keep ctx's values but not its cancellation.
	s.base = context.WithoutCancel(ctx)
	s.cron.Start()
	s.mu.Lock()
	n := len(s.jobs)
	s.mu.Unlock()
	s.log.Info("scheduler started", "jobs", n, "location", s.o.Location.String())
	catchUpDone := make(chan struct{})
	go func() {
		defer close(catchUpDone)
		if s.o.FireLog != nil {
			s.catchUpLoop(ctx)
		}
	}()
	<-ctx.Done()
	<-catchUpDone
	defer s.hardStop()

	s.mu.Lock()
	s.stopErr = ctx.Err()
	s.mu.Unlock()
	// No execution starts from now on, so inflight.Wait cannot race an Add
	// from zero. cron's Stop context ends when its fire goroutines return.
	cronDone := s.cron.Stop().Done()
	done := make(chan struct{})
	go func() {
		<-cronDone
		s.inflight.Wait()
		close(done)
	}()
	grace := time.NewTimer(s.o.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		s.log.Warn("shutdown grace over: cancelling runs in flight",
			"grace", s.o.ShutdownGrace, "jobs", s.activeJobs())
		s.hardStop()
		<-done
	}
	s.log.Info("scheduler stopped")
	return nil
}

// enter registers an execution of job name, or returns the shutdown error.
func (s *Scheduler) enter(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopErr != nil {
		return s.stopErr
	}
	s.inflight.Add(1)
	s.active[name]++
	return nil
}

// leave ends an execution registered by enter.
func (s *Scheduler) leave(name string) {
	s.mu.Lock()
	if s.active[name]--; s.active[name] <= 0 {
		delete(s.active, name)
	}
	s.mu.Unlock()
	s.inflight.Done()
}

// activeJobs lists the jobs with executions in progress.
func (s *Scheduler) activeJobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.active))
	for name := range s.active {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// RunNow runs the job name once, now, under the same lock as scheduled runs
// and with the same timeout and panic recovery (a panic is returned as an
// error). It returns ErrBusy if the job is running anywhere, ErrUnknownJob
// for a name never added, an error wrapping ErrStopped and Run's ctx error
// once the Scheduler is shutting down, or the job's error. Cancelling ctx
// cancels the run; so does shutdown, after ShutdownGrace.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	e := s.jobs[name]
	s.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	return s.execute(ctx, e, time.Time{})
}

// fire is called by cron (in its own goroutine) for each scheduled time.
// A fire that fails to take its marker (Redis down) or does not finish is
// not recorded as done, so a CatchUp job runs it later (see catchUp).
func (s *Scheduler) fire(e *entry) {
	at := e.sched.fireTime(time.Now().In(s.o.Location))
	_ = s.execute(s.base, e, at)
}
