package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/383project/opsbot/store"
)

// runFindingsAccept is `findings accept <id> <duration> <reason...>
// [--false-positive]`: the finding stays quiet until the end, audited; if
// it alerted, its alert is resolved (message updated, page closed). When the
// acceptance ends and the finding is still open, it alerts again.
func runFindingsAccept(ctx context.Context, c *Call, fs FindingsStore) (Reply, error) {
	if err := c.Require(store.PermFindingsAccept, "accept a finding's risk or mark a false positive"); err != nil {
		return Reply{}, err
	}
	a, err := parseAcceptArgs(c.Args[1:])
	if err != nil {
		return Reply{}, err
	}
	example := acceptExample
	if a.falsePositive {
		example = fpExample
	}
	clients := c.findingClients(store.PermFindingsAccept)
	found, err := fs.FindingsByPrefix(ctx, clients, a.id)
	if err != nil {
		return Reply{}, err
	}
	switch {
	case len(found) == 0:
		return Reply{}, userErrorf(example, "No finding has an ID starting with `%s`. `/ops findings` lists them with their IDs.", Escape(a.id))
	case len(found) > 1:
		ids := make([]string, 0, min(len(found), 5))
		for _, f := range found[:min(len(found), 5)] {
			ids = append(ids, "`"+Escape(f.ID)+"` ("+Escape(f.Client)+")")
		}
		return Reply{}, userErrorf(example, "`%s` starts %d finding IDs (%s); type more of the ID.", Escape(a.id), len(found), strings.Join(ids, ", "))
	}
	f := found[0]
	if !f.State.Open() {
		return Reply{}, userErrorf("/ops findings "+f.Client+" --all", "That finding (%s) is fixed since %s; there is nothing to accept.", Escape(truncate(f.Title, 80)), slackDate(f.FixedAt))
	}
	acc := store.Acceptance{ID: f.ID, Client: f.Client, Until: c.Now.Add(a.d), Reason: a.reason, By: c.User.ID, At: c.Now, FalsePositive: a.falsePositive}
	err = fs.AcceptFinding(ctx, acc, f.Title)
	unconfirmed := errors.Is(err, store.ErrNotReplicated)
	switch {
	case errors.Is(err, store.ErrFindingNotFound):
		return Reply{}, userErrorf(example, "That finding is gone (the client's findings were cleared); nothing was stored.")
	case err != nil && !unconfirmed:
		if storeTrouble(err) {
			return Reply{}, err
		}
		ref := newRef()
		c.r.log.Error("acceptance refused: not stored with its audit entry", "ref", ref, "finding", f.ID, "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not store the acceptance together with its audit entry, so nothing changed (ref %s). Tell the support team.", ref)}, nil
	}
	quietened := c.quietFindingAlert(ctx, f)
	c.r.nudge() // App Home counts open findings: refresh it
	kind := "Accepted the risk of"
	if a.falsePositive {
		kind = "Marked as a false positive:"
	}
	text := fmt.Sprintf("⏸️ %s %s *%s* (%s, `%s`) until %s (%s): %s. Recorded in the audit log. It stays quiet until then; if it is still open then, it alerts again.",
		kind, severityBadge(f.Severity), Escape(truncate(f.Title, 120)), c.clientName(f.Client), Escape(shortFindingID(f.ID)),
		slackDate(acc.Until), formatDuration(a.d), Escape(a.reason))
	if quietened {
		text += " Its alert is resolved and its PagerDuty incident closed."
	}
	if unconfirmed {
		return Reply{}, err // the router explains "saved on the primary, not yet safely recorded"
	}
	return Reply{Text: text}, nil
}

// quietFindingAlert resolves the finding's alert if it is open, so its
// message says so and its page is closed; it reports whether it did.
func (c *Call) quietFindingAlert(ctx context.Context, f store.Finding) bool {
	al := c.r.deps.Alerts
	if al == nil {
		return false
	}
	key := store.FindingAlertKey(f.Client, f.ID)
	_, err := al.Resolve(ctx, key, c.User.ID, c.Now)
	switch {
	case err == nil:
		if c.r.deps.Nudge != nil {
			c.r.deps.Nudge()
		}
		return true
	case !errors.Is(err, store.ErrAlertNotFiring):
		c.r.log.Warn("finding accepted but its alert not resolved", "alert", key, "err", err)
	}
	return false
}
