package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Long steps (smoke checks, DNS changes waiting for INSYNC) run after the
// click was acknowledged; these bound them.
const (
	smokeBudget = 2 * time.Minute
	dnsBudget   = 5 * time.Minute
)

// runChangeSmoke opens the smoke checks form.
func runChangeSmoke(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeProvisioning && cr.State != store.ChangeSmokeTesting {
		return staleClick(cr), nil
	}
	lines := make([]string, len(cr.SmokeChecks))
	for i, ch := range cr.SmokeChecks {
		lines[i] = smokeLine(ch)
	}
	return Reply{Modal: modal(callbackChangeSmoke, "Smoke checks "+cr.ID, "Save", cr.ID,
		slack.NewContextBlock("", mrkdwn("opsbot runs each check against the new infrastructure. Use `host=` to reach it by IP before DNS points there.")),
		input(blockChangeChecks, "Checks, one a line", strings.Join(lines, "\n"),
			"https://203.0.113.10/health host=www.acme.example status=200 keyword=ok",
			"URL [host=H] [status=200] [keyword=K]", true, false, 3000))}, nil
}

func smokeLine(ch store.SmokeCheck) string {
	s := ch.URL
	if ch.Host != "" {
		s += " host=" + ch.Host
	}
	s += fmt.Sprintf(" status=%d", ch.ExpectStatus)
	if ch.Keyword != "" && !strings.ContainsAny(ch.Keyword, " \t") {
		s += " keyword=" + ch.Keyword
	}
	return s
}

func submitChangeSmoke(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	checks, err := ParseSmokeChecks(value(s, blockChangeChecks))
	if err == nil && c.r.deps.Smoke != nil {
		var cr store.ChangeRequest
		if cr, err = c.loadChange(ctx, s.PrivateMetadata); err != nil {
			return SubmitResult{}, err
		}
		err = c.r.deps.Smoke.VetSmoke(cr, checks)
	}
	if err != nil {
		return SubmitResult{Errors: map[string]string{blockChangeChecks: upperFirst(strings.TrimSuffix(err.Error(), ".")) + "."}}, nil
	}
	cr, err := c.transition(ctx, s.PrivateMetadata, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, cr.SetSmokeChecks(checks, c.User.ID, c.Now)
	})
	if err != nil {
		return SubmitResult{}, err
	}
	return notice(Reply{Text: fmt.Sprintf("🧪 %d smoke check(s) saved on *%s*. Press *Run smoke checks* on its message.", len(cr.SmokeChecks), cr.ID)}), nil
}

// runChangeSmokeRun runs the checks now and records the results.
func runChangeSmokeRun(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeSmokeTesting {
		return staleClick(cr), nil
	}
	if c.r.deps.Smoke == nil {
		return Reply{}, &UserError{Msg: "Smoke checks can't run on this opsbot (no HTTP checker is wired). An admin may waive them with a reason."}
	}
	if err := c.r.deps.Smoke.VetSmoke(cr, cr.SmokeChecks); err != nil { // saved before the rules, or smoke_allow narrowed since
		return Reply{}, &UserError{Msg: err.Error() + ". Press *Edit smoke checks* on the request's message to fix it."}
	}
	sctx, cancel := context.WithTimeout(ctx, smokeBudget)
	results := c.r.deps.Smoke.RunSmoke(sctx, cr.SmokeChecks)
	cancel()
	at := c.r.deps.Now()
	cr, err = c.transition(ctx, cr.ID, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, cr.RecordSmoke(results, c.User.ID, at)
	})
	if err != nil {
		return Reply{}, err
	}
	if cr.SmokePassed() {
		return Reply{Text: fmt.Sprintf("✅ Every smoke check of *%s* passed: it can be cut over.", cr.ID)}, nil
	}
	return Reply{Text: fmt.Sprintf("❌ Some smoke checks of *%s* failed; its message lists them. Fix and run them again, or an admin waives them with a reason.", cr.ID)}, nil
}

// runChangeWaive (admin) and runChangeCancel (the requester, or support)
// open the reason form.
func runChangeWaive(ctx context.Context, c *Call, a Action) (Reply, error) {
	if !c.Principal.HasRole(store.Admin) && !c.r.bootstrapAdmin(c.User.ID) {
		return Reply{}, &UserError{Msg: "Only an admin may waive smoke checks. Ask one, or make the checks pass.", Example: "/ops role list"}
	}
	return c.reasonModal(ctx, a.Value, "waive", "Waive checks", "Why is it safe to cut over without passing checks?",
		"The checks fail only because the new servers refuse our probe's address")
}

func runChangeCancel(ctx context.Context, c *Call, a Action) (Reply, error) {
	return c.reasonModal(ctx, a.Value, "cancel", "Cancel request", "Why is the request cancelled?",
		"The client postponed the launch to next quarter")
}

func (c *Call) reasonModal(ctx context.Context, id, kind, title, label, placeholder string) (Reply, error) {
	cr, err := c.loadChange(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	if err := c.mayCancel(cr, kind); err != nil {
		return Reply{}, err
	}
	return Reply{Modal: modal(callbackChangeReason, title, "Confirm", cr.ID+"|"+kind,
		slack.NewSectionBlock(mrkdwn("*"+Escape(cr.ID)+"* · "+c.r.clientName(cr.Client)+" · "+Escape(truncate(cr.Title, 150))), nil, nil),
		input(blockChangeComment, label, "", placeholder, "Required; it goes in the thread and the change log.", true, false, 1000))}, nil
}

// mayCancel: the requester may cancel their own request; otherwise support
// (change.run) or an admin. Waiving is for admins.
func (c *Call) mayCancel(cr store.ChangeRequest, kind string) error {
	switch kind {
	case "waive":
		if c.Principal.HasRole(store.Admin) || c.r.bootstrapAdmin(c.User.ID) {
			return nil
		}
		return &UserError{Msg: "Only an admin may waive smoke checks.", Example: "/ops role list"}
	case "cancel":
		if cr.RequestedBy == c.User.ID || c.Principal.Can(store.PermChangeRun) {
			return nil
		}
		return &UserError{Msg: "Only the requester or support may cancel " + cr.ID + "."}
	}
	return &UserError{Msg: "That form is malformed. Nothing was changed."}
}

func submitChangeReason(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	id, kind, _ := strings.Cut(s.PrivateMetadata, "|")
	reason := value(s, blockChangeComment)
	if reason == "" {
		return SubmitResult{Errors: map[string]string{blockChangeComment: "A reason is required."}}, nil
	}
	cur, err := c.loadChange(ctx, id)
	if err != nil {
		return SubmitResult{}, err
	}
	if err := c.mayCancel(cur, kind); err != nil {
		return SubmitResult{}, err
	}
	cr, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if kind == "waive" {
			return nil, cr.Waive(c.User.ID, reason, c.Now)
		}
		return nil, cr.Cancel(c.User.ID, reason, c.Now)
	})
	if err != nil {
		return SubmitResult{}, err
	}
	if kind == "waive" {
		return notice(Reply{Text: fmt.Sprintf("⚠️ Smoke checks of *%s* waived; it can be cut over.", cr.ID)}), nil
	}
	return notice(Reply{Text: fmt.Sprintf("🚫 *%s* is cancelled and logged.", cr.ID)}), nil
}

// runChangeCutOver switches DNS: check again that the plan's zone is the
// client's and its record inside it, keep the current records with the
// request (saved, with the audit entry of the attempt, before any change is
// sent), apply the plan, wait for INSYNC, and record the result. A failure
// leaves the request in smoke testing with the kept records, so the
// cut-over can be retried or DNS restored. Without a DNS plan it records a
// cut-over made by hand.
func runChangeCutOver(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeSmokeTesting {
		return staleClick(cr), nil
	}
	if err := cr.CutOverAllowed(); err != nil {
		return Reply{}, changeError(err)
	}
	plan := (*store.DNSPlan)(nil)
	if cr.Proposal != nil {
		plan = cr.Proposal.DNS
	}
	if plan == nil {
		cr, err = c.transition(ctx, cr.ID, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
			return nil, cr.CutOver(c.User.ID, c.Now)
		})
		if err != nil {
			return Reply{}, err
		}
		return Reply{Text: fmt.Sprintf("🔀 *%s* is recorded as cut over (no DNS plan: switched by hand).", cr.ID)}, nil
	}
	if c.r.deps.DNS == nil {
		return Reply{}, &UserError{Msg: "Route 53 is not set up on this opsbot, so I can't switch DNS. Switch it by hand, then clear the DNS plan (Edit proposal) and mark the cut-over."}
	}
	if err := c.checkDNSPlan(ctx, cr.Client, *plan); err != nil {
		c.r.log.Warn("cut-over refused: DNS plan outside the client's zones", "change_id", cr.ID, "client", cr.Client, "zone", plan.ZoneID, "err", err)
		return Reply{}, &UserError{Msg: "I won't cut over " + cr.ID + ": " + Escape(err.Error()) + ". Nothing was changed in Route 53; edit the proposal's DNS plan."}
	}
	dctx, cancel := context.WithTimeout(ctx, dnsBudget)
	defer cancel()
	kept := []byte(nil)
	if cr.DNS != nil {
		kept = cr.DNS.Kept
	}
	if len(kept) == 0 {
		if kept, err = c.r.deps.DNS.Keep(dctx, *plan); err != nil {
			return c.cutOverFailed(ctx, cr.ID, "reading the current records failed", err)
		}
	}
	if _, err = c.transition(ctx, cr.ID, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, cr.KeepDNS(kept, c.User.ID, c.r.deps.Now())
	}); err != nil {
		return Reply{}, err
	}
	changeID, err := c.r.deps.DNS.Apply(dctx, *plan, kept, "opsbot "+cr.ID+" cut-over by "+c.User.ID)
	if err != nil {
		return c.cutOverFailed(ctx, cr.ID, "switching the record failed", err)
	}
	cr, err = c.transition(ctx, cr.ID, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, cr.CutOverDone(changeID, c.User.ID, c.r.deps.Now())
	})
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("🔀 *%s*: DNS switched and in sync. *Roll back DNS* on its message restores the kept records.", cr.ID)}, nil
}

// cutOverFailed records a failed attempt (on a fresh context: the step's
// own may be spent) and tells the person in plain words; the error itself,
// with the SDK's detail, goes to the log under a ref.
func (c *Call) cutOverFailed(ctx context.Context, id, what string, cause error) (Reply, error) {
	ref := newRef()
	c.r.log.Error("cut-over failed", "ref", ref, "change_id", id, "step", what, "err", cause)
	why := fmt.Sprintf("%s: %s (ref %s)", what, dnsProblem(cause), ref)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := c.transition(rctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		cr.CutOverFailed(c.User.ID, why, c.r.deps.Now())
		return nil, nil
	}); err != nil {
		c.r.log.Error("cut-over failure not recorded", "change_id", id, "err", err)
	}
	return Reply{Text: fmt.Sprintf(":x: The cut-over of *%s* failed: %s\nThe records from before are kept with the request: *Restore DNS* puts them back, or retry the cut-over.", id, Escape(why))}, nil
}

// runChangeRollback restores the kept records exactly and ends the request
// as rolled back. runChangeRestore does the same after a failed cut-over
// without ending it.
func runChangeRollback(ctx context.Context, c *Call, a Action) (Reply, error) {
	return c.restoreDNS(ctx, a.Value, true)
}

func runChangeRestore(ctx context.Context, c *Call, a Action) (Reply, error) {
	return c.restoreDNS(ctx, a.Value, false)
}

func (c *Call) restoreDNS(ctx context.Context, id string, rollback bool) (Reply, error) {
	cr, err := c.loadChange(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	okState := cr.State == store.ChangeSmokeTesting
	if rollback {
		okState = cr.State == store.ChangeCutOver || cr.State == store.ChangeVerified
	}
	if !okState {
		return staleClick(cr), nil
	}
	hasDNS := cr.Proposal != nil && cr.Proposal.DNS != nil
	if hasDNS {
		if cr.DNS == nil || len(cr.DNS.Kept) == 0 {
			return Reply{}, changeError(store.ErrNothingKept)
		}
		if c.r.deps.DNS == nil {
			return Reply{}, &UserError{Msg: "Route 53 is not set up on this opsbot, so I can't restore DNS."}
		}
		// The attempt is audited before DNS is touched (fail closed).
		if _, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
			return nil, cr.BeginRestore(rollback, c.User.ID, c.r.deps.Now())
		}); err != nil {
			return Reply{}, err
		}
		dctx, cancel := context.WithTimeout(ctx, dnsBudget)
		err := c.r.deps.DNS.Restore(dctx, *cr.Proposal.DNS, cr.DNS.Kept, "opsbot "+cr.ID+" rollback by "+c.User.ID)
		cancel()
		if err != nil {
			ref := newRef()
			c.r.log.Error("DNS restore failed", "ref", ref, "change_id", id, "err", err)
			why := dnsProblem(err) + " (ref " + ref + ")"
			if _, terr := c.transition(context.WithoutCancel(ctx), id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
				cr.RestoreFailed(c.User.ID, why, c.r.deps.Now())
				return nil, nil
			}); terr != nil {
				c.r.log.Error("failed restore not recorded", "change_id", id, "err", terr)
			}
			return Reply{Text: fmt.Sprintf(":x: Restoring DNS for *%s* failed: %s\nThe kept records are intact; try again.", cr.ID, Escape(why))}, nil
		}
	}
	cr, err = c.transition(context.WithoutCancel(ctx), id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		at := c.r.deps.Now()
		if hasDNS {
			cr.DNSRestored(c.User.ID, at)
		}
		if rollback {
			return nil, cr.RollBack(c.User.ID, "rolled back from Slack", at)
		}
		return nil, nil
	})
	if err != nil {
		if !hasDNS {
			return Reply{}, err
		}
		ref := newRef()
		c.r.log.Error("DNS restored but not recorded", "ref", ref, "change_id", id, "err", err)
		return Reply{Text: fmt.Sprintf(":warning: DNS of *%s* is back to the kept records, but I could not record it (ref %s): its message may still show the cut-over. Tell the support team.", cr.ID, ref)}, nil
	}
	if rollback {
		return Reply{Text: fmt.Sprintf("↩️ *%s* is rolled back: DNS is as it was before the cut-over.", cr.ID)}, nil
	}
	return Reply{Text: fmt.Sprintf("↩️ DNS of *%s* is restored to the kept records.", cr.ID)}, nil
}
