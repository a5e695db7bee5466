package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// homeYou is everyone's part: my roles, who is on call, my open requests
// and what each waits for.
func (c *Call) homeYou(d homeData) homeSection {
	p := c.Principal
	lines := []string{}
	if len(p.Grants) == 0 {
		lines = append(lines, "You have no role yet. Ask an admin to grant you one (`/ops whoami` shows your ID).")
	} else {
		var roles []string
		for _, g := range p.Grants {
			s := string(g.Role)
			if g.Client != "" {
				s += " of " + c.r.clientName(g.Client)
			}
			roles = append(roles, s)
		}
		lines = append(lines, "*Your roles:* "+strings.Join(roles, ", "))
	}
	if len(d.oncall) > 0 {
		lines = append(lines, "*On call now*")
		lines = append(lines, d.oncall...)
	}
	var mine []string
	for _, cr := range d.changes {
		if cr.RequestedBy == p.UserID {
			mine = append(mine, fmt.Sprintf("%s *%s* · %s · %s — %s", stateEmoji(cr.State), Escape(cr.ID), c.r.clientName(cr.Client),
				Escape(truncate(cr.Title, 80)), waitsFor(cr)))
		}
	}
	if len(mine) > 0 {
		lines = append(append(lines, "*Your open change requests*"), mine...)
	}
	return homeSection{title: "You", lines: lines, more: "`/ops changes --mine`"}
}

// waitsFor says what a request waits for, in words.
func waitsFor(cr store.ChangeRequest) string {
	switch cr.State {
	case store.ChangeAwaitingApproval:
		var missing []string
		for _, role := range cr.RequiredApprovers() {
			if !slices.ContainsFunc(cr.Approvals, func(a store.Approval) bool { return a.Role == role }) {
				missing = append(missing, role)
			}
		}
		return "waits for the approval of " + joinRoles(missing)
	case store.ChangeRequested:
		return "waits for support to investigate"
	case store.ChangeInvestigating:
		return "support is investigating"
	case store.ChangeApproved:
		return "approved; waits to be scheduled"
	}
	return stateLabel(cr.State)
}

// openAlerts are the open alerts of monitors, newest first.
func openAlerts(d homeData, monitors ...string) []store.Alert {
	var out []store.Alert
	for _, a := range d.alerts {
		if a.Active() && !a.Suppressed && slices.Contains(monitors, a.Monitor) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b store.Alert) int { return b.FiredAt.Compare(a.FiredAt) })
	return out
}

func alertLine(a store.Alert) string {
	emoji, state := "🔴", ""
	if a.Status == store.AlertAcknowledged {
		emoji, state = "🟠", " · acknowledged by "+mention(a.AckedBy)
	}
	why := ""
	if a.LastError != "" {
		why = ": " + Escape(truncate(a.LastError, 120))
	}
	if a.Monitor == "sla" {
		why = ": SLA breached, " + strings.TrimPrefix(why, ": ")
	}
	return fmt.Sprintf("%s *%s — %s*%s · since %s%s", emoji, Escape(a.Who()), Escape(a.Subject), why, slackDate(a.FiredAt), state)
}

func (c *Call) homeIncidents(d homeData) homeSection {
	return alertsSection(d, "Sites down and incidents open", "🟢 No site is down and no incident is open.", "`/ops status`", "uptime", "sla")
}

func (c *Call) homeServers(d homeData) homeSection {
	return alertsSection(d, "Servers in breach", "🟢 No server is in breach.", "`/ops servers`", "server", "nodata")
}

// alertsSection lists the open alerts of monitors (none: says so).
func alertsSection(d homeData, title, none, more string, monitors ...string) homeSection {
	open := openAlerts(d, monitors...)
	lines := make([]string, 0, len(open))
	for _, a := range open {
		lines = append(lines, alertLine(a))
	}
	if len(lines) == 0 {
		lines = append(lines, none)
	}
	return homeSection{title: fmt.Sprintf("%s (%d)", title, len(open)), lines: lines, more: more}
}

func (c *Call) homeInFlight(d homeData) homeSection {
	var lines []string
	for _, cr := range d.changes {
		if cr.InWindowState() {
			window := ""
			if p := cr.Proposal; p != nil && !p.WindowStart.IsZero() {
				window = " · window " + slackDate(p.WindowStart) + " to " + slackDate(p.WindowEnd)
			}
			lines = append(lines, fmt.Sprintf("%s *%s* · %s · %s — %s%s", stateEmoji(cr.State), Escape(cr.ID), c.r.clientName(cr.Client),
				Escape(truncate(cr.Title, 80)), stateLabel(cr.State), window))
		}
	}
	if len(lines) == 0 {
		return homeSection{}
	}
	return homeSection{title: fmt.Sprintf("Changes in flight (%d)", len(lines)), lines: lines, more: "`/ops changes`"}
}

func (c *Call) homeMutes(d homeData) homeSection {
	var lines []string
	for _, m := range d.mutes {
		what := Escape(m.Target()) + " silenced by " + mention(m.CreatedBy)
		if m.Change != "" {
			what = "change window of *" + Escape(m.Change) + "* for " + c.r.clientName(m.Client)
		}
		lines = append(lines, fmt.Sprintf("⏸️ %s until %s — %s", what, slackDate(m.End), Escape(truncate(m.Reason, 100))))
	}
	if len(lines) == 0 {
		return homeSection{}
	}
	return homeSection{title: fmt.Sprintf("Freezes and silences (%d)", len(lines)), lines: lines, more: "`/ops silences` and `/ops freeze`"}
}

// homeApprovals are the requests waiting for the person's approval in
// role, each with the Approve and Reject buttons of its message.
func (c *Call) homeApprovals(d homeData, role string) homeSection {
	var lines []string
	var blocks []slack.Block
	for _, cr := range d.changes {
		if cr.State != store.ChangeAwaitingApproval || cr.RequestedBy == c.User.ID || cr.Proposal == nil || cr.Proposal.By == c.User.ID ||
			!slices.Contains(c.heldApproverRoles(cr), role) || slices.ContainsFunc(cr.Approvals, func(a store.Approval) bool { return a.Role == role }) {
			continue
		}
		p := cr.Proposal
		lines = append(lines, fmt.Sprintf("⏳ *%s* · %s · %s: %s → %s, *%s*", Escape(cr.ID), c.r.clientName(cr.Client),
			Escape(truncate(cr.Title, 80)), p.CurrentMonthly, p.ProposedMonthly, store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly)))
		if len(blocks) < 5 {
			value := cr.ID + "|" + strconv.Itoa(p.Version)
			approve := slack.NewButtonBlockElement(actionChangeApprove, value, plain("Approve "+cr.ID))
			approve.Style = slack.StylePrimary
			blocks = append(blocks, slack.NewActionBlock("home_approve_"+role+"_"+cr.ID, approve,
				slack.NewButtonBlockElement(actionChangeReject, value, plain("Reject "+cr.ID))))
		}
	}
	if len(lines) == 0 {
		return homeSection{}
	}
	return homeSection{title: fmt.Sprintf("Approvals waiting for you as %s (%d)", role, len(lines)), lines: lines, blocks: blocks, more: "`/ops changes`"}
}

// homeCosts is the forecast against the quote of clients (nil: every
// client with a quote).
func (c *Call) homeCosts(d homeData, clients []string) homeSection {
	var lines []string
	for _, k := range keys(c.r.deps.CostQuotes) {
		if clients != nil && !slices.Contains(clients, k) {
			continue
		}
		rec, ok := d.costs[k]
		quote := c.r.deps.CostQuotes[k]
		switch {
		case !ok || !rec.HasSnapshot:
			lines = append(lines, "• "+c.r.clientName(k)+": no cost data yet")
		case !rec.Snapshot.HasForecast || quote <= 0:
			lines = append(lines, fmt.Sprintf("• %s: %s to date", c.r.clientName(k), store.FormatCost(rec.Snapshot.MonthToDate, rec.Snapshot.Currency)))
		default:
			s := rec.Snapshot
			pct := s.Forecast / quote * 100
			flag := ""
			if pct > 100 {
				flag = " ⚠️ over the quote"
			}
			lines = append(lines, fmt.Sprintf("• %s: forecast %s of the %s quote (*%.0f %%*)%s · %s to date", c.r.clientName(k),
				store.FormatCost(s.Forecast, s.Currency), store.FormatCost(quote, s.Currency), pct, flag, store.FormatCost(s.MonthToDate, s.Currency)))
		}
	}
	if len(lines) == 0 {
		return homeSection{}
	}
	return homeSection{title: "Cost against the quote", lines: lines, more: "`/ops cost`"}
}

// homeChangeLog is this month's change log in one line: how many changes
// and what they did to the monthly cost.
func (c *Call) homeChangeLog(d homeData) homeSection {
	var total store.Money
	done := 0
	for _, e := range d.changelg {
		if e.Outcome == "done" {
			total += e.ProposedMonthly - e.CurrentMonthly
			done++
		}
	}
	line := fmt.Sprintf("%d changes logged this month, %d done; together they change the monthly cost by %s.", len(d.changelg), done, signed(total))
	return homeSection{title: "Change log, " + c.Now.UTC().Format("January 2006"), lines: []string{line}, more: "`/ops changelog`"}
}

func signed(m store.Money) string {
	if m > 0 {
		return "+" + m.String()
	}
	return m.String()
}

// homeClients is each of a stakeholder's clients: sites up and down, the
// month's worst uptime against the SLA target.
func (c *Call) homeClients(d homeData, clients []string) homeSection {
	month := c.Now.UTC().Format("2006-01")
	var lines []string
	for _, k := range clients {
		up, down, worst := 0, 0, -1.0
		for _, s := range d.sites {
			if s.Client != k {
				continue
			}
			switch s.State {
			case "up":
				up++
			case "down":
				down++
			}
			if s.Month == month && s.MonthUptime >= 0 && (worst < 0 || s.MonthUptime < worst) {
				worst = s.MonthUptime
			}
		}
		state := "🟢"
		if down > 0 {
			state = "🔴"
		}
		sla := "SLA this month: not computed yet"
		if worst >= 0 {
			sla = fmt.Sprintf("lowest uptime this month %.2f %% (target %g %%)", worst, c.r.deps.SLATargets[k])
			if target := c.r.deps.SLATargets[k]; target > 0 && worst < target {
				sla += " ⚠️ below target"
			}
		}
		lines = append(lines, fmt.Sprintf("%s %s: %d up, %d down · %s", state, c.r.clientName(k), up, down, sla))
	}
	if len(lines) == 0 {
		return homeSection{}
	}
	return homeSection{title: "Your clients", lines: lines, more: "`/ops status`"}
}
