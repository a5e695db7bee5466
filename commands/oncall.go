package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// OnCallSource says who is on call (integrations/pagerduty satisfies it).
type OnCallSource interface {
	OnCalls(ctx context.Context, scheduleIDs []string, now time.Time) ([]integrations.OnCall, error)
}

const oncallExample = "/ops oncall primary"

var errNoPagerDuty = Reply{Text: ":warning: PagerDuty is not configured on this opsbot (no `PAGERDUTY_TOKEN`), so I can't say who is on call. Ask an admin to set it up."}

// runOncall is `oncall [schedule]`.
func runOncall(ctx context.Context, c *Call) (Reply, error) {
	src := c.r.deps.OnCall
	if src == nil {
		return errNoPagerDuty, nil
	}
	schedules := c.r.deps.Schedules
	names := slices.Sorted(maps.Keys(schedules))
	example := oncallExample
	if len(names) > 0 {
		example = "/ops oncall " + names[0]
	}
	if len(c.Args) > 1 {
		return Reply{}, userErrorf(example, "Name at most one schedule.")
	}
	var ids []string
	title := "On call now"
	if len(c.Args) == 1 {
		name, err := scheduleName(c.Args[0], names, example)
		if err != nil {
			return Reply{}, err
		}
		ids, title = []string{schedules[name]}, "On call now — "+name
	} else {
		for _, n := range names {
			ids = append(ids, schedules[n])
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	oncalls, err := src.OnCalls(ctx, ids, c.Now)
	if err != nil {
		return pagerDutyFailure(c, err)
	}
	if len(oncalls) == 0 {
		text := "Nobody is on call right now"
		if len(c.Args) == 1 {
			text += " on that schedule"
		}
		text += ", according to PagerDuty."
		return Reply{Text: text}, nil
	}
	lines := oncallLines(oncalls, c.seesAll(store.PermOncallView))
	return listReply(title, lines), nil
}

// scheduleName resolves a typed schedule name: exact (case-insensitive) or
// a unique prefix.
func scheduleName(word string, names []string, example string) (string, error) {
	if len(names) == 0 {
		return "", userErrorf("/ops oncall", "No PagerDuty schedules are named in opsbot's config, so I can't pick one; `/ops oncall` shows everyone on call.")
	}
	w := strings.ToLower(word)
	var matches []string
	for _, n := range names {
		if strings.ToLower(n) == w {
			return n, nil
		}
		if strings.HasPrefix(strings.ToLower(n), w) {
			matches = append(matches, n)
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	list := "`" + strings.Join(names, "`, `") + "`"
	if len(matches) > 1 {
		return "", userErrorf(example, "%q matches several schedules: `%s`. Type more of the name.", Escape(truncate(word, 40)), strings.Join(matches, "`, `"))
	}
	return "", userErrorf(example, "I don't know a schedule called %q. Schedules: %s.", Escape(truncate(word, 40)), list)
}

// oncallLines groups on-calls per escalation policy (or schedule), level by
// level. E-mail addresses are the team's: only staff (withEmail) see them,
// not a client's stakeholder.
func oncallLines(oncalls []integrations.OnCall, withEmail bool) []string {
	groups := map[string][]integrations.OnCall{}
	for _, oc := range oncalls {
		g := oc.EscalationPolicy
		if g == "" {
			g = oc.Schedule
		}
		groups[g] = append(groups[g], oc)
	}
	var lines []string
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		list := groups[g]
		slices.SortStableFunc(list, func(a, b integrations.OnCall) int {
			if a.Level != b.Level {
				return a.Level - b.Level
			}
			return strings.Compare(a.UserName, b.UserName)
		})
		list = slices.Compact(list)
		name := g
		if name == "" {
			name = "(unnamed policy)"
		}
		var b strings.Builder
		b.WriteString("*" + Escape(truncate(name, 100)) + "*")
		for _, oc := range list {
			b.WriteString("\n" + oncallLine(oc, g, withEmail))
		}
		lines = append(lines, b.String())
	}
	return lines
}

// oncallLine is "L1 Name (email) until <date>"; without withEmail, no email.
func oncallLine(oc integrations.OnCall, group string, withEmail bool) string {
	who := oc.UserName
	if who == "" {
		who = "someone"
	}
	s := fmt.Sprintf("L%d *%s*", oc.Level, Escape(truncate(who, 80)))
	if withEmail && oc.UserEmail != "" {
		s += " (" + Escape(truncate(oc.UserEmail, 100)) + ")"
	}
	if oc.Schedule != "" && oc.Schedule != group {
		s += " via " + Escape(truncate(oc.Schedule, 100))
	}
	if oc.End.IsZero() {
		s += " permanently"
	} else {
		s += " until " + slackDate(oc.End)
	}
	return s
}

// pagerDutyFailure explains a PagerDuty error in words, or passes it on.
func pagerDutyFailure(c *Call, err error) (Reply, error) {
	if retry, after := integrations.IsRetryable(err); retry {
		c.r.log.Warn("pagerduty on-calls failed", "err", err)
		wait := "a minute"
		switch {
		case after >= time.Minute:
			wait = formatDuration(after)
		case after > 0:
			wait = fmt.Sprintf("%d seconds", int((after+time.Second-1)/time.Second))
		}
		return Reply{Text: ":warning: PagerDuty is not answering; try again in " + wait + "."}, nil
	}
	if errors.Is(err, integrations.ErrUnauthorized) {
		c.r.log.Error("pagerduty rejected the API token", "err", err)
		return Reply{Text: ":warning: PagerDuty rejected opsbot's API token (PAGERDUTY_TOKEN), so I can't read who is on call. Ask an admin to check the token."}, nil
	}
	return Reply{}, err
}
