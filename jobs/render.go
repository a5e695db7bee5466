package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Action IDs of the alert message's buttons; commands routes them.
const (
	ActionAlertAck     = "alert_ack"
	ActionAlertResolve = "alert_resolve"
	ActionAlertSilence = "alert_silence_1h"
)

// alertMessage renders an alert's one message in its current state. The
// status always comes as an emoji and a word (UX.md), times in the viewer's
// zone, vendor and user text escaped.
func alertMessage(a store.Alert, p alertPayload, now time.Time) chat.Message {
	if a.Monitor == "sla" {
		return slaMessage(a)
	}
	name := chat.Escape(p.Name)
	if u := chat.SafeURL(p.URL); u != "" {
		name = "<" + u + "|" + name + ">"
	}
	w := wordsFor(a.Monitor)
	down, since, during, again := w.down, "*"+w.since+"*\n", "*"+w.during+"*\n", w.again
	var head, word string
	switch {
	case a.Status == store.AlertFiring:
		head, word = ":red_circle:", down
	case a.Status == store.AlertAcknowledged:
		head, word = ":large_orange_circle:", down+", acknowledged"
	case a.Stale:
		head, word = ":white_circle:", "CLOSED: NO DATA"
	default:
		head, word = ":large_green_circle:", w.recovered
		if a.ResolvedBy != "" {
			word = "RESOLVED"
		}
	}
	text := fmt.Sprintf("%s *%s* is %s", head, name, word)
	fields := []*slack.TextBlockObject{
		md("*Client*\n" + chat.Escape(a.Who())),
	}
	for _, f := range a.Fields {
		v := chat.Escape(truncate(f.Text, 300))
		if !f.At.IsZero() {
			v = date(f.At)
		}
		fields = append(fields, md("*"+chat.Escape(f.Label)+"*\n"+v))
	}
	fields = append(fields, md(since+date(a.FailingSince)))
	if a.LastError != "" {
		fields = append(fields, md("*Error*\n"+chat.Escape(truncate(a.LastError, 300))))
	}
	if a.Status == store.AlertResolved {
		fields = append(fields, md(during+human(a.Downtime(a.ResolvedAt))))
	} else {
		fields = append(fields, md(during+human(a.Downtime(now))+" so far"))
	}
	blocks := []slack.Block{slack.NewSectionBlock(md(text), fields, nil)}
	if len(a.Children) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(childLines(a.Children)), nil, nil),
			slack.NewContextBlock("", md("The client's sites that failed in the same minutes are gathered here: one page for all, each still resolves on its own.")))
	}
	var notes []string
	if a.AckedBy != "" {
		notes = append(notes, fmt.Sprintf("Acknowledged by <@%s> %s", a.AckedBy, date(a.AckedAt)))
	}
	if a.SilencedBy != "" && a.Status != store.AlertResolved {
		notes = append(notes, fmt.Sprintf(":double_vertical_bar: Silenced by <@%s> until %s", a.SilencedBy, date(a.SilencedUntil)))
	}
	if a.ResolvedBy != "" {
		notes = append(notes, fmt.Sprintf("Resolved by <@%s> %s", a.ResolvedBy, date(a.ResolvedAt)))
	} else if a.Status == store.AlertResolved {
		notes = append(notes, w.recoveredAfter+" "+date(a.ResolvedAt))
	}
	for _, n := range notes {
		blocks = append(blocks, slack.NewContextBlock("", md(n)))
	}
	if a.Active() && w.hint != "" {
		// A finding is quietened by accepting its risk (with an expiry
		// and a reason), not by a silence or a resolve.
		if a.Status == store.AlertFiring {
			ack := slack.NewButtonBlockElement(ActionAlertAck, a.Key, plain("Acknowledge"))
			ack.Style = slack.StylePrimary
			blocks = append(blocks, slack.NewActionBlock("alert_actions", ack))
		}
		_, id, _ := strings.Cut(strings.TrimPrefix(a.Key, a.Monitor+"/"), "/")
		blocks = append(blocks, slack.NewContextBlock("", md(fmt.Sprintf(w.hint, chat.Escape(shortID(id))))))
	} else if a.Active() {
		blocks = append(blocks, alertButtons(a, "Resolve this alert?", "It closes the PagerDuty incident too. "+again, true))
	}
	// The fallback is a notification's text: vendor text in it is escaped
	// too, so a finding's title cannot mention @channel.
	fallback := fmt.Sprintf("%s is %s", chat.Escape(p.Name), word)
	return chat.Message{Text: fallback, Blocks: blocks}
}

// alertButtons are an open alert's Acknowledge (while nobody has),
// Resolve (confirmed with confirm) and, with silence, Silence 1h.
func alertButtons(a store.Alert, title, confirm string, silence bool) slack.Block {
	var btns []slack.BlockElement
	if a.Status == store.AlertFiring {
		ack := slack.NewButtonBlockElement(ActionAlertAck, a.Key, plain("Acknowledge"))
		ack.Style = slack.StylePrimary
		btns = append(btns, ack)
	}
	res := slack.NewButtonBlockElement(ActionAlertResolve, a.Key, plain("Resolve"))
	res.Confirm = slack.NewConfirmationBlockObject(plain(title), md(confirm), plain("Resolve"), plain("Cancel"))
	btns = append(btns, res)
	if silence {
		btns = append(btns, slack.NewButtonBlockElement(ActionAlertSilence, a.Key, plain("Silence 1h")))
	}
	return slack.NewActionBlock("alert_actions", btns...)
}

func md(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// truncate cuts s to at most n characters (see chat.Truncate).
func truncate(s string, n int) string { return chat.Truncate(s, n) }
