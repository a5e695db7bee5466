package commands

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Action IDs of a change request's buttons. Values are "CR-7|<state the
// button was drawn for>|<step>" for steps and "CR-7|<proposal version>" for
// approvals, so a click on an out-of-date message is refused, not applied
// to whatever the request has become.
const (
	actionChangeStep     = "change_step"
	actionChangePropose  = "change_propose"
	actionChangeApprove  = "change_approve"
	actionChangeReject   = "change_reject"
	actionChangeSmoke    = "change_smoke"     // list smoke checks (form)
	actionChangeSmokeRun = "change_smoke_run" // run them
	actionChangeWaive    = "change_waive"
	actionChangeCutOver  = "change_cutover"
	actionChangeRollback = "change_rollback"
	actionChangeRestore  = "change_restore"
	actionChangeCancel   = "change_cancel"
	actionChangeFromLink = "change_from_link"
)

var stateEmojis = map[store.ChangeState]string{
	store.ChangeRequested: "🆕", store.ChangeInvestigating: "🔍", store.ChangeProposed: "📝",
	store.ChangeAwaitingApproval: "⏳", store.ChangeApproved: "✅", store.ChangeRejected: "⛔",
	store.ChangeScheduled: "📅", store.ChangeProvisioning: "🏗️", store.ChangeSmokeTesting: "🧪",
	store.ChangeCutOver: "🔀", store.ChangeVerified: "🟢", store.ChangeRetired: "🧹",
	store.ChangeClosed: "🏁", store.ChangeRolledBack: "↩️", store.ChangeCancelled: "🚫",
}

func stateEmoji(s store.ChangeState) string { return stateEmojis[s] }
func stateLabel(s store.ChangeState) string { return s.Label() }

// changeMessage renders a request's one message: what it is, where it
// stands, the proposal with its cost difference, approvals, smoke checks,
// DNS, and the buttons for what can be done next.
func (r *Router) changeMessage(cr store.ChangeRequest, now time.Time) (string, []slack.Block) {
	name := r.clientName(cr.Client)
	title := cr.ID + " · " + truncate(cr.Title, 120)
	summary := fmt.Sprintf("%s %s %s (%s): %s", stateEmoji(cr.State), Escape(cr.ID), stateLabel(cr.State), Escape(cr.Client), clip(Escape(cr.Title), 120))
	blocks := []slack.Block{header(title)}
	facts := fmt.Sprintf("%s *%s* · %s · requested by %s", stateEmoji(cr.State), stateLabel(cr.State), name, mention(cr.RequestedBy))
	if cr.Issue != "" {
		if u := chat.SafeURL(cr.Issue); u != "" {
			facts += " · <" + u + "|GitHub issue>"
		}
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(facts), nil, nil),
		slack.NewSectionBlock(mrkdwn("*What is wrong*\n"+clip(Escape(cr.Problem), 2900)), nil, nil))
	if p := cr.Proposal; p != nil {
		blocks = append(blocks, r.proposalBlocks(cr, *p)...)
	}
	if len(cr.SmokeChecks) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(smokeText(cr)), nil, nil))
	}
	if d := dnsText(cr); d != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(d), nil, nil))
	}
	if st := stepText(cr); st != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(st), nil, nil))
	}
	if cr.State.Terminal() {
		end := "Ended: *" + cr.Outcome() + "*"
		if why := cr.Reason(); why != "" {
			end += " — " + clip(Escape(why), 500)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(end), nil, nil))
	}
	if btns := r.changeButtons(cr); len(btns) > 0 {
		blocks = append(blocks, slack.NewActionBlock("change_actions", btns...))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Updated "+slackDate(now)+" · history in the thread")))
	return summary, blocks
}

func (r *Router) clientName(key string) string {
	if n := r.deps.Clients[key]; n != "" {
		return Escape(n)
	}
	return Escape(key)
}

func (r *Router) proposalBlocks(cr store.ChangeRequest, p store.Proposal) []slack.Block {
	head := fmt.Sprintf("*Proposal v%d* (%s) by %s\n%s", p.Version, p.Magnitude, mention(p.By), clip(Escape(p.Plan), 2800))
	cost := "*Monthly cost*\n" + p.CurrentMonthly.String() + " → " + p.ProposedMonthly.String() + "\n*" + store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly) + "*"
	if b := basisText(p); b != "" {
		cost += "\n" + b
	}
	fields := []*slack.TextBlockObject{mrkdwn(cost)}
	if !p.WindowStart.IsZero() {
		fields = append(fields, mrkdwn("*Window*\n"+slackDate(p.WindowStart)+" → "+slackDate(p.WindowEnd)))
	}
	if d := p.DNS; d != nil {
		fields = append(fields, mrkdwn("*DNS*\n`"+clip(Escape(d.Name), 260)+"` "+Escape(d.Type)+" → `"+clip(Escape(strings.Join(d.NewValues, ", ")), 1000)+"`\nzone "+clip(Escape(d.ZoneID), 40)))
	}
	if p.RollbackPlan != "" {
		fields = append(fields, mrkdwn("*Rollback plan*\n"+clip(Escape(p.RollbackPlan), 1900)))
	}
	out := []slack.Block{slack.NewDividerBlock(), slack.NewSectionBlock(mrkdwn(head), fields, nil)}
	if cr.NeedsApproval() || len(cr.Approvals) > 0 {
		out = append(out, slack.NewSectionBlock(mrkdwn(r.approvalText(cr)), nil, nil))
	} else {
		out = append(out, slack.NewSectionBlock(mrkdwn("No cost increase on opsbot's measured figure: finance and the client's stakeholders are notified, no approval needed."), nil, nil))
	}
	return out
}

// basisText says where the current monthly cost comes from: opsbot's
// measurement, or the proposer's word (and then finance approves).
func basisText(p store.Proposal) string {
	switch {
	case p.Overridden():
		return fmt.Sprintf("⚠️ opsbot measured %s (%s); the proposer states %s: %s. Finance approves.",
			p.Measured.Monthly, slackDate(p.Measured.At), p.StatedMonthly, clip(Escape(p.BasisReason), 300))
	case p.Measured != nil:
		return "_Current cost measured by opsbot (Cost Explorer) " + slackDate(p.Measured.At) + "._"
	case p.Required != nil:
		return "⚠️ Current cost stated by the proposer, not measured by opsbot: finance approves."
	}
	return "" // a proposal from before costs were measured
}

// approvalText shows each required role as given (who, when) or pending.
func (r *Router) approvalText(cr store.ChangeRequest) string {
	parts := make([]string, 0, 2)
	for _, role := range cr.RequiredApprovers() {
		i := slices.IndexFunc(cr.Approvals, func(a store.Approval) bool { return a.Role == role })
		if i >= 0 {
			a := cr.Approvals[i]
			s := "✅ " + role + ": " + mention(a.By) + " " + slackDate(a.At)
			if a.Comment != "" {
				s += " — " + clip(Escape(a.Comment), 300)
			}
			parts = append(parts, s)
		} else if cr.State == store.ChangeAwaitingApproval {
			parts = append(parts, "⏳ "+role+": pending")
		}
	}
	if rj := cr.Rejection; rj != nil {
		parts = append(parts, "⛔ rejected by "+mention(rj.By)+" ("+rj.Role+"): "+clip(Escape(rj.Comment), 500))
	}
	if ttl := r.deps.ChangeSettings.ApprovalTTL; ttl > 0 && cr.State == store.ChangeAwaitingApproval {
		parts = append(parts, fmt.Sprintf("_Approvals are valid for %s._", formatDuration(ttl)))
	}
	why := "the monthly cost goes up"
	if cr.Proposal != nil {
		why = approvalWhy(*cr.Proposal)
	}
	return "*Approvals* (" + why + ")\n" + strings.Join(parts, "\n")
}

func (r *Router) approvers() []string {
	if a := r.deps.ChangeSettings.Approvers; len(a) > 0 {
		return a
	}
	return store.DefaultApprovers()
}

func smokeText(cr store.ChangeRequest) string {
	lines := []string{fmt.Sprintf("*Smoke checks* (%d)", len(cr.SmokeChecks))}
	size := len(lines[0])
	for i, ch := range cr.SmokeChecks {
		mark := "▫️"
		detail := ""
		if i < len(cr.SmokeResults) && cr.SmokeResults[i].URL == ch.URL {
			res := cr.SmokeResults[i]
			mark = "❌"
			if res.OK {
				mark = "✅"
			}
			if res.Detail != "" {
				detail = " — " + clip(Escape(res.Detail), 120)
			}
		}
		target := "`" + clip(Escape(ch.URL), 120) + "`"
		if ch.Host != "" {
			target += " as `" + clip(Escape(ch.Host), 60) + "`"
		}
		line := fmt.Sprintf("%s %s expects %d%s%s", mark, target, ch.ExpectStatus, keywordText(ch.Keyword), detail)
		// One section holds at most 3,000 characters: the rest is counted.
		if size+len(line) > 2500 {
			lines = append(lines, fmt.Sprintf("…and %d more", len(cr.SmokeChecks)-i))
			break
		}
		size += len(line) + 1
		lines = append(lines, line)
	}
	if w := cr.SmokeWaiver; w != nil {
		lines = append(lines, "⚠️ Waived by "+mention(w.By)+": "+clip(Escape(w.Reason), 300))
	}
	return strings.Join(lines, "\n")
}

func keywordText(k string) string {
	if k == "" {
		return ""
	}
	return " and “" + clip(Escape(k), 60) + "”"
}

func dnsText(cr store.ChangeRequest) string {
	d := cr.DNS
	if d == nil {
		return ""
	}
	var lines []string
	switch {
	case d.Failure != "":
		lines = append(lines, "⚠️ *Cut-over failed:* "+clip(Escape(d.Failure), 500)+"\nThe previous records are kept; *Restore DNS* puts them back, or try the cut-over again.")
	case cr.State == store.ChangeCutOver || cr.State == store.ChangeVerified:
		lines = append(lines, "🔀 *DNS switched* (change "+Escape(d.ChangeID)+", in sync). The previous records are kept for *Roll back DNS*.")
	case cr.State == store.ChangeRolledBack:
		lines = append(lines, "↩️ *DNS restored* to the kept records "+slackDate(d.RestoredAt)+".")
	case !d.RestoredAt.IsZero():
		lines = append(lines, "↩️ DNS restored to the kept records "+slackDate(d.RestoredAt)+".")
	}
	return strings.Join(lines, "\n")
}

// stepText is the progress of a long step in progress.
func stepText(cr store.ChangeRequest) string {
	st := cr.Step
	if st == nil {
		return ""
	}
	line := "⏳ *" + upperFirst(st.Kind.Label()) + "…* since " + slackDate(st.Started) + ", for " + mention(st.By)
	switch {
	case st.Kind == store.StepSmoke:
		line += fmt.Sprintf(": %d check(s)", len(cr.SmokeChecks))
	case st.ChangeID != "":
		line += ": Route 53 change `" + Escape(st.ChangeID) + "` sent, waiting until it is in sync"
	case st.Kind == store.StepCutOver:
		line += ": keeping the current records, then sending the change"
	default:
		line += ": sending the kept records back"
	}
	line += "; gives up " + slackDate(st.Deadline) + "."
	if st.Runs > 1 {
		line += " Resumed after the opsbot replica carrying it stopped."
	}
	return line
}

// changeButtons are the next steps of the request's state. Every click is
// authorised again on the server; showing a button grants nothing.
func (r *Router) changeButtons(cr store.ChangeRequest) []slack.BlockElement {
	if cr.Step != nil {
		return nil // one long step at a time; the message shows its progress
	}
	step := func(label, name string) slack.BlockElement {
		return slack.NewButtonBlockElement(actionChangeStep, cr.ID+"|"+string(cr.State)+"|"+name, plain(label))
	}
	btn := func(action, label, value string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(action, value, plain(label))
	}
	confirm := func(b *slack.ButtonBlockElement, title, text, yes string) *slack.ButtonBlockElement {
		b.Confirm = slack.NewConfirmationBlockObject(plain(title), mrkdwn(text), plain(yes), plain("Back"))
		b.Style = slack.StyleDanger
		return b
	}
	version := ""
	if cr.Proposal != nil {
		version = fmt.Sprint(cr.Proposal.Version)
	}
	cancel := confirm(btn(actionChangeCancel, "Cancel request", cr.ID), "Cancel "+cr.ID+"?", "You will be asked for a reason. The request ends and is logged.", "Continue")
	var out []slack.BlockElement
	switch cr.State {
	case store.ChangeRequested:
		out = append(out, step("Start investigating", "investigate"), cancel)
	case store.ChangeInvestigating:
		out = append(out, btn(actionChangePropose, "Propose a change", cr.ID), cancel)
	case store.ChangeAwaitingApproval:
		approve := btn(actionChangeApprove, "Approve", cr.ID+"|"+version)
		approve.Style = slack.StylePrimary
		out = append(out, approve, btn(actionChangeReject, "Reject", cr.ID+"|"+version), btn(actionChangePropose, "Edit proposal", cr.ID), cancel)
	case store.ChangeApproved:
		out = append(out, step("Schedule", "schedule"), btn(actionChangePropose, "Edit proposal", cr.ID), cancel)
	case store.ChangeScheduled:
		out = append(out, step("Start provisioning", "provision"), cancel)
	case store.ChangeProvisioning:
		out = append(out, btn(actionChangeSmoke, "List smoke checks", cr.ID), cancel)
	case store.ChangeSmokeTesting:
		out = append(out, btn(actionChangeSmokeRun, "Run smoke checks", cr.ID), btn(actionChangeSmoke, "Edit smoke checks", cr.ID))
		if cr.CutOverAllowed() == nil {
			label, text := "Cut over DNS", "opsbot keeps the current records, switches "+dnsTarget(cr)+" and waits until Route 53 has it in sync."
			if cr.Proposal == nil || cr.Proposal.DNS == nil {
				label, text = "Mark as cut over", "There is no DNS plan: this records that the traffic was switched by hand."
			}
			out = append(out, confirm(btn(actionChangeCutOver, label, cr.ID), "Cut over "+cr.ID+"?", text, "Cut over"))
		} else if cr.SmokeWaiver == nil {
			out = append(out, btn(actionChangeWaive, "Waive checks (admin)", cr.ID))
		}
		if cr.DNS != nil && cr.DNS.Failure != "" && len(cr.DNS.Kept) > 0 {
			out = append(out, confirm(btn(actionChangeRestore, "Restore DNS", cr.ID), "Restore DNS?", "Puts back the records kept before the cut-over, exactly.", "Restore"))
		}
		out = append(out, cancel)
	case store.ChangeCutOver:
		out = append(out, step("Verified", "verify"), r.rollbackButton(cr))
	case store.ChangeVerified:
		out = append(out, step("Old infrastructure retired", "retire"), r.rollbackButton(cr))
	case store.ChangeRetired:
		out = append(out, step("Close", "close"))
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

func (r *Router) rollbackButton(cr store.ChangeRequest) slack.BlockElement {
	b := slack.NewButtonBlockElement(actionChangeRollback, cr.ID, plain("Roll back DNS"))
	b.Style = slack.StyleDanger
	b.Confirm = slack.NewConfirmationBlockObject(plain("Roll back "+cr.ID+"?"),
		mrkdwn("Restores the DNS records kept before the cut-over, exactly, and ends the request as rolled back."), plain("Roll back"), plain("Back"))
	return b
}

func dnsTarget(cr store.ChangeRequest) string {
	if cr.Proposal == nil || cr.Proposal.DNS == nil {
		return "DNS"
	}
	d := cr.Proposal.DNS
	return "`" + clip(Escape(d.Name), 200) + "` (" + Escape(d.Type) + ") to `" + clip(Escape(strings.Join(d.NewValues, ", ")), 200) + "`"
}

// clip cuts already escaped mrkdwn to at most n runes, ending in "…", and
// never inside an entity (&amp; &lt; &gt;), so Slack's block limits hold
// whatever the escaping added.
func clip(escaped string, n int) string {
	if utf8.RuneCountInString(escaped) <= n {
		return escaped
	}
	r := []rune(escaped)[:n-1]
	out := string(r)
	if amp := strings.LastIndexByte(out, '&'); amp >= 0 && !strings.Contains(out[amp:], ";") {
		out = out[:amp]
	}
	return out + "…"
}
