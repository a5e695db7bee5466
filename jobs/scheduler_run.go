package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"
)

// execute runs e once: it takes the fire marker (scheduled runs only, at
// non-zero) and the job lock, runs the job with the timeout and records the
// outcome. Errors are logged here and returned for RunNow.
func (s *Scheduler) execute(ctx context.Context, e *entry, at time.Time) error {
	name := e.job.Name()
	log := s.log.With("job", name)
	if err := s.enter(name); err != nil {
		log.Debug("run skipped: shutting down", "fire_time", at)
		s.metric(name, "skipped", 0)
		return fmt.Errorf("jobs: run %s: %w: %w", name, ErrStopped, err)
	}
	defer s.leave(name)
	// The run (and the lock and marker calls) end when shutdown's grace is
	// over. The lock is released below with a fresh context all the same.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(s.hard, func() { cancel(ErrStopped) })()
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
		if ctx.Value(catchUpKey{}) != nil {
			log.Info("catching up a missed fire")
			s.metric(name, "catch_up", 0)
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
		if _, catchUp := e.job.(CatchUp); catchUp {
			// The run in progress (a RunNow, say) does this fire's work:
			// it is done, not missed.
			s.recordFire(ctx, name, at)
		}
		return fmt.Errorf("jobs: run %s: %w", name, ErrBusy)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := release(rctx); err != nil {
			log.Warn("release job lock", "err", err)
		}
	}()

	start := time.Now()
	outcome, err := s.call(ctx, e.job, at)
	d := time.Since(start)
	s.metric(name, outcome, d)
	// A fire counts as done once the job has finished, well or not (its
	// own errors are its to report, and a retry every minute would repeat
	// them); only a run cut short by shutdown is handed back for catch-up.
	if _, catchUp := e.job.(CatchUp); catchUp && outcome != "ok" && errors.Is(context.Cause(ctx), ErrStopped) {
		s.forgetFire(name, at)
	} else {
		s.recordFire(ctx, name, at)
	}
	switch outcome {
	case "ok":
		log.Debug("job done", "duration", d)
		return nil
	case "panic":
		var p *panicError
		errors.As(err, &p)
		log.Error("job panicked", "duration", d, "panic", p.value, "stack", p.stack)
	default:
		if errors.Is(context.Cause(ctx), ErrStopped) {
			log.Warn("job cancelled by shutdown", "duration", d, "err", err)
		} else {
			log.Error("job failed", "duration", d, "err", err)
		}
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

func fireMarker(name string, at time.Time) string {
	return "fire:" + name + ":" + strconv.FormatInt(at.Unix(), 10)
}

func (s *Scheduler) mark(ctx context.Context, name string, at time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	key := fireMarker(name, at)
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
