package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/383project/opsbot/store"
)

// AlertTimerStore is what the alert timers read; *store.Store satisfies it.
type AlertTimerStore interface {
	Alerts(ctx context.Context) ([]store.Alert, error)
	GetAlert(ctx context.Context, key string) (store.Alert, bool, error)
	// Mutes are the silences and change windows in force at now.
	Mutes(ctx context.Context, now time.Time) ([]store.Silence, error)
}

// AlertTimers is the scheduled job that moves alerts on with time, not
// with checks: an open alert climbs its client's escalation ladder, and an
// alert that crossed its threshold while muted fires as soon as its silence
// or change window ends, if it is still failing. A silenced alert does not
// escalate until its silence ends.
type AlertTimers struct {
	Alerter *Alerter
	Store   AlertTimerStore
	Ladder  func(client string) []EscalationStep // nil: no escalation
	Now     func() time.Time
	Log     *slog.Logger
}

// Name implements Job.
func (t AlertTimers) Name() string { return "alert-timers" }

// Run looks at every alert once.
func (t AlertTimers) Run(ctx context.Context) error {
	clock := t.Now
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	alerts, err := t.Store.Alerts(ctx)
	if err != nil {
		return fmt.Errorf("jobs: alert timers: %w", err)
	}
	var mutes []store.Silence
	loaded := false
	muted := func(a store.Alert) (bool, error) {
		if !loaded {
			if mutes, err = t.Store.Mutes(ctx, now); err != nil {
				return false, fmt.Errorf("jobs: alert timers: mutes: %w", err)
			}
			loaded = true
		}
		return slices.ContainsFunc(mutes, func(s store.Silence) bool { return s.Matches(a.Client, a.Site, now) }), nil
	}
	var errs []error
	for _, a := range alerts {
		switch {
		case a.Active() && a.Suppressed:
			// Its parent escalates; it stands alone once the parent closed
			// (normally at once; here after a crash in between).
			if p, ok, err := t.Store.GetAlert(ctx, a.Parent); err != nil || !ok || !p.Active() {
				errs = append(errs, err, t.Alerter.release(ctx, a.Key, a.Parent, now))
			}
		case a.Active() && a.Monitor != "sla" && a.Monitor != FindingMonitor:
			// (A month's breach does not get worse by the hour; a finding
			// is open until fixed and routed by its severity.)
			var ladder []EscalationStep
			if t.Ladder != nil {
				ladder = t.Ladder(a.Client)
			}
			if a.Escalated >= len(ladder) || now.Before(a.FiredAt.Add(ladder[a.Escalated].After)) {
				continue
			}
			if m, err := muted(a); err != nil || m {
				errs = append(errs, err)
				continue
			}
			_, err := t.Alerter.Escalate(ctx, a.Key, ladder, now)
			errs = append(errs, err)
		case a.Muted && a.Failing():
			if m, err := muted(a); err != nil || m {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, t.Alerter.Unmute(ctx, a.Key, now))
		}
	}
	if err := errors.Join(errs...); err != nil {
		cmp.Or(t.Log, slog.New(slog.DiscardHandler)).Warn("alert timers", "err", err)
		return err
	}
	return nil
}

// Unmute fires the alert under key if it crossed its threshold while muted
// and still fails (see store.Alert.Unmute).
func (al *Alerter) Unmute(ctx context.Context, key string, now time.Time) error {
	var tr store.Transition
	_, err := al.store.UpdateAlert(ctx, key, now, func(a *store.Alert) ([]store.OutboxItem, error) {
		tr = a.Unmute(now)
		return announce(a, tr, "", now)
	})
	if err != nil {
		return fmt.Errorf("jobs: unmute %s: %w", key, err)
	}
	if tr != store.NoChange && al.nudge != nil {
		al.nudge()
	}
	return nil
}
