package store

import (
	"context"
	"time"
)

// Mutes are what silences alerts at now: the silences people set, and the
// change windows (ChangeWindows). Monitors consult it before a failing
// subject alerts; status shows what it mutes as ⏸️.
func (s *Store) Mutes(ctx context.Context, now time.Time) ([]Silence, error) {
	sils, err := s.Silences(ctx, now)
	if err != nil {
		return nil, err
	}
	windows, err := s.ChangeWindows(ctx, now)
	if err != nil {
		return nil, err
	}
	return append(sils, windows...), nil
}

// ChangeWindows are the windows in force at now of the client's scheduled
// changes (a change from scheduled on, until it ends, for its proposal's
// window) and the deploy freezes, each as a silence of the whole client
// naming the change. During one, the client's uptime and server alerts
// are held back; whatever still fails when it ends alerts then.
func (s *Store) ChangeWindows(ctx context.Context, now time.Time) ([]Silence, error) {
	changes, err := s.OpenChanges(ctx)
	if err != nil {
		return nil, err
	}
	freezes, err := s.ActiveFreezes(ctx, now)
	if err != nil {
		return nil, err
	}
	var out []Silence
	seen := map[string]bool{}
	for _, cr := range changes {
		p := cr.Proposal
		if p == nil || p.WindowStart.IsZero() || !cr.InWindowState() || now.Before(p.WindowStart) || !now.Before(p.WindowEnd) {
			continue
		}
		seen[cr.ID] = true
		out = append(out, Silence{ID: cr.ID, Client: cr.Client, Reason: "change window: " + cr.Title, CreatedBy: cr.RequestedBy,
			Start: p.WindowStart, End: p.WindowEnd, Change: cr.ID})
	}
	for _, f := range freezes {
		if !seen[f.ChangeID] {
			out = append(out, Silence{ID: f.ChangeID, Client: f.Client, Reason: "deploy freeze: " + f.Reason, CreatedBy: f.OpenedBy,
				Start: f.Start, End: f.End, Change: f.ChangeID})
		}
	}
	return out, nil
}

// InWindowState reports whether the change has been scheduled and has not
// ended: its window, while it lasts, is a change window.
func (c ChangeRequest) InWindowState() bool {
	switch c.State {
	case ChangeScheduled, ChangeProvisioning, ChangeSmokeTesting, ChangeCutOver, ChangeVerified, ChangeRetired:
		return true
	}
	return false
}
