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

// runChangeStep advances a request one plain step (investigate, schedule,
// provision, verify, retire, close). The button names the state it was
// drawn for; a click on an out-of-date message is refused.
func runChangeStep(ctx context.Context, c *Call, a Action) (Reply, error) {
	parts := strings.Split(a.Value, "|")
	if len(parts) != 3 {
		return Reply{}, &UserError{Msg: "That button is malformed. Use the buttons of the request's latest message."}
	}
	id, drawn, name := parts[0], store.ChangeState(parts[1]), parts[2]
	cur, err := c.loadChange(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	if cur.State != drawn {
		return staleClick(cur), nil
	}
	var extra func(cr store.ChangeRequest) ([]store.OutboxItem, error)
	if name == "schedule" {
		if extra, err = c.openFreeze(ctx, cur); err != nil {
			return Reply{}, err
		}
	}
	cr, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if cr.State != drawn {
			return nil, &store.StateError{Action: name, State: cr.State}
		}
		var err error
		switch name {
		case "investigate":
			err = cr.Investigate(c.User.ID, c.Now)
		case "schedule":
			err = cr.Schedule(c.User.ID, c.Now)
		case "provision":
			err = cr.Provision(c.User.ID, c.Now)
		case "verify":
			err = cr.Verify(c.User.ID, c.Now)
		case "retire":
			err = cr.Retire(c.User.ID, c.Now)
		case "close":
			err = cr.Close(c.User.ID, c.Now)
		default:
			return nil, &UserError{Msg: "That button is no longer supported. Use the request's latest message."}
		}
		if err != nil || extra == nil {
			return nil, err
		}
		return extra(*cr)
	})
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("%s *%s* is now *%s*.", stateEmoji(cr.State), cr.ID, stateLabel(cr.State))}, nil
}

func staleClick(cr store.ChangeRequest) Reply {
	return Reply{Text: fmt.Sprintf(":warning: *%s* has moved on: it is now *%s*. Nothing was changed; use the buttons of its current message.", cr.ID, stateLabel(cr.State))}
}

// openFreeze opens the deploy freeze of a major change for its window
// before it is scheduled (a freeze without a schedule ends by itself at the
// window's end) and returns the announcement for the client's channel.
func (c *Call) openFreeze(ctx context.Context, cr store.ChangeRequest) (func(store.ChangeRequest) ([]store.OutboxItem, error), error) {
	p := cr.Proposal
	if p == nil || p.Magnitude != store.MagnitudeMajor || p.WindowStart.IsZero() {
		return nil, nil
	}
	repos := c.r.deps.ChangeSettings.ClientRepos[cr.Client]
	f := store.Freeze{ChangeID: cr.ID, Client: cr.Client, Repos: repos, Start: p.WindowStart, End: p.WindowEnd, Reason: cr.Title,
		OpenedBy: c.User.ID, OpenedAt: c.Now}
	if err := c.r.deps.Changes.AddFreeze(ctx, f); err != nil {
		return nil, fmt.Errorf("open freeze for %s: %w", cr.ID, err)
	}
	return func(cr store.ChangeRequest) ([]store.OutboxItem, error) {
		what := "no repositories are listed for this client, so CI is not blocked"
		if len(repos) > 0 {
			what = "deploys of " + strings.Join(repos, ", ") + " are blocked (CI asks `GET /v1/freeze?repo=owner/name`)"
		}
		text := fmt.Sprintf("🧊 *Deploy freeze* for %s from %s to %s: %s (%s: %s). `/ops freeze` lists freezes.",
			c.r.clientName(cr.Client), slackDate(f.Start), slackDate(f.End), what, Escape(cr.ID), Escape(truncate(cr.Title, 120)))
		var items []store.OutboxItem
		for _, ch := range []string{c.r.deps.ChangeSettings.ClientChannels[cr.Client], c.r.deps.ChangeSettings.Channel} {
			if ch == "" {
				continue
			}
			it, err := store.NewOutboxItem(store.KindSlackPost, "freeze/"+cr.ID+"/"+ch, store.PostPayload{Channel: ch, Text: text}, c.Now)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
		}
		return items, nil
	}, nil
}

// runChangePropose opens the proposal form (a new proposal or an edit).
func runChangePropose(ctx context.Context, c *Call, a Action) (Reply, error) {
	cr, err := c.loadChange(ctx, a.Value)
	if err != nil {
		return Reply{}, err
	}
	switch cr.State {
	case store.ChangeInvestigating, store.ChangeProposed, store.ChangeAwaitingApproval, store.ChangeApproved:
	default:
		return staleClick(cr), nil
	}
	return Reply{Modal: proposalModal(ctx, c, cr)}, nil
}

// approverRole is the role c would approve in: the first role the
// proposal requires, not yet given, that c holds for the request's client.
// Admin alone is not an approver: approvals stand for finance and the
// client.
func (c *Call) approverRole(cr store.ChangeRequest) (string, error) {
	held := c.heldApproverRoles(cr)
	if len(held) == 0 {
		required := cr.RequiredApprovers()
		who := strings.Join(required, " or ") + " role"
		if slices.Contains(required, store.ApproverStakeholder) {
			who += " (a stakeholder for " + c.r.clientName(cr.Client) + ")"
		}
		return "", &UserError{Msg: fmt.Sprintf("Approving %s takes the %s. You hold none of them, so nothing was changed.", cr.ID, who), Example: "/ops whoami"}
	}
	for _, role := range held {
		if !slices.ContainsFunc(cr.Approvals, func(x store.Approval) bool { return x.Role == role }) {
			return role, nil
		}
	}
	return held[0], nil
}

// runChangeApprove and runChangeReject open the decision form bound to the
// proposal version on the clicked message; the form is checked again at
// submission (roles, four eyes, version, expiry).
func runChangeApprove(ctx context.Context, c *Call, a Action) (Reply, error) {
	return c.decisionModal(ctx, a, true)
}

func runChangeReject(ctx context.Context, c *Call, a Action) (Reply, error) {
	return c.decisionModal(ctx, a, false)
}

func (c *Call) decisionModal(ctx context.Context, a Action, approve bool) (Reply, error) {
	id, ver, ok := strings.Cut(a.Value, "|")
	version, err := strconv.Atoi(ver)
	if !ok || err != nil {
		return Reply{}, &UserError{Msg: "That button is malformed. Use the buttons of the request's latest message."}
	}
	cr, err := c.loadChange(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	if cr.State != store.ChangeAwaitingApproval || cr.Proposal == nil {
		return staleClick(cr), nil
	}
	if cr.Proposal.Version != version {
		return Reply{Text: fmt.Sprintf(":warning: The proposal of *%s* changed since that message was drawn (now v%d). Nothing was changed; review the current version.", cr.ID, cr.Proposal.Version)}, nil
	}
	role, err := c.approverRole(cr)
	if err != nil {
		return Reply{}, err
	}
	if cr.RequestedBy == c.User.ID || cr.Proposal.By == c.User.ID {
		return Reply{}, &UserError{Msg: "Four eyes: you requested or proposed " + cr.ID + ", so someone else must approve or reject it. Nothing was changed."}
	}
	p := cr.Proposal
	summary := fmt.Sprintf("*%s* · %s · %s\n*Proposal v%d* (%s) by %s\n%s\n*Monthly cost:* %s → %s, *%s*\n%s",
		Escape(cr.ID), c.r.clientName(cr.Client), Escape(truncate(cr.Title, 150)), p.Version, p.Magnitude, mention(p.By),
		Escape(truncate(p.Plan, 1500)), p.CurrentMonthly, p.ProposedMonthly, store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly), basisText(*p))
	meta := strings.Join([]string{cr.ID, strconv.Itoa(p.Version), role, strconv.FormatInt(c.Now.Unix(), 10)}, "|")
	if approve {
		return Reply{Modal: modal(callbackChangeApprove, "Approve "+cr.ID, "Approve", meta,
			slack.NewSectionBlock(mrkdwn(summary), nil, nil),
			slack.NewContextBlock("", mrkdwn("You approve as *"+role+"*. Your approval is bound to v"+strconv.Itoa(p.Version)+": an edit voids it.")),
			input(blockChangeComment, "Comment", "", "Within budget for Q4", "", true, true, 1000))}, nil
	}
	return Reply{Modal: modal(callbackChangeReject, "Reject "+cr.ID, "Reject", meta,
		slack.NewSectionBlock(mrkdwn(summary), nil, nil),
		input(blockChangeComment, "Reason", "", "Over the agreed budget: propose a smaller instance", "Required: the requester and support see it.", true, false, 1000))}, nil
}

// decision is what the approval form's sealed metadata carries.
type decision struct {
	id      string
	version int
	role    string
	seen    time.Time
}

func parseDecision(meta string) (decision, bool) {
	parts := strings.Split(meta, "|")
	if len(parts) != 4 {
		return decision{}, false
	}
	v, err1 := strconv.Atoi(parts[1])
	unix, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return decision{}, false
	}
	return decision{id: parts[0], version: v, role: parts[2], seen: time.Unix(unix, 0)}, true
}

// submitChangeApprove records an approval: the role is checked again now
// (a role revoked since the form opened no longer counts), and the store
// checks four eyes, the version and the expiry in one transaction.
func submitChangeApprove(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	return c.decide(ctx, s, true)
}

func submitChangeReject(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	return c.decide(ctx, s, false)
}

func (c *Call) decide(ctx context.Context, s Submission, approve bool) (SubmitResult, error) {
	d, ok := parseDecision(s.PrivateMetadata)
	if !ok {
		return notice(Reply{Text: ":no_entry: That form is malformed. Nothing was changed."}), nil
	}
	cur, err := c.loadChange(ctx, d.id)
	if err != nil {
		return SubmitResult{}, err
	}
	if !slices.Contains(c.heldApproverRoles(cur), d.role) {
		return notice(Reply{Text: ":no_entry: You no longer hold the " + d.role + " role for this client. Nothing was changed."}), nil
	}
	comment := value(s, blockChangeComment)
	if !approve && comment == "" {
		return SubmitResult{Errors: map[string]string{blockChangeComment: "Give a reason for the rejection."}}, nil
	}
	a := store.Approval{By: c.User.ID, Role: d.role, At: d.seen, ProposalVersion: d.version, Comment: comment}
	var outcome store.ApprovalOutcome
	var unchanged store.ChangeRequest
	cr, err := c.transition(ctx, d.id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if !approve {
			return nil, cr.Reject(a, c.Now)
		}
		var err error
		outcome, err = cr.Approve(a, c.r.deps.ChangeSettings.ApprovalTTL, c.Now)
		if err == nil && !outcome.Changed() {
			unchanged = *cr
			return nil, errUnchanged // nothing to save or announce
		}
		return nil, err
	})
	if errors.Is(err, errUnchanged) {
		return notice(Reply{Text: unchangedApprovalText(unchanged, a, outcome)}), nil
	}
	if err != nil {
		return SubmitResult{}, err
	}
	switch {
	case !approve:
		return notice(Reply{Text: fmt.Sprintf("⛔ You rejected *%s*. The requester and support see your reason in its thread.", cr.ID)}), nil
	case outcome == store.ApprovalCompleted:
		return notice(Reply{Text: fmt.Sprintf("✅ You approved *%s* as %s. Every required approval is in: it can be scheduled.", cr.ID, d.role)}), nil
	}
	var waiting []string
	for _, r := range cr.RequiredApprovers() {
		if !slices.ContainsFunc(cr.Approvals, func(x store.Approval) bool { return x.Role == r }) {
			waiting = append(waiting, r)
		}
	}
	return notice(Reply{Text: fmt.Sprintf("✅ Your approval of *%s* as %s is recorded; it still waits for %s.", cr.ID, d.role, joinRoles(waiting))}), nil
}

// errUnchanged aborts a transition that would change nothing.
var errUnchanged = errors.New("nothing to change")

// unchangedApprovalText says why an approval was not recorded, never
// claiming it was.
func unchangedApprovalText(cr store.ChangeRequest, a store.Approval, o store.ApprovalOutcome) string {
	if o == store.ApprovalRoleTaken {
		for _, x := range cr.Approvals {
			if x.Role == a.Role {
				return fmt.Sprintf("ℹ️ %s already approved *%s* as %s, so your approval was not needed and is not recorded. Nothing was changed.", mention(x.By), cr.ID, a.Role)
			}
		}
	}
	return fmt.Sprintf("ℹ️ You had already approved *%s* (proposal v%d); your approval counts once. Nothing was changed.", cr.ID, a.ProposalVersion)
}

// heldApproverRoles are the roles the proposal requires that c holds for
// the request's client, as loaded at this moment.
func (c *Call) heldApproverRoles(cr store.ChangeRequest) []string {
	var held []string
	for _, role := range cr.RequiredApprovers() {
		g := store.Grant{Role: store.Role(role)}
		if g.Role == store.Stakeholder {
			g.Client = cr.Client
		}
		if slices.Contains(c.Principal.Grants, g) {
			held = append(held, role)
		}
	}
	return held
}
