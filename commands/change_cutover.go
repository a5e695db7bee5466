package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
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
	if err := stepBusy(cr); err != nil {
		return Reply{}, err
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

// runChangeSmokeRun starts the smoke checks as a background step (they
// may take longer than a click may): the message shows them running and
// then their results.
func runChangeSmokeRun(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeSmokeTesting {
		return staleClick(cr), nil
	}
	if err := stepBusy(cr); err != nil {
		return Reply{}, err
	}
	if c.r.deps.Smoke == nil {
		return Reply{}, &UserError{Msg: "Smoke checks can't run on this opsbot (no HTTP checker is wired). An admin may waive them with a reason."}
	}
	if err := c.r.deps.Smoke.VetSmoke(cr, cr.SmokeChecks); err != nil { // saved before the rules, or smoke_allow narrowed since
		return Reply{}, &UserError{Msg: err.Error() + ". Press *Edit smoke checks* on the request's message to fix it."}
	}
	if cr, err = c.beginStep(ctx, cr.ID, store.StepSmoke, smokeBudget); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("🧪 Running the %d smoke check(s) of *%s*… its message shows the results when they are in.", len(cr.SmokeChecks), cr.ID)}, nil
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
	if err := stepBusy(cr); err != nil {
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
// client's and its record inside it, then start the cut-over as a
// background step (change_step.go): keep the current records with the
// request (saved and audited before any change is sent), apply the plan,
// wait for INSYNC and record the result, whatever happens to the clicker's
// connection. Without a DNS plan it records a cut-over made by hand.
func runChangeCutOver(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeSmokeTesting {
		return staleClick(cr), nil
	}
	if err := stepBusy(cr); err != nil {
		return Reply{}, err
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
	if cr, err = c.beginStep(ctx, cr.ID, store.StepCutOver, dnsBudget); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("🔀 Switching DNS for *%s*… Route 53 often takes a minute to have it in sync. The request's message shows the progress, and its thread the outcome; *Roll back DNS* will restore the kept records.", cr.ID)}, nil
}

// runChangeRollback restores the kept records exactly and ends the request
// as rolled back. runChangeRestore does the same after a failed cut-over
// without ending it. With DNS records kept, both run as background steps.
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
	if cr.Proposal == nil || cr.Proposal.DNS == nil {
		if !rollback {
			return Reply{}, changeError(store.ErrNothingKept)
		}
		cr, err = c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
			return nil, cr.RollBack(c.User.ID, "rolled back from Slack", c.Now)
		})
		if err != nil {
			return Reply{}, err
		}
		return Reply{Text: fmt.Sprintf("↩️ *%s* is rolled back (no DNS plan: switch the traffic back by hand).", cr.ID)}, nil
	}
	if cr.DNS == nil || len(cr.DNS.Kept) == 0 {
		return Reply{}, changeError(store.ErrNothingKept)
	}
	if c.r.deps.DNS == nil {
		return Reply{}, &UserError{Msg: "Route 53 is not set up on this opsbot, so I can't restore DNS."}
	}
	kind := store.StepRestore
	if rollback {
		kind = store.StepRollBack
	}
	if cr, err = c.beginStep(ctx, id, kind, dnsBudget); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("↩️ %s for *%s*… the request's message shows the progress, and its thread the outcome.", upperFirst(kind.Label()), cr.ID)}, nil
}
