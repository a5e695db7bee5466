package commands

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// The checklist's buttons. Values are "<id>" or "<id>|<item key>"; every
// click is authorised again, showing a button grants nothing.
const (
	actionChecklistVerify  = "checklist.reverify"
	actionChecklistSignOff = "checklist.signoff"
	actionChecklistAttest  = "checklist.attest"
	actionChecklistWaive   = "checklist.waive"
	actionChecklistApprove = "checklist.approve"
	callbackChecklistWaive = "checklist.waiver"
)

// checklistMessage is the launch's one message as it stands at now.
func (r *Router) checklistMessage(cl store.Checklist, now time.Time) (string, []slack.Block) {
	title := truncate("Launch checklist "+cl.ID+" — "+cmp.Or(r.deps.Clients[cl.Client], cl.Client), 140)
	ready, total := checklistCounts(cl, now)
	summary := fmt.Sprintf("Template *%s* · opened by <@%s> %s · *%d of %d ready*", Escape(cl.Template), cl.CreatedBy, slackDate(cl.Created), ready, total)
	switch b := cl.Blockers(now); {
	case cl.SignedOff():
		summary += fmt.Sprintf("\n🚀 *Signed off* by <@%s> %s. This checklist is read-only.", cl.SignedOffBy, slackDate(cl.SignedOffAt))
	case len(b) > 0:
		summary += "\n🛑 Held back by: " + Escape(truncate(store.BlockerTitles(b), 1000))
	default:
		summary += "\n🟢 Nothing holds it back: an admin may sign it off."
	}
	if run := cl.Run; run != nil {
		what := "Re-verifying"
		if run.SignOff {
			what = "Re-verifying before sign-off"
		}
		summary += fmt.Sprintf("\n🔄 %s (asked by <@%s>): %d of %d checked…", what, run.By, run.Done, len(cl.Verified()))
		if run.Note != "" {
			summary += " " + Escape(truncate(run.Note, 300))
		}
	}
	blocks := []slack.Block{header("🚀 " + title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	for _, it := range cl.Items {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(itemLine(it, now), 2900)), nil, nil))
		if btns := itemButtons(cl, it, now); len(btns) > 0 {
			blocks = append(blocks, slack.NewActionBlock("cl-item-"+it.Key, btns...))
		}
	}
	if !cl.SignedOff() && cl.Run == nil {
		signOff := slack.NewButtonBlockElement(actionChecklistSignOff, cl.ID, plain("Sign off"))
		signOff.Style = slack.StylePrimary
		signOff.Confirm = slack.NewConfirmationBlockObject(plain("Sign off "+cl.ID+"?"),
			mrkdwn("opsbot re-runs every verified item first; the sign-off is refused if anything holds the launch back."), plain("Re-verify and sign off"), plain("Back"))
		blocks = append(blocks, slack.NewActionBlock("cl-launch",
			slack.NewButtonBlockElement(actionChecklistVerify, cl.ID, plain("Re-verify")), signOff))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Who did what, and the evidence, are in this message's thread.")))
	return fmt.Sprintf("%s: %d of %d ready", title, ready, total), blocks
}

// itemLine is one item: its state with emoji and word, evidence, waiver.
func itemLine(it store.ChecklistItem, now time.Time) string {
	st := it.Effective(now)
	line := store.StateEmoji(st) + " *" + Escape(it.Title) + "* — "
	switch st {
	case store.ItemVerified:
		line += "verified " + slackDate(it.At) + ": " + Escape(it.Detail)
	case store.ItemAttested:
		line += fmt.Sprintf("attested by <@%s> %s", it.By, slackDate(it.At))
		if it.Detail != "" {
			line += ": " + Escape(it.Detail)
		}
	case store.ItemFailing:
		line += "failing: " + Escape(it.Detail)
	case store.ItemNA:
		line += "not applicable: " + Escape(it.Detail)
	case store.ItemStale:
		line += "stale: last verified " + slackDate(it.At) + ", longer ago than " + formatDuration(it.TTL) + "; press Re-verify"
	case store.ItemWaived:
		line += "waived"
	default:
		if it.Kind == store.ItemKindAttested {
			line += "not ticked yet (by " + string(it.Role) + ")"
		} else {
			line += "not checked yet"
		}
	}
	if it.URL != "" {
		if u := chat.SafeURL(it.URL); u != "" {
			line += " · <" + u + "|evidence>"
		}
	}
	if w := it.Waiver; w != nil {
		if w.ApprovedBy != "" {
			line += fmt.Sprintf("\n⚠️ waived until %s (%s): %s — asked by <@%s>, approved by <@%s>",
				w.Expires.UTC().Format("2006-01-02"), w.Category, Escape(w.Reason), w.AskedBy, w.ApprovedBy)
		} else {
			line += fmt.Sprintf("\n⏳ waiver asked by <@%s> until %s (%s): %s — waiting for an admin or security person to approve",
				w.AskedBy, w.Expires.UTC().Format("2006-01-02"), w.Category, Escape(w.Reason))
		}
	}
	return line
}

// itemButtons are what may be done to one item now.
func itemButtons(cl store.Checklist, it store.ChecklistItem, now time.Time) []slack.BlockElement {
	if cl.SignedOff() || it.State == store.ItemNA {
		return nil
	}
	v := cl.ID + "|" + it.Key
	var out []slack.BlockElement
	if it.Kind == store.ItemKindAttested && it.State != store.ItemAttested {
		out = append(out, slack.NewButtonBlockElement(actionChecklistAttest, v, plain("Tick")))
	}
	st := it.Effective(now)
	switch w := it.Waiver; {
	case w != nil && w.ApprovedBy == "":
		out = append(out, slack.NewButtonBlockElement(actionChecklistApprove, v, plain("Approve waiver")))
	case w == nil && st != store.ItemVerified && st != store.ItemAttested:
		out = append(out, slack.NewButtonBlockElement(actionChecklistWaive, v, plain("Ask waiver")))
	}
	return out
}

// checklistDeliveries are the outbox items of a change: the message as it
// now stands and a thread line per event (one FIFO queue per checklist,
// so lines wait for the message's ts).
func (r *Router) checklistDeliveries(cl store.Checklist, events []store.ChecklistEvent, now time.Time) ([]store.OutboxItem, error) {
	text, blocks := r.checklistMessage(cl, now)
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", cl.ID, err)
	}
	subject := "checklist/" + cl.ID
	msg, err := store.NewOutboxItem(store.KindChecklistMessage, subject, store.ChangeMessage{ID: cl.ID, Channel: cl.Channel, Text: text, Blocks: raw}, now)
	if err != nil {
		return nil, err
	}
	items := []store.OutboxItem{msg}
	for _, e := range events {
		line := e.Text
		if e.Detail != "" {
			line += ": " + Escape(truncate(oneLine(e.Detail), 500))
		}
		if e.Reason != "" {
			line += "\n> " + Escape(strings.ReplaceAll(truncate(e.Reason, 1000), "\n", " "))
		}
		line += " · " + slackDate(e.At)
		it, err := store.NewOutboxItem(store.KindChecklistThread, subject, store.ChangeThread{ID: cl.ID, Text: line}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// ChecklistDeliveries renders a checklist changed outside a click (the
// waiver-expiry job): its message and thread lines for events.
func (r *Router) ChecklistDeliveries(cl store.Checklist, events []store.ChecklistEvent, now time.Time) ([]store.OutboxItem, error) {
	return r.checklistDeliveries(cl, events, now)
}
