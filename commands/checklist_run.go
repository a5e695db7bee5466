package commands

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/383project/opsbot/store"
)

// checkTimeout bounds one source's check; a loader.io run polls for minutes.
const checkTimeout = 10 * time.Minute

// notWired is the answer of an item whose source opsbot cannot reach yet.
var notWired = store.CheckResult{State: store.ItemFailing,
	Detail: "not wired yet: opsbot cannot prove this from its source yet; tick it by a waiver until it can"}

// scanChecklistRuns starts, on this replica, the re-verifications nobody
// carries (as scanSteps does for change requests' long steps).
func (r *Router) scanChecklistRuns(ctx context.Context) {
	open, err := r.deps.Checklists.OpenChecklists(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("checklist runs: listing open checklists failed", "err", err)
		}
		return
	}
	for _, cl := range open {
		if cl.Run == nil || !r.steps.claim(cl.ID) {
			continue
		}
		r.steps.wg.Add(1)
		go func(id string) {
			defer r.steps.wg.Done()
			defer r.steps.done(id)
			work := func(ctx context.Context) error { return r.carryChecklistRun(ctx, id) }
			var err error
			if r.deps.StepLeases == nil {
				err = work(ctx)
			} else {
				_, err = r.deps.StepLeases.Hold(ctx, "checklist-run:"+id, stepLease, work)
			}
			if err != nil && ctx.Err() == nil {
				r.log.Error("checklist run failed", "checklist_id", id, "err", err)
			}
		}(cl.ID)
	}
}

// carryChecklistRun runs every verified item of checklist id at once,
// saves each result as it comes (the message shows the progress), then
// ends the run and, when asked, signs off if nothing holds the launch back.
func (r *Router) carryChecklistRun(ctx context.Context, id string) error {
	cl, err := r.deps.Checklists.GetChecklist(ctx, id)
	if err != nil || cl.Run == nil {
		return err
	}
	run := *cl.Run
	rctx, cancel := context.WithDeadline(ctx, run.Deadline)
	defer cancel()
	type result struct {
		key string
		res store.CheckResult
	}
	specs := cl.Verified()
	results := make(chan result, len(specs))
	var wg sync.WaitGroup
	for _, s := range specs {
		wg.Go(func() {
			results <- result{s.Key, r.checkItem(rctx, id, cl.Client, s)}
		})
	}
	go func() { wg.Wait(); close(results) }()
	for res := range results {
		if _, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) error {
			if cl.Run != nil {
				cl.Run.Done++
			}
			return cl.Record(res.key, res.res, r.deps.Now())
		}); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil // shut down: the run stays saved for another replica
	}
	var announce bool
	cl, err = r.saveChecklist(ctx, id, func(cl *store.Checklist) error {
		cl.Run = nil
		if !run.SignOff {
			return nil
		}
		p, err := r.principal(ctx, run.By)
		if err != nil {
			return err
		}
		err = cl.SignOff(p, r.deps.Now())
		announce = err == nil
		return err
	})
	var refused *store.SignOffRefused
	var ce *store.ChecklistError
	if errors.As(err, &refused) || errors.As(err, &ce) {
		return nil // recorded in the thread
	}
	if err == nil && announce {
		err = r.announceSignOff(ctx, cl)
	}
	return err
}

// checkItem runs one item's source, bounded; a missing source answers
// "not wired yet".
func (r *Router) checkItem(ctx context.Context, id, client string, s store.ItemSpec) store.CheckResult {
	chk, ok := r.deps.ChecklistSettings.Checks[s.Check]
	if !ok || chk == nil {
		return notWired
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var res store.CheckResult
	if pc, ok := chk.(ChecklistProgressCheck); ok {
		res = pc.CheckProgress(ctx, client, func(note string) {
			if _, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) error {
				if cl.Run != nil {
					cl.Run.Note = note
				}
				return nil
			}); err != nil && ctx.Err() == nil {
				r.log.Warn("checklist progress not saved", "checklist_id", id, "err", err)
			}
		})
	} else {
		res = chk.Check(ctx, client)
	}
	if res.State == "" {
		res = store.CheckResult{State: store.ItemFailing, Detail: "the check gave no answer"}
	}
	return res
}

// saveChecklist is updateChecklist for the bot's own steps (no caller).
func (r *Router) saveChecklist(ctx context.Context, id string, fn func(*store.Checklist) error) (store.Checklist, error) {
	now := r.deps.Now()
	cl, err := r.deps.Checklists.UpdateChecklist(ctx, id, now, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		ferr := fn(cl)
		var refused *store.SignOffRefused
		if ferr != nil && !errors.As(ferr, &refused) {
			return nil, ferr
		}
		items, err := r.checklistDeliveries(*cl, cl.Events(), now)
		if err != nil {
			return nil, err
		}
		return items, ferr
	})
	r.nudge()
	if errors.Is(err, store.ErrNotReplicated) {
		err = nil
	}
	return cl, err
}

// announceSignOff tells the support channel and the client's channel.
func (r *Router) announceSignOff(ctx context.Context, cl store.Checklist) error {
	if r.deps.ChecklistSettings.Announce == nil {
		return nil
	}
	text := "🚀 Launch " + cl.ID + " of " + r.clientName(cl.Client) + " signed off by <@" + cl.SignedOffBy + ">: every item verified, attested, waived or not applicable."
	var items []store.OutboxItem
	for _, ch := range r.deps.ChecklistSettings.Announce(cl.Client) {
		it, err := store.NewOutboxItem(store.KindSlackPost, "signoff/"+cl.ID+"/"+ch, store.PostPayload{Channel: ch, Text: text}, r.deps.Now())
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil
	}
	_, err := r.deps.Checklists.UpdateChecklist(ctx, cl.ID, r.deps.Now(), func(*store.Checklist) ([]store.OutboxItem, error) { return items, nil })
	r.nudge()
	return err
}
