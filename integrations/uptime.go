package integrations

import "time"

// MonthUptime computes the uptime percentage and the down time of the month
// so far, from a test's periods (as Periods returns them, in any order).
//
// Each period is clipped to [monthStart, now]; a running period (zero End)
// runs to now. down is the total clipped time of StateDown periods. Time in
// StateUnknown periods counts as neither up nor down: it is taken out of the
// denominator. Time no period covers (e.g. before the test existed) counts as
// up, as in StatusCake's own figure. So
//
//	pct = 100 × (1 − down / (now − monthStart − unknown))
//
// When no measurable time remains (now ≤ monthStart, or all of it unknown)
// pct is 100. Periods are assumed not to overlap.
func MonthUptime(periods []Period, monthStart, now time.Time) (pct float64, down time.Duration) {
	var unknown time.Duration
	for _, p := range periods {
		start, end := p.Start, p.End
		if end.IsZero() || end.After(now) {
			end = now
		}
		if start.Before(monthStart) {
			start = monthStart
		}
		if !end.After(start) {
			continue
		}
		switch p.State {
		case StateDown:
			down += end.Sub(start)
		case StateUp:
		default:
			unknown += end.Sub(start)
		}
	}
	measured := now.Sub(monthStart) - unknown
	if measured <= 0 {
		return 100, down
	}
	return 100 * (1 - float64(down)/float64(measured)), down
}
