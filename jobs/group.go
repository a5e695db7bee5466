package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// Grouping: when one of a client's EC2 instances fails its status checks,
// the client's sites on it go down in the same minutes. Its alert (the
// parent) gathers the client's site alerts that fire within the group
// window — before it (adopted: they already have their message and page)
// or after it (suppressed: no message or page of their own) — and lists
// them in its one message. Children still resolve on their own; when the
// parent closes, a child still down alerts on its own.

type observeFn func(a *store.Alert) store.Transition

// observeUnderGroup observes a failing site of a client that may have a
// gathering alert: a site alert that fires within the window of it is
// suppressed and listed there, in the same transaction.
func (al *Alerter) observeUnderGroup(ctx context.Context, subj Subject, at time.Time, obs observeFn) (store.Transition, error) {
	parentKey, err := al.store.AlertGroup(ctx, subj.Client)
	if err != nil {
		return store.NoChange, err
	}
	if parentKey == "" || parentKey == subj.Key {
		var tr store.Transition
		_, err := al.store.UpdateAlert(ctx, subj.Key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
			tr = obs(a)
			return announce(a, tr, "", at)
		})
		return tr, err
	}
	var tr store.Transition
	_, err = al.store.UpdateAlerts(ctx, []string{subj.Key, parentKey}, at, func(as []*store.Alert) ([]store.OutboxItem, error) {
		child, parent := as[0], as[1]
		tr = obs(child)
		if tr == store.Fired && parent.Gathering && parent.Active() && within(child.FiredAt, parent.FiredAt, al.window) {
			child.Suppressed = true
			parent.Gather(child)
			line := fmt.Sprintf(":red_circle: *%s* is down too: %s. Gathered here, not paged on its own.",
				chat.Escape(child.Subject), chat.Escape(truncate(child.LastError, 300)))
			return parentItems(parent, line, at)
		}
		return announce(child, tr, "", at)
	})
	return tr, err
}

// observeGathering observes a failing gathering subject: when it fires it
// starts gathering (unless another alert of the client already does) and
// adopts the client's site alerts that fired within the window before it.
func (al *Alerter) observeGathering(ctx context.Context, subj Subject, at time.Time, obs observeFn) (store.Transition, error) {
	cur, _, err := al.store.GetAlert(ctx, subj.Key)
	if err != nil {
		return store.NoChange, err
	}
	keys := []string{subj.Key}
	other := ""
	if !cur.Active() {
		if other, err = al.store.AlertGroup(ctx, subj.Client); err != nil {
			return store.NoChange, err
		}
		if other != "" && other != subj.Key {
			keys = append(keys, other)
		}
		all, err := al.store.Alerts(ctx)
		if err != nil {
			return store.NoChange, err
		}
		for _, a := range all {
			if a.Client == subj.Client && a.Monitor == "uptime" && a.Active() && a.Parent == "" && within(a.FiredAt, at, al.window) {
				keys = append(keys, a.Key)
			}
		}
	}
	var tr store.Transition
	_, err = al.store.UpdateAlerts(ctx, keys, at, func(as []*store.Alert) ([]store.OutboxItem, error) {
		parent := as[0]
		tr = obs(parent)
		if tr != store.Fired {
			return announce(parent, tr, "", at)
		}
		rest := as[1:]
		if len(keys) > 1 && keys[1] == other {
			if o := rest[0]; o.Gathering && o.Active() {
				return announce(parent, tr, "", at) // the client's other instance gathers its sites
			}
			rest = rest[1:]
		}
		parent.Gathering = true
		var adopted []*store.Alert
		for _, c := range rest {
			if c.Active() && c.Parent == "" && within(c.FiredAt, parent.FiredAt, al.window) {
				parent.Gather(c)
				adopted = append(adopted, c)
			}
		}
		items, err := announce(parent, tr, "", at)
		if err != nil {
			return nil, err
		}
		for _, c := range adopted {
			line := fmt.Sprintf(":link: Gathered under *%s* (%s): it failed in the same minutes.", chat.Escape(parent.Subject), chat.Escape(truncate(parent.LastError, 200)))
			it, err := store.NewOutboxItem(kindSlackThread, c.Key, threadPayload{Text: line, FiredAt: c.FiredAt}, at)
			if err != nil {
				return nil, err
			}
			items = append(items, it)
		}
		return items, nil
	})
	return tr, err
}

// afterTransition keeps a group in step once a's transition is saved: a
// child that changed is noted on its parent's message, and a parent that
// closed releases its children.
func (al *Alerter) afterTransition(ctx context.Context, a store.Alert, tr store.Transition, at time.Time) error {
	switch {
	case tr == store.NoChange:
	case a.Parent != "":
		return al.noteOnParent(ctx, a.Key, a.Parent, tr, at)
	case len(a.Children) > 0 && !a.Active():
		return al.releaseChildren(ctx, a, at)
	}
	return nil
}

// noteOnParent updates the parent's list (and message) with the child's
// transition, and tells its thread.
func (al *Alerter) noteOnParent(ctx context.Context, childKey, parentKey string, tr store.Transition, at time.Time) error {
	_, err := al.store.UpdateAlerts(ctx, []string{childKey, parentKey}, at, func(as []*store.Alert) ([]store.OutboxItem, error) {
		child, parent := as[0], as[1]
		if child.Parent != parent.Key {
			return nil, nil
		}
		parent.NoteChild(child)
		line := ""
		switch tr {
		case store.Recovered:
			line = fmt.Sprintf(":large_green_circle: *%s* recovered after %s down.", chat.Escape(child.Subject), human(child.Downtime(at)))
		case store.Resolve:
			line = fmt.Sprintf(":large_green_circle: *%s* was resolved by <@%s>.", chat.Escape(child.Subject), child.ResolvedBy)
		case store.Acknowledge:
			line = fmt.Sprintf(":large_orange_circle: *%s* was acknowledged by <@%s>.", chat.Escape(child.Subject), child.AckedBy)
		default:
			return nil, nil
		}
		return parentItems(parent, line, at)
	})
	return err
}

// releaseChildren lets each child of a closed parent stand alone: one
// still down alerts on its own now (see store.Alert.Release).
func (al *Alerter) releaseChildren(ctx context.Context, parent store.Alert, at time.Time) error {
	for _, c := range parent.Children {
		if c.Status == store.AlertResolved {
			continue
		}
		if err := al.release(ctx, c.Key, parent.Key, at); err != nil {
			return err
		}
	}
	return nil
}

func (al *Alerter) release(ctx context.Context, childKey, parentKey string, at time.Time) error {
	_, err := al.store.UpdateAlerts(ctx, []string{childKey, parentKey}, at, func(as []*store.Alert) ([]store.OutboxItem, error) {
		child, parent := as[0], as[1]
		if child.Parent != parent.Key || parent.Active() {
			return nil, nil
		}
		tr := child.Release(at)
		if child.Parent == "" {
			parent.NoteChild(child)
		}
		items, err := announce(child, tr, "", at)
		if err != nil || tr != store.Fired {
			return items, err
		}
		line := fmt.Sprintf(":red_circle: *%s* is still down: it alerts on its own now.", chat.Escape(child.Subject))
		more, err := parentItems(parent, line, at)
		return append(items, more...), err
	})
	return err
}

// parentItems update the parent's message (its list of sites) and add
// line to its thread.
func parentItems(parent *store.Alert, line string, at time.Time) ([]store.OutboxItem, error) {
	msg, err := store.NewOutboxItem(kindSlackAlert, parent.Key, messagePayload(parent, at), at)
	if err != nil {
		return nil, err
	}
	th, err := store.NewOutboxItem(kindSlackThread, parent.Key, threadPayload{Text: line, FiredAt: parent.FiredAt}, at)
	return []store.OutboxItem{msg, th}, err
}

// within reports whether a and b are at most d apart.
func within(a, b time.Time, d time.Duration) bool {
	diff := a.Sub(b)
	return !a.IsZero() && !b.IsZero() && diff <= d && diff >= -d
}

// childLines render a parent's list of sites for its message.
func childLines(children []store.ChildAlert) string {
	down := 0
	lines := make([]string, 0, len(children))
	for _, c := range children {
		if c.Status == store.AlertResolved {
			lines = append(lines, fmt.Sprintf(":large_green_circle: %s — recovered", chat.Escape(c.Name)))
			continue
		}
		down++
		why := ""
		if c.Error != "" {
			why = ": " + chat.Escape(truncate(c.Error, 120))
		}
		lines = append(lines, fmt.Sprintf(":red_circle: %s — down%s", chat.Escape(c.Name), why))
	}
	slices.Sort(lines)
	head := fmt.Sprintf("*Sites affected* (%d of %d still down)\n", down, len(children))
	return truncate(head+strings.Join(lines, "\n"), 2900)
}
