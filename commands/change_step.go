package commands

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/383project/opsbot/store"
)

// StepLeases lets one replica at a time carry a change request's long step:
// Hold runs work only if it takes the lease name, renews it while work runs,
// cancels work's ctx as soon as it is lost, and frees it by itself when the
// holder dies. *store.Store satisfies it.
type StepLeases interface {
	Hold(ctx context.Context, name string, ttl time.Duration, work func(ctx context.Context) error) (held bool, err error)
}

// Long steps (smoke checks, DNS changes waiting for INSYNC) run in the
// background, not in the click's handler; these are their budgets, counted
// from the click, whichever replica carries them.
const (
	smokeBudget = 2 * time.Minute
	dnsBudget   = 5 * time.Minute
)

const (
	// stepLease is how long a replica that died mid-step holds it: another
	// one takes the step up within this (plus a scan).
	stepLease = 15 * time.Second
	// stepScan is how often every replica looks for steps nobody carries.
	stepScan = 5 * time.Second
	// stepGrace lets a step taken up after its budget ran out read the
	// provider once (was the change applied meanwhile?) before it fails.
	stepGrace = 10 * time.Second
)

// stepRunner carries the long steps on this replica.
type stepRunner struct {
	wake    chan struct{}
	mu      sync.Mutex
	running map[string]bool // change IDs whose step runs here
	wg      sync.WaitGroup
}

func newStepRunner() *stepRunner {
	return &stepRunner{wake: make(chan struct{}, 1), running: map[string]bool{}}
}

// kick makes the runner look for steps now (a click just started one).
func (s *stepRunner) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *stepRunner) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] {
		return false
	}
	s.running[id] = true
	return true
}

func (s *stepRunner) done(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, id)
}

// RunSteps carries change requests' long steps until ctx ends: the ones
// clicked on this replica at once, and every stepScan any step whose lease
// is free (its replica died, or stopped) — so a cut-over outlives the click,
// the clicker's connection and the replica that took it. On ctx's end it
// waits for the steps running here to stop; unfinished ones stay saved for
// another replica (or the next start) to carry on.
func (r *Router) RunSteps(ctx context.Context) error {
	if r.deps.Changes == nil && r.deps.Checklists == nil {
		<-ctx.Done()
		return nil
	}
	defer r.steps.wg.Wait()
	t := time.NewTicker(stepScan)
	defer t.Stop()
	for {
		if r.deps.Changes != nil {
			r.scanSteps(ctx)
		}
		if r.deps.Checklists != nil {
			r.scanChecklistRuns(ctx) // launch checklists' re-verifications (checklist_run.go)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.steps.wake:
		}
	}
}

func (r *Router) scanSteps(ctx context.Context) {
	open, err := r.deps.Changes.OpenChanges(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("change steps: listing open requests failed", "err", err)
		}
		return
	}
	for _, cr := range open {
		if cr.Step == nil || !r.steps.claim(cr.ID) {
			continue
		}
		r.carryUnderLease(ctx, "change-step:"+cr.ID, cr.ID, "change_id", "change step",
			func(ctx context.Context) error { return r.carryStep(ctx, cr.ID) })
	}
}

// carryUnderLease runs work for id (claimed in r.steps) in the background
// under the named lease, so one replica at a time carries it; without
// leases (a single process) it just runs. idAttr and what name it in logs.
func (r *Router) carryUnderLease(ctx context.Context, lease, id, idAttr, what string, work func(context.Context) error) {
	r.steps.wg.Add(1)
	go func() {
		defer r.steps.wg.Done()
		defer r.steps.done(id)
		if r.deps.StepLeases == nil { // a single process (tests of other parts)
			if err := work(ctx); err != nil && ctx.Err() == nil {
				r.log.Error(what+" failed", idAttr, id, "err", err)
			}
			return
		}
		held, err := r.deps.StepLeases.Hold(ctx, lease, stepLease, work)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Error(what+" failed", idAttr, id, "err", err)
		case !held:
			r.log.Debug(what+" carried by another replica", idAttr, id)
		}
	}()
}

// beginStep saves a long step on the request (refused while another runs)
// and wakes this replica's runner to carry it.
func (c *Call) beginStep(ctx context.Context, id string, kind store.StepKind, budget time.Duration) (store.ChangeRequest, error) {
	cr, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, cr.BeginStep(kind, c.User.ID, c.r.deps.Now(), budget)
	})
	if err != nil && !errors.Is(err, store.ErrNotReplicated) {
		return cr, err
	}
	c.r.steps.kick()
	return cr, err
}

// stepBusy refuses to open a form while a long step of cr runs: its
// submission would be refused anyway.
func stepBusy(cr store.ChangeRequest) error {
	if cr.Step != nil {
		return changeError(&store.StepBusyError{Step: *cr.Step})
	}
	return nil
}
