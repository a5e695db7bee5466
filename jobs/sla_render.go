package jobs

import (
	"fmt"
	"strings"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// slaMessage renders an SLA incident's one message: the breach and its
// figures, who acknowledged or resolved it, and Acknowledge / Resolve while
// it is open (it never recovers by itself: the month's figure stands).
func slaMessage(a store.Alert) chat.Message {
	month := a.Key[strings.LastIndexByte(a.Key, '/')+1:]
	name := chat.Escape(a.Subject)
	if u := chat.SafeURL(a.URL); u != "" {
		name = "<" + u + "|" + name + ">"
	}
	head, word := ":red_circle:", "SLA breached"
	switch a.Status {
	case store.AlertAcknowledged:
		head, word = ":large_orange_circle:", "SLA breached, acknowledged"
	case store.AlertResolved:
		head, word = ":large_green_circle:", "SLA breach resolved"
	}
	text := fmt.Sprintf("%s *%s* for *%s* (%s) in %s: %s.", head, word, name, chat.Escape(a.Who()), month, chat.Escape(a.LastError))
	blocks := []slack.Block{slack.NewSectionBlock(md(text), nil, nil)}
	var notes []string
	if a.AckedBy != "" {
		notes = append(notes, fmt.Sprintf("Acknowledged by <@%s> %s", a.AckedBy, date(a.AckedAt)))
	}
	if a.ResolvedBy != "" {
		notes = append(notes, fmt.Sprintf("Resolved by <@%s> %s", a.ResolvedBy, date(a.ResolvedAt)))
	}
	for _, n := range notes {
		blocks = append(blocks, slack.NewContextBlock("", md(n)))
	}
	if a.Active() {
		blocks = append(blocks, alertButtons(a, "Resolve this SLA incident?", "It closes the PagerDuty incident too. It is not raised again this month.", false))
	}
	fallback := fmt.Sprintf("%s for %s (%s) in %s: %s", word, a.Subject, a.Who(), month, a.LastError)
	return chat.Message{Text: fallback, Blocks: blocks}
}
