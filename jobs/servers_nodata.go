package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// noData reports whether CloudWatch has stopped sending r's CPU metric:
// no point in the last Periods+1 periods (one period of CloudWatch's own
// lag), for a resource that has existed that long. It says why.
func (rd *serverRound) noData(r, was store.ServerResource, cpu integrations.MetricSeries, at time.Time) (string, bool) {
	n := max(rd.eff.Periods, 1)
	period := rd.s.o.Period
	if period <= 0 {
		period = 5 * time.Minute
	}
	grace := time.Duration(n+1) * period
	if l, ok := rd.launched[r.ID]; ok && !l.IsZero() && at.Sub(l) < grace {
		return "", false // too new to have data
	}
	last, ok := cpu.Latest()
	lastAt := last.At
	if !ok {
		if m, had := was.Metric(store.MetricCPU); had {
			lastAt = m.At
		}
	}
	switch {
	case lastAt.IsZero() && was.ID == "":
		return "", false // first seen now: give it a round
	case lastAt.IsZero():
		return fmt.Sprintf("CloudWatch has sent no CPU data for it in the last %s (%d periods or more)", human(rd.lookback()), n), true
	case at.Sub(lastAt) > grace:
		return fmt.Sprintf("CloudWatch has sent no CPU data for %d periods or more (the last point is from %s)", n, date(lastAt)), true
	}
	return "", false
}

func (rd *serverRound) lookback() time.Duration {
	if rd.s.o.Lookback > 0 {
		return rd.s.o.Lookback
	}
	return 3 * time.Hour
}

// stale puts r in its "no data" state: its no-data alert fires, and its
// metric alerts close as stale rather than stay in breach for ever.
func (rd *serverRound) stale(ctx context.Context, r store.ServerResource, why string, at time.Time) error {
	if err := rd.check(ctx, r, serverNoData, false, why, at); err != nil {
		return err
	}
	metrics := []string{serverCPU}
	if r.Kind == store.ResourceDatabase {
		metrics = append(metrics, serverFreeStorage)
	}
	for _, m := range metrics {
		if err := rd.s.al.GoStale(ctx, rd.subject(r, m), at); err != nil {
			return err
		}
	}
	return nil
}

// GoStale closes subj's open alert for want of data (see store.Alert.GoStale).
func (al *Alerter) GoStale(ctx context.Context, subj Subject, at time.Time) error {
	return al.apply(ctx, subj, at, "stale", func(a *store.Alert) store.Transition { return a.GoStale(at) })
}
