package commands

import (
	"fmt"
	"slices"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// Who hears what when a change request moves (beyond its message, thread
// and the change log to finance):
//   - its requester, in a DM, when it is rejected, rolled back or closed
//     (unless they did it themselves);
//   - finance (its channel) when it is cut over, and the client's
//     stakeholders (a DM each) when it is cut over or rolled back; finance
//     hears of a roll-back from the change log entry it gets then.
//
// audienceNotices is called from transition for every state change, so a
// step run in the background (cut-over, roll-back) is covered as much as
// a click: whatever moves a request through transition tells these people.

// holdersIn are the approval holders of client among all grants.
func holdersIn(all map[string][]store.Grant, client string) approvalHolders {
	var h approvalHolders
	for user, grants := range all {
		if slices.Contains(grants, store.Grant{Role: store.Stakeholder, Client: client}) {
			h.stakeholders = append(h.stakeholders, user)
		}
		if slices.Contains(grants, store.Grant{Role: store.Finance}) {
			h.finance = append(h.finance, user)
		}
	}
	slices.Sort(h.stakeholders)
	slices.Sort(h.finance)
	return h
}

// audienceNotices are the notices of cr's move from state before, given
// every role grant (read before the transaction).
func (c *Call) audienceNotices(before store.ChangeState, cr store.ChangeRequest, grants map[string][]store.Grant, now time.Time) ([]store.OutboxItem, error) {
	if cr.State == before {
		return nil, nil
	}
	by := ""
	if n := len(cr.History); n > 0 {
		by = cr.History[n-1].By
	}
	var items []store.OutboxItem
	post := func(to, text string) error {
		it, err := store.NewOutboxItem(store.KindSlackPost, "notify/"+cr.ID+"/"+to, store.PostPayload{Channel: to, Text: text}, now)
		items = append(items, it)
		return err
	}
	what := fmt.Sprintf("*%s* · %s · %s", Escape(cr.ID), c.r.clientName(cr.Client), Escape(truncate(cr.Title, 120)))
	if link := chat.MessageURL(cr.Channel, cr.MessageTS); link != "" {
		what += " (<" + link + "|open>)"
	}
	who := "opsbot"
	if by != "" {
		who = mention(by)
	}
	reason := ""
	if r := cr.Reason(); r != "" {
		reason = " Reason: " + Escape(truncate(r, 500))
	}
	if cr.RequestedBy != "" && cr.RequestedBy != by {
		var text string
		switch cr.State {
		case store.ChangeRejected:
			text = fmt.Sprintf("⛔ Your change request %s was *rejected* by %s.%s", what, who, reason)
		case store.ChangeRolledBack:
			text = fmt.Sprintf("↩️ Your change request %s was *rolled back* by %s: DNS is back to the records from before the cut-over.%s", what, who, reason)
		case store.ChangeClosed:
			text = fmt.Sprintf("✅ Your change request %s is *closed* (%s, by %s). It is in `/ops changelog %s`.", what, cr.Outcome(), who, now.UTC().Format("2006-01"))
		}
		if text != "" {
			if err := post(cr.RequestedBy, text); err != nil {
				return nil, err
			}
		}
	}
	var text string
	switch cr.State {
	case store.ChangeCutOver:
		text = fmt.Sprintf("🔀 %s is *cut over* (by %s): the new infrastructure is live. The old records are kept until it is verified.", what, who)
		if fin := c.r.deps.ChangeSettings.FinanceChannel; fin != "" {
			if err := post(fin, text); err != nil {
				return nil, err
			}
		}
	case store.ChangeRolledBack:
		text = fmt.Sprintf("↩️ %s is *rolled back* (by %s): DNS is back to the records from before the cut-over.%s", what, who, reason)
	default:
		return items, nil
	}
	for _, u := range holdersIn(grants, cr.Client).stakeholders {
		if u == by || u == cr.RequestedBy && cr.State == store.ChangeRolledBack {
			continue // told above, or did it
		}
		if err := post(u, text); err != nil {
			return nil, err
		}
	}
	return items, nil
}
