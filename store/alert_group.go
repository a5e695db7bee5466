package store

import (
	"slices"
	"time"
)

// ChildAlert is a site alert as its gathering alert lists it.
type ChildAlert struct {
	Key    string      `json:"key"`
	Name   string      `json:"name"`
	Status AlertStatus `json:"status"` // firing, acknowledged or resolved
	Error  string      `json:"error,omitempty"`
	Since  time.Time   `json:"since,omitzero"` // when it fired
	Until  time.Time   `json:"until,omitzero"` // when it resolved
}

// Gather lists child under a (adding it, or updating its entry) and names a
// as child's parent.
func (a *Alert) Gather(child *Alert) {
	child.Parent = a.Key
	a.noteChild(child)
}

// noteChild records child's current state in a's list.
func (a *Alert) noteChild(child *Alert) {
	entry := ChildAlert{Key: child.Key, Name: child.Subject, Status: child.Status, Error: child.LastError, Since: child.FiredAt}
	if child.Status == AlertResolved {
		entry.Until = child.ResolvedAt
	}
	if i := slices.IndexFunc(a.Children, func(c ChildAlert) bool { return c.Key == child.Key }); i >= 0 {
		a.Children[i] = entry
		return
	}
	a.Children = append(a.Children, entry)
}

// NoteChild updates child's entry in a's list, if a lists it.
func (a *Alert) NoteChild(child *Alert) {
	if slices.ContainsFunc(a.Children, func(c ChildAlert) bool { return c.Key == child.Key }) {
		a.noteChild(child)
	}
}

// Release lets a child stand alone once its parent has closed. One with a
// message of its own just stops naming the parent. A suppressed one still
// failing fires anew (a message and a page of its own, it is down without
// its server now); one already passing checks again stays listed under the
// parent until it recovers, so a site coming back with its server is not
// paged a minute before it recovers.
func (a *Alert) Release(at time.Time) Transition {
	switch {
	case !a.Suppressed || !a.active():
		a.Parent, a.Suppressed = "", false
		return NoChange
	case a.Failures == 0:
		return NoChange
	}
	a.fire(at)
	return Fired
}
