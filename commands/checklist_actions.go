package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

const (
	blockWaiverCategory = "cl_category"
	blockWaiverReason   = "cl_reason"
	blockWaiverDays     = "cl_days"
)

// checklistTarget reads a button's "<id>[|<key>]" value and loads the
// checklist, if the caller may see its client.
func (c *Call) checklistTarget(ctx context.Context, value string) (store.Checklist, string, error) {
	id, key, _ := strings.Cut(value, "|")
	if !reChecklistID.MatchString(id) {
		return store.Checklist{}, "", userErrorf("/ops checklist", "That button does not name a launch checklist. Run `/ops checklist` for a fresh list.")
	}
	cl, err := c.visibleChecklist(ctx, id)
	if err != nil {
		return cl, "", err
	}
	if key != "" {
		if _, err := cl.Item(key); err != nil {
			return cl, "", checklistError(err)
		}
	}
	return cl, key, nil
}

// checklistError words the store's refusals for the person.
func checklistError(err error) error {
	var ce *store.ChecklistError
	var refused *store.SignOffRefused
	switch {
	case errors.As(err, &refused):
		return &UserError{Msg: signOffRefusal("", refused.Blockers)}
	case errors.As(err, &ce):
		return &UserError{Msg: ce.Msg}
	}
	return err
}

// updateChecklist applies fn and queues the message update and thread lines.
func (c *Call) updateChecklist(ctx context.Context, id string, fn func(*store.Checklist) error) (store.Checklist, error) {
	cl, err := c.r.deps.Checklists.UpdateChecklist(ctx, id, c.Now, func(cl *store.Checklist) ([]store.OutboxItem, error) {
		ferr := fn(cl)
		var refused *store.SignOffRefused
		if ferr != nil && !errors.As(ferr, &refused) {
			return nil, ferr
		}
		items, err := c.r.checklistDeliveries(*cl, cl.Events(), c.Now)
		if err != nil {
			return nil, err
		}
		return items, ferr
	})
	c.r.nudge()
	if errors.Is(err, store.ErrNotReplicated) {
		err = nil
	}
	return cl, checklistError(err)
}

// runChecklistVerify is the Re-verify button: every verified item now, in
// the background (checklist_run.go).
func runChecklistVerify(ctx context.Context, c *Call, a Action) (Reply, error) {
	cl, _, err := c.checklistTarget(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	if !c.Principal.CanFor(store.PermChecklistTick, cl.Client) && !c.Principal.HasRole(store.Security) {
		return Reply{}, &deniedError{reply: denied(c.Principal, store.PermChecklistTick, "re-verify a launch checklist")}
	}
	return c.beginChecklistRun(ctx, cl.ID, false)
}

func (c *Call) beginChecklistRun(ctx context.Context, id string, signOff bool) (Reply, error) {
	budget := c.r.deps.ChecklistSettings.Budget
	if budget <= 0 {
		budget = 15 * time.Minute
	}
	if _, err := c.updateChecklist(ctx, id, func(cl *store.Checklist) error {
		return cl.BeginRun(c.User.ID, c.ChannelID, signOff, c.Now, budget)
	}); err != nil {
		return Reply{}, err
	}
	c.r.steps.kick()
	if signOff {
		return Reply{Text: "🔄 Re-verifying " + id + " before the sign-off: the checklist's message shows the progress; if anything holds the launch back, you are told here."}, nil
	}
	return Reply{Text: "🔄 Re-verifying " + id + ": the checklist's message shows the progress."}, nil
}

// runChecklistSignOff is Sign off (admin only, by the route). Items no
// re-verification can change (attested ones not ticked) refuse it at once;
// otherwise every verified item runs again first and the runner signs off
// only if nothing holds the launch back then.
func runChecklistSignOff(ctx context.Context, c *Call, a Action) (Reply, error) {
	cl, _, err := c.checklistTarget(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	for _, b := range cl.Blockers(c.Now) {
		if b.Kind != store.ItemKindVerified {
			_, err := c.updateChecklist(ctx, cl.ID, func(cl *store.Checklist) error { return cl.SignOff(c.Principal, c.Now) })
			return Reply{}, err
		}
	}
	return c.beginChecklistRun(ctx, cl.ID, true)
}

// runChecklistAttest is Tick on an attested item.
func runChecklistAttest(ctx context.Context, c *Call, a Action) (Reply, error) {
	cl, key, err := c.checklistTarget(ctx, a.Value)
	if err != nil || key == "" {
		return Reply{}, cmpErr(err, "attest")
	}
	if slices.Contains(evidenceItems, key) {
		return c.checklistEvidenceForm(ctx, cl, key)
	}
	cl, err = c.updateChecklist(ctx, cl.ID, func(cl *store.Checklist) error { return cl.Attest(key, c.Principal, "", c.Now) })
	if err != nil {
		return Reply{}, err
	}
	it, _ := cl.Item(key)
	return Reply{Text: "✅ " + Escape(it.Title) + " ticked; the checklist's message shows it."}, nil
}

// runChecklistApprove is Approve waiver (admin or security, not the asker).
func runChecklistApprove(ctx context.Context, c *Call, a Action) (Reply, error) {
	cl, key, err := c.checklistTarget(ctx, a.Value)
	if err != nil || key == "" {
		return Reply{}, cmpErr(err, "approve")
	}
	cl, err = c.updateChecklist(ctx, cl.ID, func(cl *store.Checklist) error { return cl.ApproveWaiver(key, c.Principal, c.Now) })
	if err != nil {
		return Reply{}, err
	}
	it, _ := cl.Item(key)
	return Reply{Text: "⚠️ Waiver of " + Escape(it.Title) + " approved until " + it.Waiver.Expires.UTC().Format("2006-01-02") + "."}, nil
}

func cmpErr(err error, what string) error {
	if err != nil {
		return err
	}
	return userErrorf("/ops checklist", "That button does not name an item to %s. Run `/ops checklist show <id>` for a fresh message.", what)
}

// runChecklistWaive is Ask waiver: a form with the category, reason and
// expiry, for someone who may tick the item.
func runChecklistWaive(ctx context.Context, c *Call, a Action) (Reply, error) {
	cl, key, err := c.checklistTarget(ctx, a.Value)
	if err != nil || key == "" {
		return Reply{}, cmpErr(err, "waive")
	}
	it, _ := cl.Item(key)
	if !store.MayTick(c.Principal, *it, cl.Client) {
		return Reply{}, userErrorf("", "Only someone who may tick %q (%s, or an admin) may ask to waive it.", Escape(it.Title), cmpOr(string(it.Role), "support"))
	}
	opts := make([]*slack.OptionBlockObject, len(store.WaiverCategories))
	for i, cat := range store.WaiverCategories {
		opts[i] = slack.NewOptionBlockObject(cat, plain(cat), nil)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Why"), elemValue, opts...)
	return Reply{Modal: modal(callbackChecklistWaive, "Ask a waiver", "Ask", cl.ID+"|"+key,
		slack.NewContextBlock("", mrkdwn("*"+cl.ID+"* · "+c.clientName(cl.Client)+" · "+Escape(it.Title))),
		slack.NewInputBlock(blockWaiverCategory, plain("Category"), nil, sel),
		input(blockWaiverReason, "Reason", "", "Why may the launch go ahead without it?", "", true, false, 1000),
		input(blockWaiverDays, "Expires in (days)", "30", "30", "1 to 90 days; the item fails again when it ends", false, false, 3),
	)}, nil
}

// submitChecklistWaiver asks the waiver; a second person approves it.
func submitChecklistWaiver(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	id, key, _ := strings.Cut(s.PrivateMetadata, "|")
	errs := map[string]string{}
	category := s.Values[blockWaiverCategory][elemValue].SelectedOption.Value
	if category == "" {
		errs[blockWaiverCategory] = "Pick a category."
	}
	reason := value(s, blockWaiverReason)
	if reason == "" {
		errs[blockWaiverReason] = "A waiver needs a reason."
	}
	days, err := strconv.Atoi(value(s, blockWaiverDays))
	if err != nil || days < 1 || days > 90 {
		errs[blockWaiverDays] = "Type a number of days from 1 to 90 (e.g. 30): a waiver runs at most 90 days."
	}
	if len(errs) > 0 {
		return SubmitResult{Errors: errs}, nil
	}
	if _, _, err := c.checklistTarget(ctx, id+"|"+key); err != nil {
		return SubmitResult{}, err
	}
	expires := c.Now.Add(time.Duration(days) * 24 * time.Hour)
	cl, err := c.updateChecklist(ctx, id, func(cl *store.Checklist) error {
		return cl.AskWaiver(key, c.Principal, category, reason, expires, c.Now)
	})
	var ue *UserError
	if errors.As(err, &ue) {
		return SubmitResult{Errors: map[string]string{blockWaiverReason: ue.Msg}}, nil
	}
	if err != nil {
		return SubmitResult{}, err
	}
	it, _ := cl.Item(key)
	return notice(Reply{Text: fmt.Sprintf("⏳ Waiver of %s on %s asked until %s: an admin or security person other than you approves it on the checklist's message.",
		Escape(it.Title), cl.ID, expires.UTC().Format("2006-01-02"))}), nil
}
