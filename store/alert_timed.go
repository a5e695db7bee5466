package store

import "time"

// Transitions that come from time or from a monitor's own judgement rather
// than from a check passing or failing.

// GoStale closes an open alert whose source has stopped sending data (a
// metric CloudWatch no longer reports): it can't be said to be in breach
// any more, nor to have recovered. A failing run in progress is forgotten.
func (a *Alert) GoStale(at time.Time) Transition {
	a.Failures, a.Successes = 0, 0
	if !a.active() {
		return NoChange
	}
	a.Status, a.ResolvedAt, a.ResolvedBy, a.Stale = AlertResolved, at, "", true
	return Stale
}

// Raise fires a one-off alert (an SLA breach) with why: once per key, as
// it never recovers by itself; only a person resolves it.
func (a *Alert) Raise(why string, at time.Time) Transition {
	if !a.FiredAt.IsZero() || a.active() {
		return NoChange
	}
	a.LastError, a.FailingSince, a.LastChecked = why, at, at
	a.fire(at)
	return Fired
}

// Unmute fires an alert that crossed its threshold while silenced and is
// still failing, once nothing silences it any more (the silence or change
// window ended): at once, not at the next check.
func (a *Alert) Unmute(at time.Time) Transition {
	if !a.Muted || a.active() || a.Failures == 0 {
		return NoChange
	}
	a.fire(at)
	return Fired
}
