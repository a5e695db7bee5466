package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// approvalHolders are the people who may be asked to approve a client's
// change: its stakeholders and the finance team.
type approvalHolders struct {
	stakeholders, finance []string
}

// holdersOf lists them from the role grants (read before the transaction,
// whose function must not do I/O).
func (c *Call) holdersOf(ctx context.Context, client string) (approvalHolders, error) {
	all, err := c.r.deps.Roles.AllGrants(ctx)
	if err != nil {
		return approvalHolders{}, err
	}
	return holdersIn(all, client), nil
}

// approvalWhy says why a proposal needs approval.
func approvalWhy(p store.Proposal) string {
	switch {
	case p.ProposedMonthly > p.CurrentMonthly:
		return "the monthly cost goes up"
	case p.Overridden():
		return "the current cost stated differs from opsbot's measured figure"
	case p.Unmeasured():
		return "the current cost is not measured by opsbot"
	}
	return "no approval needed"
}

// proposalNotices tell finance (its channel) and the client's stakeholders
// (a direct message each) about a proposal. Whoever must approve gets the
// request in their DM with Approve and Reject buttons, so stakeholders act
// where they are, not in the internal channels: a stakeholder of the client
// when that role must approve, each finance person when finance must. The
// requester and the proposer are told, never asked (four eyes).
func (c *Call) proposalNotices(cr store.ChangeRequest, h approvalHolders) ([]store.OutboxItem, error) {
	p := cr.Proposal
	required := cr.RequiredApprovers()
	where := ""
	if link := chat.MessageURL(cr.Channel, cr.MessageTS); link != "" {
		where = " <" + link + "|Open the request>."
	}
	head := fmt.Sprintf("📝 *%s* · %s · %s\nProposal v%d (%s): %s → %s, *%s*", Escape(cr.ID), c.r.clientName(cr.Client),
		Escape(truncate(cr.Title, 120)), p.Version, p.Magnitude, p.CurrentMonthly, p.ProposedMonthly,
		store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly))
	fyi := head + "\nFYI, no approval needed (no cost increase on opsbot's measured figure)." + where
	if len(required) > 0 {
		fyi = head + "\n⏳ Approval is asked of " + joinRoles(required) + " (" + approvalWhy(*p) + ")." + where
	}
	var items []store.OutboxItem
	post := func(to, text string) error {
		it, err := store.NewOutboxItem(store.KindSlackPost, "notify/"+cr.ID+"/"+to, store.PostPayload{Channel: to, Text: text}, c.Now)
		items = append(items, it)
		return err
	}
	ask := func(to, role string) error {
		it, err := c.approvalRequest(cr, to, role, head)
		items = append(items, it)
		return err
	}
	if fin := c.r.deps.ChangeSettings.FinanceChannel; fin != "" {
		if err := post(fin, fyi); err != nil {
			return nil, err
		}
	}
	asked := map[string]bool{}
	for _, role := range required {
		holders := h.stakeholders
		if role == store.ApproverFinance {
			holders = h.finance
		}
		for _, u := range holders {
			if asked[u] || u == cr.RequestedBy || u == p.By {
				continue
			}
			asked[u] = true
			if err := ask(u, role); err != nil {
				return nil, err
			}
		}
	}
	for _, u := range h.stakeholders {
		if !asked[u] {
			if err := post(u, fyi); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// approvalRequest is the DM asking user to approve in role, with the
// buttons of the request's message (same action IDs and values, so the
// same guards apply: role, four eyes, proposal version, sealed form).
func (c *Call) approvalRequest(cr store.ChangeRequest, user, role, head string) (store.OutboxItem, error) {
	p := cr.Proposal
	value := cr.ID + "|" + strconv.Itoa(p.Version)
	approve := slack.NewButtonBlockElement(actionChangeApprove, value, plain("Approve"))
	approve.Style = slack.StylePrimary
	reject := slack.NewButtonBlockElement(actionChangeReject, value, plain("Reject"))
	text := head + "\n⏳ *Your approval is needed* as " + role + " (" + approvalWhy(*p) + "). Press *Approve* or *Reject* below; the request's message is updated for everyone."
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(clip(text, 2900)), nil, nil),
		slack.NewSectionBlock(mrkdwn("*Plan*\n"+clip(Escape(p.Plan), 2800)), nil, nil),
		slack.NewActionBlock("change_dm", approve, reject),
	}
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("render approval request %s: %w", cr.ID, err)
	}
	return store.NewOutboxItem(store.KindChangeNotice, "notify/"+cr.ID+"/"+user,
		store.ChangeNotice{Channel: user, Text: head + "\n⏳ Your approval is needed as " + role + ".", Blocks: raw}, c.Now)
}

func joinRoles(roles []string) string {
	switch len(roles) {
	case 0:
		return "nobody"
	case 1:
		return roles[0]
	}
	out := ""
	for i, r := range roles {
		switch {
		case i == 0:
		case i == len(roles)-1:
			out += " and "
		default:
			out += ", "
		}
		out += r
	}
	return out
}
