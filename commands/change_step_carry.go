package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/383project/opsbot/store"
)

// errStepGone: the step ended (another replica finished it) between the
// scan and the lease.
var errStepGone = errors.New("step already ended")

// carryStep runs (or resumes) the long step saved on request id, under its
// lease. Each stage is saved as it completes, so a replica resuming after a
// death mid-step re-reads the provider rather than acting twice: records
// are kept once, a sent DNS change is waited for rather than sent again.
// When ctx ends (shutdown, lease lost) nothing is recorded: the step stays
// for the next holder. When its budget runs out, or the provider refuses,
// the failure is recorded with the kept records intact.
func (r *Router) carryStep(ctx context.Context, id string) error {
	cr, err := r.deps.Changes.GetChange(ctx, id)
	if err != nil {
		return fmt.Errorf("load %s: %w", id, err)
	}
	if cr.Step == nil {
		return nil
	}
	c := &Call{r: r, User: User{ID: cr.Step.By}, Now: r.deps.Now()}
	cr, err = c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if cr.Step == nil {
			return nil, errStepGone
		}
		cr.TakeStep(r.deps.Now())
		return nil, nil
	})
	if errors.Is(err, errStepGone) {
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotReplicated) {
		return fmt.Errorf("take %s: %w", id, err)
	}
	step := *cr.Step
	budget := max(step.Deadline.Sub(r.deps.Now()), stepGrace)
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	r.log.Info("change step running", "change_id", id, "step", step.Kind, "by", step.By, "run", step.Runs, "budget", budget.Round(time.Second))
	switch step.Kind {
	case store.StepSmoke:
		return r.carrySmoke(ctx, sctx, c, cr)
	case store.StepCutOver:
		return r.carryCutOver(ctx, sctx, c, cr, step)
	case store.StepRestore, store.StepRollBack:
		return r.carryRestore(ctx, sctx, c, cr, step)
	}
	return r.endStep(ctx, c, id, func(cr *store.ChangeRequest) error {
		cr.CutOverFailed(step.By, "unknown step "+string(step.Kind), r.deps.Now())
		return nil
	})
}

// endStep ends the step and records its outcome in one update, on a ctx
// of its own (the step's may be spent).
func (r *Router) endStep(ctx context.Context, c *Call, id string, outcome func(cr *store.ChangeRequest) error) error {
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := c.transition(ectx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if cr.Step == nil {
			return nil, errStepGone
		}
		cr.EndStep()
		return nil, outcome(cr)
	})
	if errors.Is(err, errStepGone) || errors.Is(err, store.ErrNotReplicated) {
		return nil
	}
	return err
}

// stopped reports whether the step was interrupted (shutdown, lease lost)
// rather than failed: then it stays saved for the next holder.
func stopped(ctx context.Context) bool { return ctx.Err() != nil }

func (r *Router) carrySmoke(ctx, sctx context.Context, c *Call, cr store.ChangeRequest) error {
	if r.deps.Smoke == nil {
		return r.endStep(ctx, c, cr.ID, func(*store.ChangeRequest) error { return nil })
	}
	results := r.deps.Smoke.RunSmoke(sctx, cr.SmokeChecks)
	if stopped(ctx) {
		return ctx.Err()
	}
	return r.endStep(ctx, c, cr.ID, func(cr *store.ChangeRequest) error {
		return cr.RecordSmoke(results, c.User.ID, r.deps.Now())
	})
}

func (r *Router) carryCutOver(ctx, sctx context.Context, c *Call, cr store.ChangeRequest, step store.RunningStep) error {
	if cr.Proposal == nil || cr.Proposal.DNS == nil || r.deps.DNS == nil {
		return r.stepFailed(ctx, c, cr.ID, step, "the DNS plan or Route 53 is gone", errors.New("no DNS plan or no Route 53"))
	}
	plan := *cr.Proposal.DNS
	changeID := step.ChangeID
	if changeID == "" {
		kept := []byte(nil)
		if cr.DNS != nil {
			kept = cr.DNS.Kept
		}
		if len(kept) == 0 {
			var err error
			if kept, err = r.deps.DNS.Keep(sctx, plan); err != nil {
				return r.stepFailed(ctx, c, cr.ID, step, "reading the current records failed", err)
			}
		}
		// Saved and audited before any change is sent.
		if _, err := c.transition(ctx, cr.ID, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
			return nil, cr.KeepDNS(kept, step.By, r.deps.Now())
		}); err != nil && !errors.Is(err, store.ErrNotReplicated) {
			return r.stepFailed(ctx, c, cr.ID, step, "keeping the current records failed", err)
		}
		var err error
		if changeID, err = r.deps.DNS.Apply(sctx, plan, kept, "opsbot "+cr.ID+" cut-over by "+step.By); err != nil {
			return r.stepFailed(ctx, c, cr.ID, step, "switching the record failed", err)
		}
		r.saveSent(ctx, c, cr.ID, changeID)
	}
	if err := r.deps.DNS.Wait(sctx, changeID); err != nil {
		return r.stepFailed(ctx, c, cr.ID, step, "waiting for Route 53 to have it in sync failed", err)
	}
	return r.endStep(ctx, c, cr.ID, func(cr *store.ChangeRequest) error {
		return cr.CutOverDone(changeID, step.By, r.deps.Now())
	})
}

func (r *Router) carryRestore(ctx, sctx context.Context, c *Call, cr store.ChangeRequest, step store.RunningStep) error {
	rollback := step.Kind == store.StepRollBack
	if cr.Proposal == nil || cr.Proposal.DNS == nil || r.deps.DNS == nil || cr.DNS == nil {
		return r.stepFailed(ctx, c, cr.ID, step, "the DNS plan or Route 53 is gone", errors.New("no DNS plan, kept records or Route 53"))
	}
	changeID := step.ChangeID
	if changeID == "" {
		var err error
		// Restore reads the records as they are now and sends only what
		// differs from the kept ones: sending it again after a death is
		// harmless, and "" means they are already as kept.
		if changeID, err = r.deps.DNS.Restore(sctx, *cr.Proposal.DNS, cr.DNS.Kept, "opsbot "+cr.ID+" rollback by "+step.By); err != nil {
			return r.stepFailed(ctx, c, cr.ID, step, "restoring the kept records failed", err)
		}
		r.saveSent(ctx, c, cr.ID, changeID)
	}
	if changeID != "" {
		if err := r.deps.DNS.Wait(sctx, changeID); err != nil {
			return r.stepFailed(ctx, c, cr.ID, step, "waiting for Route 53 to have the kept records in sync failed", err)
		}
	}
	return r.endStep(ctx, c, cr.ID, func(cr *store.ChangeRequest) error {
		at := r.deps.Now()
		cr.DNSRestored(step.By, at)
		if rollback {
			return cr.RollBack(step.By, "rolled back from Slack", at)
		}
		return nil
	})
}

// saveSent records the provider's change ID so a resumed step waits for
// it. Not saving it is not fatal: a resume sends the same change again.
func (r *Router) saveSent(ctx context.Context, c *Call, id, changeID string) {
	if changeID == "" {
		return
	}
	if _, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		cr.StepSent(changeID)
		return nil, nil
	}); err != nil && !errors.Is(err, store.ErrNotReplicated) {
		r.log.Warn("change step: provider change ID not saved", "change_id", id, "dns_change", changeID, "err", err)
	}
}

// stepFailed records a failed step unless it was interrupted: the person
// reads plain words and a ref in the thread and on the message; the error
// itself, with the SDK's detail, goes to the log under that ref. The kept
// records stay with the request, so Restore DNS (after a cut-over) or a
// retry is offered.
func (r *Router) stepFailed(ctx context.Context, c *Call, id string, step store.RunningStep, what string, cause error) error {
	if stopped(ctx) {
		return ctx.Err()
	}
	ref := newRef()
	r.log.Error("change step failed", "ref", ref, "change_id", id, "step", step.Kind, "what", what, "err", cause)
	why := fmt.Sprintf("%s: %s (ref %s)", what, dnsProblem(cause), ref)
	return r.endStep(ctx, c, id, func(cr *store.ChangeRequest) error {
		if step.Kind == store.StepCutOver {
			cr.CutOverFailed(step.By, why, r.deps.Now())
		} else {
			cr.RestoreFailed(step.By, why, r.deps.Now())
		}
		return nil
	})
}
