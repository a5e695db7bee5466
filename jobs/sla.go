package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// SLAStore is what the SLA job reads and writes.
type SLAStore interface {
	StateChanges(ctx context.Context, key string, from, to time.Time) ([]store.StateChange, error)
	SetMonthUptime(ctx context.Context, key, month string, pct float64) error
	EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
}

// StatusCakePeriods reads a test's up/down periods (integrations/statuscake satisfies it).
type StatusCakePeriods interface {
	Periods(ctx context.Context, id string, from, to time.Time) ([]integrations.Period, error)
}

// SLA computes every site's uptime this month, stores it for status, and
// raises one "SLA incident" per site per month (Slack and PagerDuty) as soon
// as the month can no longer meet the site's target.
type SLA struct {
	U        *Uptime
	Store    SLAStore
	Periods  StatusCakePeriods // nil without StatusCake
	Location *time.Location
	Nudge    func()
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
	items, err := slaItems(site, month, pct, down, allowed, now)
	if err != nil {
		return err
	}
	queued, err := s.Store.EnqueueOnce(ctx, "sla:"+site.Key+":"+month, 40*24*time.Hour, now, items...)
	if err != nil || !queued {
		return err
	}
	if s.Nudge != nil {
		s.Nudge()
	}
	return nil
}

// periods are the site's up/down periods of the month so far: recorded
// state changes for own probes, StatusCake's periods for its tests.
func (s SLA) periods(ctx context.Context, site UptimeSite, from, now time.Time) ([]integrations.Period, error) {
	if site.StatusCakeID != "" {
		if s.Periods == nil {
			return nil, nil
		}
		return s.Periods.Periods(ctx, site.StatusCakeID, from, now)
	}
	changes, err := s.Store.StateChanges(ctx, site.Key, from, now)
	if err != nil {
		return nil, err
	}
	out := make([]integrations.Period, 0, len(changes))
	for i, c := range changes {
		p := integrations.Period{State: integrations.CheckState(c.State), Start: c.At}
		if i+1 < len(changes) {
			p.End = changes[i+1].At
		}
		out = append(out, p)
	}
	return out, nil
}

// slaItems announce a breach: a message in the site's channel and a PagerDuty incident.
func slaItems(site UptimeSite, month string, pct float64, down, allowed time.Duration, now time.Time) ([]store.OutboxItem, error) {
	text := fmt.Sprintf(":red_circle: *SLA breached* for *%s* (%s) in %s: uptime %.3f %% against a target of %g %%. "+
		"Down %s this month; the month allowed %s.", chat.Escape(site.Name), chat.Escape(site.Client), month, pct, site.SLATarget, human(down), human(allowed))
	post, err := store.NewOutboxItem(kindSlackPost, "sla/"+site.Key, postPayload{Channel: site.Channel, Text: text}, now)
	if err != nil {
		return nil, err
	}
	items := []store.OutboxItem{post}
	if site.PagerRef != "" {
		ev := integrations.Alert{DedupKey: "opsbot/sla/" + site.Key + "/" + month, Action: "trigger", At: now,
			Summary: fmt.Sprintf("SLA breached: %s (%s) %.3f%% < %g%% in %s", site.Name, site.Client, pct, site.SLATarget, month),
			Source:  cmp.Or(site.URL, site.Name), Severity: integrations.SeverityError, Group: site.Client, Class: "sla",
			Component: site.Name, Details: map[string]any{"uptime_percent": pct, "target_percent": site.SLATarget, "down": down.String()}}
		pd, err := store.NewOutboxItem(kindPager, "sla/"+site.Key, pagerPayload{Ref: site.PagerRef, Event: ev}, now)
		if err != nil {
			return nil, err
		}
		items = append(items, pd)
	}
	return items, nil
}
