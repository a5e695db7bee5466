package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// SLAStore is what the SLA job reads and writes.
type SLAStore interface {
	// Outage is how long a site was down, and its state unknown, between
	// from and to (see store.Outage).
	Outage(ctx context.Context, key string, from, to time.Time) (down, unknown time.Duration, err error)
	SetMonthUptime(ctx context.Context, key, month string, pct float64) error
}

// StatusCakePeriods reads a test's up/down periods (integrations/statuscake satisfies it).
type StatusCakePeriods interface {
	Periods(ctx context.Context, id string, from, to time.Time) ([]integrations.Period, error)
}

// SLA computes every site's uptime this month, stores it for status, and
// raises one "SLA incident" per site per month as soon as the month can no
// longer meet the site's target: an alert (key "sla/<client>/<site>/<month>")
// with one message carrying Acknowledge and Resolve, and a PagerDuty
// incident, both closed by a person.
type SLA struct {
	U        *Uptime
	Store    SLAStore
	Periods  StatusCakePeriods // nil without StatusCake
	Location *time.Location
	Log      *slog.Logger
}

// Name implements Job.
func (s SLA) Name() string { return "sla" }

// CatchUpWindow implements CatchUp: after an outage of Redis or of every
// replica, the month's SLA is judged at once rather than at the next fire.
func (s SLA) CatchUpWindow() time.Duration { return time.Hour }

// Run checks every site once.
func (s SLA) Run(ctx context.Context) error {
	now := s.U.now().In(cmp.Or(s.Location, time.UTC))
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	monthEnd := monthStart.AddDate(0, 1, 0)
	month := monthStart.Format("2006-01")
	var firstErr error
	for _, site := range s.U.Sites() {
		if err := s.check(ctx, site, monthStart, monthEnd, month, now); err != nil {
			cmp.Or(s.Log, slog.New(slog.DiscardHandler)).Warn("sla check failed", "site", site.Key, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (s SLA) check(ctx context.Context, site UptimeSite, monthStart, monthEnd time.Time, month string, now time.Time) error {
	periods, err := s.periods(ctx, site, monthStart, now)
	if err != nil {
		return err
	}
	pct, down := integrations.MonthUptime(periods, monthStart, now)
	if err := s.Store.SetMonthUptime(ctx, site.Key, month, pct); err != nil {
		return err
	}
	allowed := time.Duration((1 - site.SLATarget/100) * float64(monthEnd.Sub(monthStart)))
	if site.SLATarget <= 0 || down <= allowed {
		return nil
	}
	why := fmt.Sprintf("uptime %.3f %% against a target of %g %% in %s; down %s this month, the month allowed %s",
		pct, site.SLATarget, month, human(down), human(allowed))
	return s.U.alerter.Raise(ctx, slaSubject(site, month), why, now)
}

// slaSubject is a site's SLA incident of one month.
func slaSubject(site UptimeSite, month string) Subject {
	subj := site.Subject
	subj.Key, subj.Monitor, subj.Name = "sla/"+site.Client+"/"+site.Site+"/"+month, "sla", site.Name
	subj.Severity, subj.Gathers = integrations.SeverityError, false
	return subj
}

// Raise fires the one-off alert of subj with why (see store.Alert.Raise).
func (al *Alerter) Raise(ctx context.Context, subj Subject, why string, at time.Time) error {
	return al.apply(ctx, subj, at, "raise", func(a *store.Alert) store.Transition { return a.Raise(why, at) })
}

// periods are the site's up/down periods of the month so far: its outage
// record for own probes, StatusCake's periods for its tests.
func (s SLA) periods(ctx context.Context, site UptimeSite, from, now time.Time) ([]integrations.Period, error) {
	if site.StatusCakeID != "" {
		if s.Periods == nil {
			return nil, nil
		}
		return s.Periods.Periods(ctx, site.StatusCakeID, from, now)
	}
	down, unknown, err := s.Store.Outage(ctx, site.Key, from, now)
	if err != nil {
		return nil, err
	}
	// MonthUptime needs only the totals: the down and unknown time, laid
	// end to end from the month's start.
	return []integrations.Period{
		{State: integrations.StateDown, Start: from, End: from.Add(down)},
		{State: integrations.StateUnknown, Start: from.Add(down), End: from.Add(down + unknown)},
	}, nil
}
