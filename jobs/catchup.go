package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// CatchUp is implemented by jobs whose missed fires must still run: a
// daily cost refresh or a weekly report skipped because Redis was down at
// fire time, no replica was up, or the run was cut short by a crash. A
// missed fire no older than CatchUpWindow runs once, as soon as it can.
type CatchUp interface {
	CatchUpWindow() time.Duration
}

// FireLog remembers the latest fire of each job that finished without an
// error. Satisfied by *store.Store.
type FireLog interface {
	LastFire(ctx context.Context, job string) (time.Time, error)
	SetLastFire(ctx context.Context, job string, at time.Time) error
}

// catchUpKey marks the ctx of a catch-up run (for its log line and metric,
// written only once the fire's marker is taken).
type catchUpKey struct{}

// DefaultCatchUpEvery is how often missed fires are looked for.
const DefaultCatchUpEvery = time.Minute

// catchUpLoop looks for missed fires at start and then every
// Options.CatchUpEvery until ctx ends.
func (s *Scheduler) catchUpLoop(ctx context.Context) {
	t := time.NewTicker(s.o.CatchUpEvery)
	defer t.Stop()
	for {
		s.catchUp(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// catchUp runs, once, the latest missed fire of each CatchUp job. The fire
// marker keeps it to one replica and away from a fire running right now.
func (s *Scheduler) catchUp(ctx context.Context) {
	s.mu.Lock()
	var due []*entry
	for _, e := range s.jobs {
		if _, ok := e.job.(CatchUp); ok {
			due = append(due, e)
		}
	}
	s.mu.Unlock()
	now := time.Now().In(s.o.Location)
	for _, e := range due {
		window := e.job.(CatchUp).CatchUpWindow()
		prev := lastFireBefore(e.sched.Schedule, now, window)
		if prev.IsZero() {
			continue
		}
		name := e.job.Name()
		last, err := s.lastFire(ctx, name)
		switch {
		case err != nil:
			s.log.Warn("catch-up: cannot read the last fire", "job", name, "err", err)
			continue
		case last.IsZero():
			// First time this job is seen: fires before today's start are
			// not "missed", so record a baseline rather than run them.
			s.recordFire(ctx, name, prev)
			continue
		case !last.Before(prev):
			continue
		}
		s.log.Debug("fire not recorded done; trying it", "job", name, "fire_time", prev, "last_done", last)
		if s.enterCheck() {
			go func() { _ = s.execute(context.WithValue(s.base, catchUpKey{}, true), e, prev) }()
		}
	}
}

// enterCheck reports whether the Scheduler still starts runs.
func (s *Scheduler) enterCheck() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopErr == nil
}

// lastFireBefore is the latest fire time of sched at or before now and no
// older than window; zero if there is none.
func lastFireBefore(sched cron.Schedule, now time.Time, window time.Duration) time.Time {
	var prev time.Time
	for t := sched.Next(now.Add(-window - time.Second)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		prev = t
	}
	return prev
}

func (s *Scheduler) lastFire(ctx context.Context, name string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	t, err := s.o.FireLog.LastFire(ctx, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("jobs: last fire of %s: %w", name, err)
	}
	return t, nil
}

// Forgetter drops a fire marker, so a fire cut short by shutdown can be
// taken by another replica at once rather than when the marker lapses.
// Satisfied by *store.Store.
type Forgetter interface {
	Forget(ctx context.Context, key string) error
}

// forgetFire hands the fire at of job name back for catch-up.
func (s *Scheduler) forgetFire(name string, at time.Time) {
	f, ok := s.marker.(Forgetter)
	if !ok || at.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := f.Forget(ctx, fireMarker(name, at)); err != nil {
		s.log.Warn("cannot hand a cut-short fire back; it is caught up when its marker lapses", "job", name, "fire_time", at, "err", err)
	}
}

// recordFire notes that the fire at of job name is done. A failure only
// means the fire may be caught up once more (jobs are idempotent per fire).
func (s *Scheduler) recordFire(ctx context.Context, name string, at time.Time) {
	if s.o.FireLog == nil || at.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	if err := s.o.FireLog.SetLastFire(ctx, name, at); err != nil {
		s.log.Warn("cannot record a finished fire; it may be caught up again", "job", name, "fire_time", at, "err", err)
	}
}
