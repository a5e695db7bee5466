package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
		r.carryUnderLease(ctx, "checklist-run:"+cl.ID, cl.ID, "checklist_id", "checklist run",
			func(ctx context.Context) error { return r.carryChecklistRun(ctx, cl.ID) })
	}
}

// runGrace lets a re-verification taken up after its budget ran out (every
// replica carrying it died) read each source once more, as a change step
// does (stepGrace), rather than record every item as timed out. One read
// of the slowest source (Cost Explorer's forecast, a GitHub status) takes
// seconds.
const runGrace = 30 * time.Second

// errRunGone: the run ended (another replica finished it) between the scan
// and the lease.
var errRunGone = errors.New("re-verification already ended")

// carryChecklistRun runs (or resumes) every verified item of checklist id
// at once, saves each result as it comes (the message shows the progress),
// then ends the run and, when asked, signs off if nothing holds the launch
// back. When ctx ends (shutdown, lease lost) nothing more is recorded: the
// run stays for the next holder, which reads every source again.
func (r *Router) carryChecklistRun(ctx context.Context, id string) error {
	cl, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		if cl.Run == nil {
			return nil, errRunGone
		}
		cl.TakeRun(r.deps.Now())
		return nil, nil
	})
	if errors.Is(err, errRunGone) || errors.Is(err, store.ErrChecklistNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("take checklist run %s: %w", id, err)
	}
	run := *cl.Run
	budget := max(run.Deadline.Sub(r.deps.Now()), runGrace)
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if run.Runs > 1 {
		r.log.Info("checklist run resumed", "checklist_id", id, "by", run.By, "run", run.Runs, "budget", budget.Round(time.Second))
	}
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
		if ctx.Err() != nil {
			continue // interrupted: a cancelled read is no result
		}
		if _, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) ([]store.OutboxItem, error) {
			if cl.Run != nil {
				cl.Run.Done++
			}
			return nil, cl.Record(res.key, res.res, r.deps.Now())
		}); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil // shut down: the run stays saved for another replica
	}
	return r.endChecklistRun(ctx, id, run)
}

// endChecklistRun ends the run and, when asked, signs off in the same
// update: the announcements of a sign-off, or the clicker's refusal naming
// what holds the launch back, are queued with it, so a crash between the
// two cannot lose them.
func (r *Router) endChecklistRun(ctx context.Context, id string, run store.ChecklistRun) error {
	var p store.Principal
	if run.SignOff {
		var err error
		if p, err = r.principal(ctx, run.By); err != nil {
			return fmt.Errorf("checklist %s: roles of %s: %w", id, run.By, err)
		}
	}
	_, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		cl.Run = nil
		if !run.SignOff {
			return nil, nil
		}
		now := r.deps.Now()
		err := cl.SignOff(p, now)
		var refused *store.SignOffRefused
		var ce *store.ChecklistError
		switch {
		case err == nil:
			return r.signOffAnnouncements(*cl, now)
		case errors.As(err, &refused):
			tell, terr := r.tellRunner(*cl, run, signOffRefusal(cl.ID, refused.Blockers), now)
			if terr != nil {
				return nil, terr
			}
			return tell, err // the refusal is saved with its history line
		case errors.As(err, &ce):
			// No longer an admin, or signed off meanwhile: the run ends
			// all the same and the clicker is told why.
			return r.tellRunner(*cl, run, "🛑 "+ce.Msg, now)
		}
		return nil, err
	})
	var refused *store.SignOffRefused
	if errors.As(err, &refused) {
		return nil // recorded in the thread, told to the clicker
	}
	return err
}

// tellRunner queues text for the person who started run, shown to them
// alone where they clicked (as the click's own refusal would be).
func (r *Router) tellRunner(cl store.Checklist, run store.ChecklistRun, text string, now time.Time) ([]store.OutboxItem, error) {
	channel := cmpOr(run.Channel, cl.Channel)
	if channel == "" || run.By == "" {
		return nil, nil
	}
	it, err := store.NewOutboxItem(store.KindSlackEphemeral, "checklist/"+cl.ID+"/"+run.By,
		store.EphemeralPayload{Channel: channel, User: run.By, Text: text}, now)
	if err != nil {
		return nil, err
	}
	return []store.OutboxItem{it}, nil
}

// signOffRefusal names the items holding a sign-off back, each with what
// is wrong, for the person who asked.
func signOffRefusal(id string, blockers []store.ChecklistItem) string {
	head := "🛑 Sign-off refused"
	if id != "" {
		head = "🛑 Sign-off of " + id + " refused after re-verifying"
	}
	lines := []string{head + ": held back by " + Escape(store.BlockerTitles(blockers)) + "."}
	for _, b := range blockers[:min(len(blockers), 20)] {
		line := "• " + store.StateEmoji(b.State) + " *" + Escape(b.Title) + "*"
		switch {
		case b.Detail != "":
			line += " — " + Escape(truncate(oneLine(b.Detail), 200))
		case b.Kind == store.ItemKindAttested:
			line += " — not ticked yet (by " + cmpOr(string(b.Role), "admin") + ")"
		}
		lines = append(lines, line)
	}
	lines = append(lines, "Each must be verified, attested, waived or not applicable.")
	return strings.Join(lines, "\n")
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
			if _, err := r.saveChecklist(ctx, id, func(cl *store.Checklist) ([]store.OutboxItem, error) {
				if cl.Run != nil {
					cl.Run.Note = note
				}
				return nil, nil
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

// saveChecklist is updateChecklist for the bot's own steps (no caller):
// fn changes the checklist and names deliveries of its own, queued with the
// message's update and thread lines in the same transaction.
func (r *Router) saveChecklist(ctx context.Context, id string, fn func(*store.Checklist) ([]store.OutboxItem, error)) (store.Checklist, error) {
	now := r.deps.Now()
	cl, err := r.deps.Checklists.UpdateChecklist(ctx, id, now, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		extra, ferr := fn(cl)
		var refused *store.SignOffRefused
		if ferr != nil && !errors.As(ferr, &refused) {
			return nil, ferr
		}
		items, err := r.checklistDeliveries(*cl, cl.Events(), now)
		if err != nil {
			return nil, err
		}
		return append(items, extra...), ferr
	})
	r.nudge()
	if errors.Is(err, store.ErrNotReplicated) {
		err = nil
	}
	return cl, err
}

// signOffAnnouncements tell the support channel and the client's channel
// of a sign-off; queued with it.
func (r *Router) signOffAnnouncements(cl store.Checklist, now time.Time) ([]store.OutboxItem, error) {
	if r.deps.ChecklistSettings.Announce == nil {
		return nil, nil
	}
	text := "🚀 Launch " + cl.ID + " of " + r.clientName(cl.Client) + " signed off by <@" + cl.SignedOffBy + ">: every item verified, attested, waived or not applicable."
	var items []store.OutboxItem
	for _, ch := range r.deps.ChecklistSettings.Announce(cl.Client) {
		it, err := store.NewOutboxItem(store.KindSlackPost, "signoff/"+cl.ID+"/"+ch, store.PostPayload{Channel: ch, Text: text}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}
