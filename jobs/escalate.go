package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// EscalationStep is one rung of a client's ladder: After the alert fired,
// a reminder in its thread; Channel (optional) is told too; Severity
// (optional) pages again at that severity, unless someone acknowledged it.
type EscalationStep struct {
	After    time.Duration
	Channel  string
	Severity integrations.Severity
}

// Escalate takes the steps of ladder that are due at now and not yet taken
// in the alert's current firing, each exactly once (the count is saved with
// the alert, in the transaction that queues the step's deliveries). It
// reports how many steps it took.
func (al *Alerter) Escalate(ctx context.Context, key string, ladder []EscalationStep, now time.Time) (int, error) {
	taken := 0
	_, err := al.store.UpdateAlert(ctx, key, now, func(a *store.Alert) ([]store.OutboxItem, error) {
		taken = 0
		if !a.Active() || a.FiredAt.IsZero() {
			return nil, nil
		}
		var items []store.OutboxItem
		for a.Escalated < len(ladder) && !now.Before(a.FiredAt.Add(ladder[a.Escalated].After)) {
			step := ladder[a.Escalated]
			a.Escalated++
			more, err := escalationItems(a, step, a.Escalated, now)
			if err != nil {
				return nil, err
			}
			items = append(items, more...)
			taken++
		}
		return items, nil
	})
	if err != nil {
		return 0, fmt.Errorf("jobs: escalate %s: %w", key, err)
	}
	if taken > 0 && al.nudge != nil {
		al.nudge()
	}
	return taken, nil
}

// escalationItems announce step n (1-based) of a's ladder: the threaded
// reminder, the second channel, the page.
func escalationItems(a *store.Alert, step EscalationStep, n int, now time.Time) ([]store.OutboxItem, error) {
	state := wordsFor(a.Monitor).still
	after := human(step.After)
	var notes []string
	var items []store.OutboxItem
	add := func(kind string, payload any) error {
		it, err := store.NewOutboxItem(kind, a.Key, payload, now)
		items = append(items, it)
		return err
	}
	if step.Channel != "" {
		text := fmt.Sprintf(":rotating_light: *%s — %s* is still %s after %s", chat.Escape(a.Who()), chat.Escape(a.Subject), state, after)
		if a.LastError != "" {
			text += ": " + chat.Escape(truncate(a.LastError, 300))
		}
		if a.AckedBy != "" {
			text += fmt.Sprintf(" (acknowledged by <@%s>)", a.AckedBy)
		}
		if u := chat.MessageURL(a.Channel, a.MessageTS); u != "" {
			text += ". <" + u + "|Open the alert>"
		}
		if err := add(kindSlackPost, postPayload{Channel: step.Channel, Text: text + "."}); err != nil {
			return nil, err
		}
		notes = append(notes, "told "+channelMention(step.Channel))
	}
	switch {
	case step.Severity == "" || a.PagerRef == "":
	case a.Status == store.AlertAcknowledged:
		notes = append(notes, fmt.Sprintf("not paged again: <@%s> acknowledged it", a.AckedBy))
	default:
		ev := pageEvent(a, "trigger", now)
		ev.DedupKey = a.DedupKey() + "/escalation/" + strconv.Itoa(n)
		ev.Severity = step.Severity
		ev.Summary = fmt.Sprintf("%s — %s still %s after %s", a.Who(), a.Subject, state, after)
		if a.LastError != "" {
			ev.Summary += ": " + a.LastError
		}
		if err := add(kindPager, pagerPayload{Ref: a.PagerRef, Event: ev}); err != nil {
			return nil, err
		}
		a.EscalationPages = append(a.EscalationPages, ev.DedupKey)
		notes = append(notes, "paged again at "+string(step.Severity)+" severity")
	}
	line := fmt.Sprintf(":alarm_clock: Still %s after %s.", state, after)
	if len(notes) > 0 {
		line += " Escalated: " + strings.Join(notes, "; ") + "."
	}
	if err := add(kindSlackThread, threadPayload{Text: line, FiredAt: a.FiredAt}); err != nil {
		return nil, err
	}
	return items, nil
}

// channelMention links a channel ID (<#C0123>) and shows a #name as it is.
func channelMention(ch string) string {
	if channelID.MatchString(ch) {
		return "<#" + ch + ">"
	}
	return chat.Escape(ch)
}

// resolveEscalations are the resolve events of the pages a's escalation sent.
func resolveEscalations(a *store.Alert, at time.Time) []pagerPayload {
	var out []pagerPayload
	for _, k := range a.EscalationPages {
		out = append(out, pagerPayload{Ref: a.PagerRef, Event: integrations.Alert{DedupKey: k, Action: "resolve", At: at}})
	}
	return out
}
