package statuscake

import (
	"time"

	"github.com/383project/opsbot/integrations"
)

// MonthUptime is integrations.MonthUptime, kept here for callers that read
// StatusCake periods; own probes use the same arithmetic.
func MonthUptime(periods []integrations.Period, monthStart, now time.Time) (pct float64, down time.Duration) {
	return integrations.MonthUptime(periods, monthStart, now)
}
