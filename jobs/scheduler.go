// Package jobs runs opsbot's background monitors and reports on a shared
// schedule. With several replicas on one Redis every fire runs exactly once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
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
	// "ok", "error", "panic", "skipped" (another replica ran the fire or
	// the job is still running) or "lock_error" (Redis failed, not run).
	Metrics func(job, outcome string, d time.Duration)
	// LockTTL bounds the job lock if a replica dies mid-run; when zero or
	// shorter than Timeout it is Timeout + 1m. A job that ignores its ctx
	// and outlives LockTTL may overlap its next fire.
	LockTTL time.Duration
	Timeout time.Duration // per run; default 10m
}

// DefaultTimeout bounds a run when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Minute

// redisTimeout bounds each lock or marker round trip.
const redisTimeout = 5 * time.Second

// ErrUnknownJob is returned by RunNow for a name that was never added.
var ErrUnknownJob = errors.New("jobs: unknown job")

// ErrBusy is returned by RunNow when the job is running (here or on another
// replica).
var ErrBusy = errors.New("jobs: job already running")

// Scheduler runs Jobs on cron schedules in one time zone. Each fire takes a
// fire marker "fire:<job>:<unix fire time>" (so exactly one replica runs it,
// even one whose clock fires late after another finished) and then the lock
// "job:<name>" for the length of the run (so a slow run does not overlap the
// next fire anywhere; locally cron.SkipIfStillRunning does the same). A
// replica that loses either skips the fire. Panics are recovered.
type Scheduler struct {
	locker  Locker
	marker  Marker
	o       Options
	log     *slog.Logger
	cron    *cron.Cron
	base    context.Context // values for scheduled runs, set by Run
	running atomic.Bool

	mu   sync.Mutex
	jobs map[string]*entry
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
	log := o.Logger.With("component", "scheduler")
	clog := cronLogger{log}
	c := cron.New(cron.WithLocation(o.Location), cron.WithParser(parser), cron.WithLogger(clog),
		cron.WithChain(cron.Recover(clog), cron.SkipIfStillRunning(clog)))
	return &Scheduler{locker: l, marker: m, o: o, log: log, cron: c,
		base: context.Background(), jobs: map[string]*entry{}}
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

// Run starts the schedule and blocks until ctx is done. It then stops firing
// and waits for runs in flight: they are not cancelled by shutdown, only by
// their own Timeout, so a report half sent is finished. It returns nil. Run
// must be called at most once.
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
	<-ctx.Done()
	<-s.cron.Stop().Done()
	s.log.Info("scheduler stopped")
	return nil
}

// RunNow runs the job name once, now, under the same lock as scheduled runs
// and with the same timeout and panic recovery (a panic is returned as an
// error). It returns ErrBusy if the job is running anywhere, ErrUnknownJob
// for a name never added, or the job's error. Cancelling ctx cancels the run.
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
func (s *Scheduler) fire(e *entry) {
	at := e.sched.fireTime(time.Now().In(s.o.Location))
	_ = s.execute(s.base, e, at)
}

// execute runs e once: it takes the fire marker (scheduled runs only, at
// non-zero) and the job lock, runs the job with the timeout and records the
// outcome. Errors are logged here and returned for RunNow.
func (s *Scheduler) execute(ctx context.Context, e *entry, at time.Time) error {
	name := e.job.Name()
	log := s.log.With("job", name)
	if !at.IsZero() {
		log = log.With("fire_time", at)
		first, err := s.mark(ctx, name, at)
		if err != nil {
			log.Error("fire skipped: cannot mark it", "err", err)
			s.metric(name, "lock_error", 0)
			return err
		}
		if !first {
			log.Debug("fire skipped: already run by another replica")
			s.metric(name, "skipped", 0)
			return nil
		}
	}
	release, ok, err := s.lock(ctx, name)
	if err != nil {
		log.Error("run skipped: cannot lock", "err", err)
		s.metric(name, "lock_error", 0)
		return err
	}
	if !ok {
		log.Debug("run skipped: still running")
		s.metric(name, "skipped", 0)
		return fmt.Errorf("jobs: run %s: %w", name, ErrBusy)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
		defer cancel()
		if err := release(rctx); err != nil {
			log.Warn("release job lock", "err", err)
		}
	}()

	start := time.Now()
	outcome, err := s.call(ctx, e.job, at)
	d := time.Since(start)
	s.metric(name, outcome, d)
	switch outcome {
	case "ok":
		log.Debug("job done", "duration", d)
		return nil
	case "panic":
		var p *panicError
		errors.As(err, &p)
		log.Error("job panicked", "duration", d, "panic", p.value, "stack", p.stack)
	default:
		log.Error("job failed", "duration", d, "err", err)
	}
	return fmt.Errorf("jobs: run %s: %w", name, err)
}

// call runs j with the timeout, turning a panic into a *panicError.
func (s *Scheduler) call(ctx context.Context, j Job, at time.Time) (outcome string, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	if !at.IsZero() {
		ctx = context.WithValue(ctx, fireKey{}, at)
	}
	defer func() {
		if r := recover(); r != nil {
			outcome, err = "panic", &panicError{value: fmt.Sprint(r), stack: string(debug.Stack())}
		}
	}()
	if err := j.Run(ctx); err != nil {
		return "error", err
	}
	return "ok", nil
}

func (s *Scheduler) mark(ctx context.Context, name string, at time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	key := "fire:" + name + ":" + strconv.FormatInt(at.Unix(), 10)
	first, err := s.marker.FirstSeen(ctx, key, s.o.LockTTL)
	if err != nil {
		return false, fmt.Errorf("jobs: mark %s: %w", key, err)
	}
	return first, nil
}

func (s *Scheduler) lock(ctx context.Context, name string) (func(context.Context) error, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	release, ok, err := s.locker.Lock(ctx, "job:"+name, s.o.LockTTL)
	if err != nil {
		return nil, false, fmt.Errorf("jobs: lock %s: %w", name, err)
	}
	return release, ok, nil
}

func (s *Scheduler) metric(job, outcome string, d time.Duration) {
	if s.o.Metrics != nil {
		s.o.Metrics(job, outcome, d)
	}
}

// next is the first fire time of job name after t (for tests and status).
func (s *Scheduler) next(name string, t time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[name].sched.Schedule.Next(t.In(s.o.Location))
}

// panicError is a recovered panic with the stack where it happened.
type panicError struct{ value, stack string }

func (p *panicError) Error() string { return "panic: " + p.value }
