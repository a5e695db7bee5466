package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// AskWaiver asks to set an item aside until expires: anyone who may tick
// it may ask, with a category, a reason and an expiry within MaxWaiver. It
// counts once a different admin or security person approves it.
func (c *Checklist) AskWaiver(key string, p Principal, category, reason string, expires, at time.Time) error {
	if err := c.writable(); err != nil {
		return err
	}
	it, err := c.Item(key)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case !MayTick(p, *it, c.Client):
		return refuse("Only someone who may tick %q may ask to waive it.", it.Title)
	case it.State == ItemNA:
		return refuse("%q does not apply to this launch: nothing to waive.", it.Title)
	case !slices.Contains(WaiverCategories, category):
		return refuse("Pick a category: %s.", strings.Join(WaiverCategories, ", "))
	case reason == "":
		return refuse("A waiver needs a reason: why may the launch go ahead without %q?", it.Title)
	case len(reason) > maxReason:
		return refuse("The reason is %d characters long; keep it under %d.", len(reason), maxReason)
	case !expires.After(at):
		return refuse("The expiry must be in the future.")
	case expires.Sub(at) > MaxWaiver:
		return refuse("A waiver runs at most 90 days; ask again when it ends.")
	}
	it.Waiver = &ItemWaiver{Category: category, Reason: reason, Expires: expires, AskedBy: p.UserID, AskedAt: at}
	c.note(p.UserID, "checklist.waiver_ask", key, at,
		fmt.Sprintf("⚠️ <@%s> asks to waive %s until %s (%s): waiting for a second person (admin or security) to approve", p.UserID, it.Title, expires.UTC().Format("2006-01-02"), category), reason)
	return nil
}

// ApproveWaiver approves an item's waiver: by an admin or security person
// other than the one who asked (four eyes).
func (c *Checklist) ApproveWaiver(key string, p Principal, at time.Time) error {
	if err := c.writable(); err != nil {
		return err
	}
	it, err := c.Item(key)
	if err != nil {
		return err
	}
	w := it.Waiver
	switch {
	case w == nil:
		return refuse("Nobody asked to waive %q.", it.Title)
	case w.ApprovedBy != "":
		return refuse("The waiver of %q was already approved by <@%s>.", it.Title, w.ApprovedBy)
	case !p.HasRole(Admin) && !p.HasRole(Security):
		return refuse("A waiver is approved by an admin or a security person.")
	case w.AskedBy == p.UserID:
		return refuse("You asked for this waiver: a different person (admin or security) must approve it.")
	case !at.Before(w.Expires):
		return refuse("The waiver asked for %q has already expired; ask again.", it.Title)
	}
	w.ApprovedBy, w.ApprovedAt = p.UserID, at
	c.note(p.UserID, "checklist.waiver_approve", key, at,
		fmt.Sprintf("⚠️ %s waived until %s: asked by <@%s>, approved by <@%s>", it.Title, w.Expires.UTC().Format("2006-01-02"), w.AskedBy, p.UserID), w.Reason)
	return nil
}

// ExpireWaivers ends the waivers whose expiry passed: the item fails again
// (unless it was proven meanwhile). It returns the items concerned.
func (c *Checklist) ExpireWaivers(at time.Time) []string {
	if c.SignedOff() {
		return nil
	}
	var out []string
	for i := range c.Items {
		it := &c.Items[i]
		if it.Waiver == nil || at.Before(it.Waiver.Expires) {
			continue
		}
		w := it.Waiver
		it.Waiver = nil
		out = append(out, it.Key)
		if it.State == ItemVerified || it.State == ItemAttested {
			continue
		}
		it.State, it.At = ItemFailing, at
		it.Detail = "its waiver expired on " + w.Expires.UTC().Format("2006-01-02") + " (" + w.Reason + ")"
		c.note("", "checklist.waiver_expire", it.Key, at, fmt.Sprintf("❌ the waiver of %s expired: it holds the launch back again", it.Title), w.Reason)
	}
	return out
}

// Blockers are the items that hold the sign-off back at now: anything not
// verified (and fresh), attested, waived or not applicable.
func (c *Checklist) Blockers(now time.Time) []ChecklistItem {
	var out []ChecklistItem
	for _, it := range c.Items {
		switch it.Effective(now) {
		case ItemVerified, ItemAttested, ItemWaived, ItemNA:
		default:
			out = append(out, it)
		}
	}
	return out
}

// BlockerTitles names the blockers for a refusal.
func BlockerTitles(items []ChecklistItem) string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.Title
	}
	return strings.Join(names, ", ")
}

// SignOff records an admin's sign-off when nothing holds it back; the
// checklist is read-only afterwards.
func (c *Checklist) SignOff(p Principal, at time.Time) error {
	if err := c.writable(); err != nil {
		return err
	}
	if !p.HasRole(Admin) {
		return refuse("Only an admin signs a launch off.")
	}
	if b := c.Blockers(at); len(b) > 0 {
		c.note(p.UserID, "checklist.signoff_refused", "", at, "🛑 sign-off by <@"+p.UserID+"> refused: held back by "+BlockerTitles(b), "")
		return &SignOffRefused{Blockers: b}
	}
	c.SignedOffBy, c.SignedOffAt = p.UserID, at
	c.note(p.UserID, "checklist.signoff", "", at, "🚀 launch signed off by <@"+p.UserID+">", "")
	return nil
}

// SignOffRefused names the items that hold a sign-off back. The refusal is
// itself recorded (the update is saved with its history line).
type SignOffRefused struct{ Blockers []ChecklistItem }

func (e *SignOffRefused) Error() string {
	return "sign-off refused: held back by " + BlockerTitles(e.Blockers)
}

// BeginRun starts a re-verification (refused while one runs).
// channel is where it was asked (a refusal is shown there to by alone).
func (c *Checklist) BeginRun(by, channel string, signOff bool, at time.Time, budget time.Duration) error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.Run != nil {
		return refuse("A re-verification started by <@%s> is still running; the checklist's message shows its progress.", c.Run.By)
	}
	c.Run = &ChecklistRun{By: by, Channel: channel, SignOff: signOff, Started: at, Deadline: at.Add(budget)}
	return nil
}

// TakeRun counts a replica taking the re-verification up: a first run, or
// a resume after the replica carrying it stopped (every item is read
// again, so the progress starts over), which the thread and the audit log
// show.
func (c *Checklist) TakeRun(at time.Time) {
	if c.Run == nil {
		return
	}
	c.Run.Runs++
	if c.Run.Runs > 1 {
		c.Run.Done, c.Run.Note = 0, ""
		c.note("", "checklist.run_resumed", "", at, "🔄 re-verification resumed: the opsbot replica carrying it stopped; every verified item is read again", "")
	}
}

// Verified lists the keys of the items a re-verification runs.
func (c *Checklist) Verified() []ItemSpec {
	var out []ItemSpec
	for _, it := range c.Items {
		if it.Kind == ItemKindVerified && !(it.State == ItemNA && it.When != "") {
			out = append(out, it.ItemSpec)
		}
	}
	return out
}
