package commands

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// homeTop is how many items a security or launch section lists before it
// points at the verb that lists them all: Home is a summary, not the list.
const homeTop = 5

// homeSecurity is what the security part of Home reads, for the clients the
// person's roles cover. A nil field is a capability not configured here.
type homeSecurity struct {
	findings       *store.FindingsOverview
	findingClients []string
	shield         map[string]store.ShieldRecord
	shieldClients  []string
	training       []store.TrainingStatus // the team's; nil: not configured
}

// homeSecurityRole reports whether Home shows the security part: to the
// security role and to admins.
func (c *Call) homeSecurityRole() bool {
	return c.Principal.HasRole(store.Security) || c.Principal.HasRole(store.Admin)
}

// loadHomeSecurity reads findings, Shield records and the team's training
// for a security person or an admin; each within what their grants reach
// (clientsFor), as the verbs themselves do.
func (c *Call) loadHomeSecurity(ctx context.Context, d *homeData) error {
	if !c.homeSecurityRole() {
		return nil
	}
	deps := c.r.deps
	sec := &homeSecurity{}
	if deps.Findings != nil && c.Principal.Can(store.PermFindingsView) {
		sec.findingClients = c.findingClients(store.PermFindingsView)
		ov, err := deps.Findings.FindingsOf(ctx, sec.findingClients)
		if err != nil {
			return fmt.Errorf("home: findings: %w", err)
		}
		sec.findings = &ov
	}
	if deps.Shield != nil && len(deps.ShieldLevels) > 0 && c.Principal.Can(store.PermShieldView) {
		recs, err := deps.Shield.ShieldRecords(ctx)
		if err != nil {
			return fmt.Errorf("home: shield: %w", err)
		}
		sec.shield = recs
		for _, k := range slices.Sorted(maps.Keys(deps.ShieldLevels)) {
			if c.Principal.CanFor(store.PermShieldView, k) {
				sec.shieldClients = append(sec.shieldClients, k)
			}
		}
	}
	if deps.Training != nil && c.Principal.Can(store.PermTrainingTeam) {
		ts, _, err := deps.Training.LoadTrainingSync(ctx)
		if err != nil {
			return fmt.Errorf("home: training sync: %w", err)
		}
		recs, err := deps.Training.TrainingRecords(ctx)
		if err != nil {
			return fmt.Errorf("home: training records: %w", err)
		}
		grants, err := deps.Roles.AllGrants(ctx)
		if err != nil {
			return fmt.Errorf("home: grants: %w", err)
		}
		team := store.TrainingTeam(grants, deps.TrainingSettings.Who)
		sec.training = deps.TrainingSettings.Rules.TrainingStatuses(team, ts, recs, c.Now)
	}
	d.sec = sec
	return nil
}

// topLines keeps the first homeTop items and says how many more there are.
func topLines(items []string, rest string) []string {
	if len(items) <= homeTop {
		return items
	}
	return append(items[:homeTop:homeTop], fmt.Sprintf("_… and %d more %s._", len(items)-homeTop, rest))
}

// homeFindings is the open high and critical findings: a count per client,
// then the most severe and oldest few with where and since when.
func (c *Call) homeFindings(d homeData) homeSection {
	ov := d.sec.findings
	if ov == nil || len(d.sec.findingClients) == 0 {
		return homeSection{} // no client the person sees pays for scans
	}
	counts := map[string]map[string]int{}
	var open []store.Finding
	for _, k := range d.sec.findingClients {
		for id, f := range ov.Findings[k] {
			acc, accepted := ov.Acceptances[k][id]
			if !f.State.Open() || (f.Severity != "critical" && f.Severity != "high") || f.AcceptedAtVendor() || (accepted && acc.Active(c.Now)) {
				continue
			}
			if counts[k] == nil {
				counts[k] = map[string]int{}
			}
			counts[k][f.Severity]++
			open = append(open, f)
		}
	}
	slices.SortFunc(open, func(a, b store.Finding) int {
		return cmp.Or(slices.Index(findingSeverities, a.Severity)-slices.Index(findingSeverities, b.Severity),
			a.FirstSeen.Compare(b.FirstSeen), strings.Compare(a.Client+a.ID, b.Client+b.ID))
	})
	title := fmt.Sprintf("Security: open high and critical findings (%d)", len(open))
	hint := "`/ops findings --severity high` lists them all · `/ops findings accept <id> <duration> <reason>` accepts a risk"
	if len(open) == 0 {
		return homeSection{title: title, hint: hint,
			lines: []string{fmt.Sprintf("🟢 No open high or critical finding on the %d clients scanned.", len(d.sec.findingClients))}}
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		var parts []string
		for _, sev := range []string{"critical", "high"} {
			if n := counts[k][sev]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, sev))
			}
		}
		scan := "no completed scan yet"
		if last, ok := ov.LastScan[k]; ok {
			scan = "last scan " + slackDate(last.At)
		}
		lines = append(lines, fmt.Sprintf("🔴 %s: %s · %s", c.clientName(k), strings.Join(parts, ", "), scan))
	}
	items := make([]string, len(open))
	for i, f := range open {
		what := Escape(truncate(oneLine(f.Title), 120))
		if u := chat.SafeURL(f.Link); u != "" {
			what = "<" + u + "|" + what + ">"
		}
		items[i] = fmt.Sprintf("%s %s · %s\n    %s · `%s` · open since %s (%s)", severityBadge(f.Severity), what, c.clientName(f.Client),
			Escape(truncate(firstOf(f.Location, f.Host), 150)), Escape(shortFindingID(f.ID)), slackDate(f.FirstSeen), formatDuration(c.Now.Sub(f.FirstSeen)))
	}
	lines = append(append(lines, "*Most severe, oldest first*"), topLines(items, "high or critical findings")...)
	return homeSection{title: title, lines: lines, hint: hint, more: "`/ops findings`"}
}

// homeShield is the clients' Shield Advanced gaps: an inactive subscription,
// instances reachable from the internet without protection.
func (c *Call) homeShield(d homeData) homeSection {
	if d.sec.shield == nil {
		return homeSection{}
	}
	var clientLines, items []string
	gaps, advanced := 0, 0
	for _, k := range d.sec.shieldClients {
		rec, has := d.sec.shield[k]
		if c.r.deps.ShieldLevels[k] != "advanced" {
			continue
		}
		advanced++
		if rec.FetchError != "" {
			clientLines = append(clientLines, "⚠️ "+c.clientName(k)+": the latest Shield check failed; older data shown")
		}
		if !has || rec.TakenAt.IsZero() {
			clientLines = append(clientLines, "⚪ "+c.clientName(k)+": not checked yet")
			continue
		}
		inactive, exposed := rec.Gaps()
		if inactive {
			gaps++
			clientLines = append(clientLines, fmt.Sprintf("🔴 %s: the Shield Advanced subscription is *%s*: nothing in the account is protected · checked %s",
				c.clientName(k), Escape(strings.ToLower(rec.Subscription)), slackDate(rec.TakenAt)))
		}
		for _, i := range exposed {
			gaps++
			items = append(items, fmt.Sprintf("%s %s — %s: %s · checked %s", verdictEmoji[i.Verdict], c.clientName(k), Escape(i.Label()),
				Escape(truncate(store.ShieldAdvice(i), 300)), slackDate(rec.TakenAt)))
		}
	}
	if advanced == 0 {
		return homeSection{}
	}
	title := fmt.Sprintf("Security: Shield gaps (%d)", gaps)
	hint := "`/ops shield <client>` shows each instance · `--refresh` checks again now"
	lines := append(clientLines, topLines(items, "unprotected instances")...)
	if gaps == 0 {
		lines = append(lines, fmt.Sprintf("🟢 No gap on the %d clients with Shield Advanced.", advanced))
	}
	return homeSection{title: title, lines: lines, hint: hint, more: "`/ops shield`"}
}

// homeTraining is who of the team is overdue for security training, those
// never trained first, then the longest expired.
func (c *Call) homeTraining(d homeData) homeSection {
	if d.sec.training == nil {
		return homeSection{}
	}
	var overdue []store.TrainingStatus
	unmatched := 0
	for _, s := range d.sec.training {
		switch s.State {
		case store.TrainingOverdue:
			overdue = append(overdue, s)
		case store.TrainingUnmatched:
			unmatched++
		}
	}
	slices.SortFunc(overdue, func(a, b store.TrainingStatus) int {
		return cmp.Or(a.Expires.Compare(b.Expires), strings.Compare(a.User, b.User))
	})
	title := fmt.Sprintf("Security: training overdue (%d)", len(overdue))
	summary := fmt.Sprintf("%d of the %d people who must be trained are overdue", len(overdue), len(d.sec.training))
	if unmatched > 0 {
		summary += fmt.Sprintf(" · %d unmatched (no Udemy account with their Slack e-mail)", unmatched)
	}
	items := make([]string, len(overdue))
	for i, s := range overdue {
		items[i] = mention(s.User) + " — never trained"
		if !s.Last.IsZero() {
			items[i] = fmt.Sprintf("%s — %s completed %s, expired %s (%s ago)", mention(s.User), Escape(s.Course),
				s.Last.UTC().Format("2 Jan 2006"), slackDate(s.Expires), formatDuration(c.Now.Sub(s.Expires)))
		}
		items[i] = "🔴 " + items[i]
	}
	lines := append([]string{summary + "."}, topLines(items, "people overdue")...)
	return homeSection{title: title, lines: lines, more: "`/ops training`",
		hint: "`/ops training` lists the team · `/ops training record @person <course> <YYYY-MM-DD> <evidence>` records training done elsewhere"}
}
