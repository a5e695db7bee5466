package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Callback IDs and block IDs of the change request forms.
const (
	callbackChangeOpen    = "change_open"
	callbackChangePropose = "change_propose"
	callbackChangeApprove = "change_approve"
	callbackChangeReject  = "change_reject"
	callbackChangeSmoke   = "change_smoke"
	callbackChangeReason  = "change_reason" // cancel or waive, with a reason

	blockChangeClient   = "cr_client"
	blockChangeTitle    = "cr_title"
	blockChangeProblem  = "cr_problem"
	blockChangeIssue    = "cr_issue"
	blockChangePlan     = "cr_plan"
	blockChangeMagn     = "cr_magnitude"
	blockChangeCurrent  = "cr_current"
	blockChangeBasis    = "cr_basis" // why the stated current cost differs from the measured one
	blockChangeProposed = "cr_proposed"
	blockChangeRollback = "cr_rollback"
	blockChangeZone     = "cr_zone"
	blockChangeName     = "cr_name"
	blockChangeType     = "cr_type"
	blockChangeValues   = "cr_values"
	blockChangeStart    = "cr_start"
	blockChangeEnd      = "cr_end"
	blockChangeComment  = "cr_comment"
	blockChangeChecks   = "cr_checks"

	maxTitleLen    = 150
	maxProblemLen  = 3000
	maxPlaceholder = 150 // Slack: 1 to 150 characters
)

// input is a plain-text input block. Slack refuses an empty placeholder, so
// none is sent without one, and an initial value is cut to maxLen.
func input(block, label, initial, placeholder, hint string, multiline, optional bool, maxLen int) *slack.InputBlock {
	var ph *slack.TextBlockObject
	if placeholder != "" {
		ph = plain(truncate(placeholder, maxPlaceholder))
	}
	el := slack.NewPlainTextInputBlockElement(ph, elemValue)
	el.InitialValue, el.Multiline, el.MaxLength = truncate(initial, maxLen), multiline, maxLen
	var h *slack.TextBlockObject
	if hint != "" {
		h = plain(hint)
	}
	b := slack.NewInputBlock(block, plain(label), h, el)
	b.Optional = optional
	return b
}

func value(s Submission, block string) string {
	return strings.TrimSpace(s.Values[block][elemValue].Value)
}

func modal(callback, title, submit, metadata string, blocks ...slack.Block) *slack.ModalViewRequest {
	return &slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callback, Title: plain(truncate(title, 24)),
		Submit: plain(submit), Close: plain("Cancel"), PrivateMetadata: metadata,
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// changeOpenModal is the request form; metadata carries nothing trusted
// (the link is validated again at submission).
func changeOpenModal(c *Call, pre changePrefill) *slack.ModalViewRequest {
	sel := c.clientPicker("Type to find the client", pre.Client)
	var blocks []slack.Block
	if pre.Note != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(":warning: "+Escape(pre.Note))))
	}
	blocks = append(blocks,
		slack.NewInputBlock(blockChangeClient, plain("Client"), nil, sel),
		input(blockChangeTitle, "Title", pre.Title, "Checkout times out under load", "", false, false, maxTitleLen),
		input(blockChangeProblem, "What is wrong", pre.Problem, "The erroneous behaviour developers cannot replicate", "What happens, since when, how often.", true, false, maxProblemLen),
		input(blockChangeIssue, "GitHub issue", pre.Link.URL, "https://github.com/acme/web/issues/42", "", false, true, 300),
	)
	return modal(callbackChangeOpen, "Change request", "Open request", "", blocks...)
}

// submitChangeOpen creates the request and queues its message (and a
// comment on its GitHub issue) in the same transaction.
func submitChangeOpen(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	st, err := c.changes()
	if err != nil {
		return SubmitResult{}, err
	}
	errs := map[string]string{}
	client := s.Values[blockChangeClient][elemValue].SelectedOption.Value
	if _, ok := c.r.deps.Clients[client]; !ok {
		errs[blockChangeClient] = "Pick one of the listed clients."
	}
	issue := ""
	if raw := value(s, blockChangeIssue); raw != "" {
		if c.r.deps.Issues == nil {
			errs[blockChangeIssue] = "GitHub is not set up here: leave this empty."
		} else if link, err := c.r.deps.Issues.ParseIssueLink(raw); err != nil {
			errs[blockChangeIssue] = "Not a GitHub issue link I can use (" + err.Error() + "). Example: https://github.com/acme/web/issues/42"
		} else if err := c.linkAllowed(link, client); err != nil && errs[blockChangeClient] == "" {
			errs[blockChangeIssue] = upperFirst(err.Error()) + ". Link an issue of the client's own repositories, or leave this empty."
		} else {
			issue = link.URL
		}
	}
	title, problem := value(s, blockChangeTitle), value(s, blockChangeProblem)
	if title == "" {
		errs[blockChangeTitle] = "Give the request a short title."
	} else if strings.ContainsAny(title, "\n\r") {
		errs[blockChangeTitle] = "Keep the title on one line."
	}
	if problem == "" {
		errs[blockChangeProblem] = "Describe what is wrong."
	}
	if len(errs) > 0 {
		return SubmitResult{Errors: errs}, nil
	}
	id, err := st.NextChangeID(ctx)
	if err != nil {
		return SubmitResult{}, err
	}
	now := c.r.deps.Now()
	cr, err := store.NewChangeRequest(id, client, title, problem, issue, c.User.ID, now)
	if err != nil {
		return SubmitResult{Errors: map[string]string{blockChangeProblem: upperFirst(err.Error()) + "."}}, nil
	}
	cr.Channel = c.r.deps.ChangeSettings.Channel
	items, err := c.announce(*cr, cr.History, now)
	if err != nil {
		return SubmitResult{}, err
	}
	if err := st.CreateChange(ctx, cr, items...); err != nil {
		if errors.Is(err, store.ErrNotReplicated) {
			c.r.nudge() // saved on the primary: its message goes out
		}
		return SubmitResult{}, err
	}
	c.r.nudge()
	c.r.log.Info("change request opened", "change_id", cr.ID, "client", client, "user_id", c.User.ID)
	return notice(Reply{Text: fmt.Sprintf("📝 *%s* is open: its message in %s shows where it stands and what comes next; the thread keeps the history.", cr.ID, chat.ChannelLink(cr.Channel))}), nil
}

// proposalModal is support's plan, pre-filled from the current proposal
// (an edit); the current cost is opsbot's measured figure, with its age.
func proposalModal(ctx context.Context, c *Call, cr store.ChangeRequest) *slack.ModalViewRequest {
	p := store.Proposal{Magnitude: store.MagnitudeMinor}
	current := ""
	if cr.Proposal != nil {
		p = *cr.Proposal
		current = MoneyInput(p.StatedMonthly)
	}
	measured, _ := c.measuredCost(ctx, cr.Client)
	currentHint := "No figure measured by opsbot for this client: the figure you give needs finance's approval."
	if measured != nil {
		current = MoneyInput(measured.Monthly)
		currentHint = fmt.Sprintf("Measured by opsbot (Cost Explorer forecast) %s ago: %s. Another figure needs a reason below and finance's approval.",
			formatDuration(max(c.Now.Sub(measured.At), time.Minute)), measured.Monthly)
	}
	proposed := ""
	if cr.Proposal != nil {
		proposed = MoneyInput(p.ProposedMonthly)
	}
	loc := c.loc()
	start, end := "", ""
	if !p.WindowStart.IsZero() {
		start, end = p.WindowStart.In(loc).Format(windowLayout), p.WindowEnd.In(loc).Format(windowLayout)
	}
	zone, name, typ, vals := "", "", "A", ""
	if d := p.DNS; d != nil {
		zone, name, typ, vals = d.ZoneID, d.Name, d.Type, strings.Join(d.NewValues, "\n")
	}
	magn := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Minor or major"), elemValue,
		slack.NewOptionBlockObject("minor", plain("Minor"), nil), slack.NewOptionBlockObject("major", plain("Major (freezes deploys in its window)"), nil))
	magn.InitialOption = magn.Options[0]
	if p.Magnitude == store.MagnitudeMajor {
		magn.InitialOption = magn.Options[1]
	}
	tz := loc.String()
	title := "Propose " + cr.ID
	if cr.Proposal != nil {
		title = "Edit proposal " + cr.ID
	}
	blocks := []slack.Block{
		slack.NewContextBlock("", mrkdwn("*"+Escape(cr.ID)+"* · "+c.r.clientName(cr.Client)+" · "+Escape(truncate(cr.Title, 150)))),
		input(blockChangePlan, "Plan", p.Plan, "Move the database to db.r6g.large in parallel, then switch DNS", "", true, false, 3000),
		slack.NewInputBlock(blockChangeMagn, plain("Magnitude"), nil, magn),
		input(blockChangeCurrent, "Current monthly cost (USD)", current, "600.00", currentHint, false, false, 20),
		input(blockChangeBasis, "Why another current cost", p.BasisReason, "The forecast includes a one-off migration", "Only if you change the measured figure above.", true, true, 1000),
		input(blockChangeProposed, "Proposed monthly cost (USD)", proposed, "720.00", "If it goes up, a stakeholder and finance must approve.", false, false, 20),
		input(blockChangeRollback, "Rollback plan", p.RollbackPlan, "Point DNS back at the old servers (kept running until retired)", "", true, true, 3000),
		input(blockChangeStart, "Window start ("+tz+")", start, "2026-11-28 22:00", "YYYY-MM-DD HH:MM. Required for a major change.", false, true, 16),
		input(blockChangeEnd, "Window end ("+tz+")", end, "2026-11-29 02:00", "", false, true, 16),
		input(blockChangeZone, "DNS: Route 53 hosted zone ID", zone, "Z0123456789ABC", "Leave the DNS fields empty if DNS does not change.", false, true, 40),
		input(blockChangeName, "DNS: record name", name, "www.acme.example", "", false, true, 253),
		input(blockChangeType, "DNS: record type", typ, "A", "A, AAAA, CNAME or TXT", false, true, 5),
		input(blockChangeValues, "DNS: new value(s)", vals, "203.0.113.10", "One a line.", true, true, 2000),
	}
	return modal(callbackChangePropose, title, "Propose", cr.ID+"|"+strconv.FormatInt(cr.Version, 10), blocks...)
}

func (c *Call) loc() *time.Location {
	if l := c.r.deps.ChangeSettings.Location; l != nil {
		return l
	}
	return time.UTC
}

// measuredCost is opsbot's own figure of the client's monthly cost (nil:
// none, or the cache could not be read, which the proposal treats the
// same way: finance must approve).
func (c *Call) measuredCost(ctx context.Context, client string) (*store.CostMeasure, error) {
	ce := c.r.deps.CostEstimates
	if ce == nil {
		return nil, nil
	}
	m, ok, err := ce.CurrentMonthly(ctx, client)
	if err != nil {
		c.r.log.Warn("measured cost not read", "client", client, "err", err)
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return &m, nil
}

// submitChangePropose validates every field (errors under each), then
// records the proposal: approvals given so far are voided, and finance and
// the client's stakeholders are told. The cost basis is opsbot's measured
// figure, read now whatever the form says; a different stated figure needs
// a reason. The DNS plan must name one of the client's hosted zones and a
// record inside it.
func submitChangePropose(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	id, _, _ := strings.Cut(s.PrivateMetadata, "|")
	cur, err := c.loadChange(ctx, id)
	if err != nil {
		return SubmitResult{}, err
	}
	errs := map[string]string{}
	var p store.Proposal
	p.Plan, p.RollbackPlan = value(s, blockChangePlan), value(s, blockChangeRollback)
	p.Magnitude = store.Magnitude(s.Values[blockChangeMagn][elemValue].SelectedOption.Value)
	p.BasisReason = value(s, blockChangeBasis)
	if p.Plan == "" {
		errs[blockChangePlan] = "Describe the plan."
	}
	if p.Magnitude != store.MagnitudeMinor && p.Magnitude != store.MagnitudeMajor {
		errs[blockChangeMagn] = "Pick minor or major."
	}
	if p.CurrentMonthly, err = ParseMoney(value(s, blockChangeCurrent)); err != nil {
		errs[blockChangeCurrent] = upperFirst(err.Error()) + "."
	}
	if p.Measured, err = c.measuredCost(ctx, cur.Client); err != nil {
		p.Measured = nil // unreadable counts as unmeasured: finance approves
	}
	if m := p.Measured; m != nil && errs[blockChangeCurrent] == "" && p.CurrentMonthly != m.Monthly && p.BasisReason == "" {
		errs[blockChangeBasis] = fmt.Sprintf("opsbot measured %s a month (%s ago). Keep that figure above, or say here why it is %s; finance must then approve.",
			m.Monthly, formatDuration(max(c.Now.Sub(m.At), time.Minute)), p.CurrentMonthly)
	}
	if p.ProposedMonthly, err = ParseMoney(value(s, blockChangeProposed)); err != nil {
		errs[blockChangeProposed] = upperFirst(err.Error()) + "."
	}
	if p.WindowStart, p.WindowEnd, err = ParseWindow(value(s, blockChangeStart), value(s, blockChangeEnd), c.loc(), c.Now); err != nil {
		errs[blockChangeStart] = upperFirst(err.Error()) + "."
	} else if p.Magnitude == store.MagnitudeMajor && p.WindowStart.IsZero() {
		errs[blockChangeStart] = "A major change needs a window: it freezes deploys while it lasts. Example: 2026-11-28 22:00."
	}
	if p.DNS, err = ParseDNSPlan(value(s, blockChangeZone), value(s, blockChangeName), value(s, blockChangeType), value(s, blockChangeValues)); err != nil {
		errs[blockChangeZone] = upperFirst(err.Error()) + "."
	} else if p.DNS != nil {
		if err := c.checkDNSPlan(ctx, cur.Client, *p.DNS); err != nil {
			errs[blockChangeZone] = upperFirst(err.Error()) + "."
		}
	}
	if len(errs) > 0 {
		return SubmitResult{Errors: errs}, nil
	}
	holders, err := c.holdersOf(ctx, cur.Client)
	if err != nil {
		return SubmitResult{}, err
	}
	cr, err := c.transition(ctx, id, func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		if err := cr.Propose(p, c.r.approvers(), c.User.ID, c.Now); err != nil {
			return nil, err
		}
		return c.proposalNotices(*cr, holders)
	})
	if err != nil {
		var ue *UserError
		if errors.As(err, &ue) {
			return SubmitResult{Errors: map[string]string{blockChangePlan: ue.Msg}}, nil
		}
		return SubmitResult{}, err
	}
	np := cr.Proposal
	text := fmt.Sprintf("📝 Proposal v%d for *%s* recorded: %s → %s, %s.", np.Version, cr.ID, np.CurrentMonthly, np.ProposedMonthly, store.FormatDelta(np.CurrentMonthly, np.ProposedMonthly))
	if req := cr.RequiredApprovers(); len(req) > 0 {
		text += fmt.Sprintf(" %s: approval is asked of %s.", upperFirst(approvalWhy(*np)), joinRoles(req))
	} else {
		text += " No cost increase on the measured figure, so finance and the client's stakeholders are only notified."
	}
	return notice(Reply{Text: text}), nil
}
