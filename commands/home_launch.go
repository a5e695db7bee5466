package commands

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// homeWaiverWindow is "this week" for waivers about to expire.
const homeWaiverWindow = 7 * 24 * time.Hour

// homeReverifyButtons bounds the Re-verify buttons Home carries.
const homeReverifyButtons = 3

// loadHomeLaunches reads the open launch checklists for an admin, keeping
// those of clients the admin's grants reach.
func (c *Call) loadHomeLaunches(ctx context.Context, d *homeData) error {
	if c.r.deps.Checklists == nil || !c.Principal.HasRole(store.Admin) {
		return nil
	}
	open, err := c.r.deps.Checklists.OpenChecklists(ctx)
	if err != nil {
		return fmt.Errorf("home: launches: %w", err)
	}
	d.launches = []store.Checklist{}
	for _, cl := range open {
		if !cl.SignedOff() && c.Principal.CanFor(store.PermChecklistView, cl.Client) {
			d.launches = append(d.launches, cl)
		}
	}
	slices.SortFunc(d.launches, func(a, b store.Checklist) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return nil
}

// checklistLink is the launch's ID, linked to its message when it has one.
func checklistLink(cl store.Checklist) string {
	if u := chat.MessageURL(cl.Channel, cl.MessageTS); u != "" {
		return "<" + u + "|" + cl.ID + ">"
	}
	return cl.ID
}

// homeLaunches is each launch held back and why: its red items named with
// what failed, then what is only not checked yet; with the launch's own
// Re-verify button (same action and guard as on its message).
func (c *Call) homeLaunches(d homeData) homeSection {
	var lines []string
	var blocks []slack.Block
	ready := 0
	for _, cl := range d.launches {
		blockers := cl.Blockers(c.Now)
		if len(blockers) == 0 {
			ready++
			continue
		}
		var red, waiting []string
		for _, it := range blockers {
			switch st := it.Effective(c.Now); st {
			case store.ItemFailing:
				red = append(red, "❌ *"+Escape(it.Title)+"*: "+Escape(truncate(oneLine(it.Detail), 160)))
			case store.ItemStale:
				waiting = append(waiting, Escape(it.Title)+" (verified too long ago)")
			default:
				waiting = append(waiting, Escape(it.Title))
			}
		}
		line := fmt.Sprintf("🔴 %s %s — %d/%d ready · opened by %s %s", checklistLink(cl), c.clientName(cl.Client),
			len(cl.Items)-len(blockers), len(cl.Items), mention(cl.CreatedBy), slackDate(cl.Created))
		for _, r := range red {
			line += "\n    " + r
		}
		if len(waiting) > 0 {
			line += "\n    ⏳ not checked yet: " + strings.Join(waiting, ", ")
		}
		if cl.Run != nil {
			line += "\n    🔄 re-verifying now (asked by " + mention(cl.Run.By) + ")"
		} else if len(blocks) < homeReverifyButtons {
			blocks = append(blocks, slack.NewActionBlock("home_reverify_"+cl.ID,
				slack.NewButtonBlockElement(actionChecklistVerify, cl.ID, plain("Re-verify "+cl.ID))))
		}
		lines = append(lines, line)
	}
	title := fmt.Sprintf("Launches blocked (%d)", len(lines))
	if len(lines) == 0 {
		lines = []string{fmt.Sprintf("🟢 No launch is held back (%d open).", len(d.launches))}
	}
	if ready > 0 {
		lines = append(lines, fmt.Sprintf("🟢 %d ready to sign off.", ready))
	}
	if len(lines) > homeTop {
		lines = topLines(lines, "launches")
	}
	return homeSection{title: title, lines: lines, blocks: blocks, more: "`/ops checklist`",
		hint: "`/ops checklist` lists every launch · `/ops checklist show <id>` shows one with its buttons"}
}

// homeWaivers is the approved waivers of open launches that expire within
// the week, soonest first: when one expires its item holds the launch back
// again.
func (c *Call) homeWaivers(d homeData) homeSection {
	type waived struct {
		cl store.Checklist
		it store.ChecklistItem
	}
	var soon []waived
	for _, cl := range d.launches {
		for _, it := range cl.Items {
			if w := it.Waiver; w != nil && w.ApprovedBy != "" && w.Expires.After(c.Now) && !w.Expires.After(c.Now.Add(homeWaiverWindow)) {
				soon = append(soon, waived{cl, it})
			}
		}
	}
	slices.SortFunc(soon, func(a, b waived) int {
		return cmp.Or(a.it.Waiver.Expires.Compare(b.it.Waiver.Expires), strings.Compare(a.cl.ID+a.it.Key, b.cl.ID+b.it.Key))
	})
	items := make([]string, len(soon))
	for i, s := range soon {
		w := s.it.Waiver
		items[i] = fmt.Sprintf("⚠️ %s %s — *%s* waived until %s (in %s)\n    %s: %s · asked by %s, approved by %s",
			checklistLink(s.cl), c.clientName(s.cl.Client), Escape(s.it.Title), slackDate(w.Expires), formatDuration(w.Expires.Sub(c.Now)),
			Escape(w.Category), Escape(truncate(oneLine(w.Reason), 200)), mention(w.AskedBy), mention(w.ApprovedBy))
	}
	lines := topLines(items, "waivers")
	if len(lines) == 0 {
		lines = []string{"🟢 No waiver of an open launch expires in the next 7 days."}
	}
	return homeSection{title: fmt.Sprintf("Waivers expiring this week (%d)", len(soon)), lines: lines, more: "`/ops checklist`",
		hint: "An expired waiver turns its item red again and holds the launch back · `/ops checklist show <id>` to renew or fix it"}
}
