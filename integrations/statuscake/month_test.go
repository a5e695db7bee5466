package statuscake_test

import (
	"math"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/statuscake"
)

func TestMonthUptime(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 30) // a 30-day month, fully elapsed
	mid := start.Add(15 * 24 * time.Hour)
	p := func(s integrations.CheckState, from, to time.Time) integrations.Period {
		return integrations.Period{State: s, Start: from, End: to}
	}
	up, down, unknown := integrations.StateUp, integrations.StateDown, integrations.StateUnknown
	tests := []struct {
		name     string
		periods  []integrations.Period
		now      time.Time
		wantPct  float64
		wantDown time.Duration
	}{
		{"all up", []integrations.Period{p(up, start.AddDate(0, -1, 0), time.Time{})}, end, 100, 0},
		{"no periods", nil, end, 100, 0},
		{"43m down in 30 days", []integrations.Period{
			p(up, start, mid), p(down, mid, mid.Add(43*time.Minute)), p(up, mid.Add(43*time.Minute), time.Time{}),
		}, end, 100 * (1 - 43.0/(30*24*60)), 43 * time.Minute},
		{"down period running at month start is clipped", []integrations.Period{
			p(down, start.Add(-time.Hour), start.Add(90*time.Minute)), p(up, start.Add(90*time.Minute), time.Time{}),
		}, start.Add(10 * time.Hour), 85, 90 * time.Minute},
		{"open down period runs to now", []integrations.Period{
			p(up, start, start.Add(6*time.Hour)), p(down, start.Add(6*time.Hour), time.Time{}),
		}, start.Add(8 * time.Hour), 75, 2 * time.Hour},
		{"period ending after now is clipped to now", []integrations.Period{
			p(down, start.Add(9*time.Hour), start.Add(12*time.Hour)),
		}, start.Add(10 * time.Hour), 90, time.Hour},
		{"unknown excluded from denominator", []integrations.Period{
			p(up, start, start.Add(4*time.Hour)), p(unknown, start.Add(4*time.Hour), start.Add(8*time.Hour)),
			p(down, start.Add(8*time.Hour), start.Add(9*time.Hour)), p(up, start.Add(9*time.Hour), time.Time{}),
		}, start.Add(12 * time.Hour), 87.5, time.Hour},
		{"all unknown", []integrations.Period{p(unknown, start, time.Time{})}, start.Add(time.Hour), 100, 0},
		{"now at month start", []integrations.Period{p(down, start.Add(-time.Hour), time.Time{})}, start, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotPct, gotDown := statuscake.MonthUptime(tt.periods, start, tt.now)
			if math.Abs(gotPct-tt.wantPct) > 1e-9 || gotDown != tt.wantDown {
				t.Errorf("got (%.6f%%, %v), want (%.6f%%, %v)", gotPct, gotDown, tt.wantPct, tt.wantDown)
			}
		})
	}
	// The figure an SLA report shows: 43 minutes in 30 days is 99.9 %.
	pct, _ := statuscake.MonthUptime([]integrations.Period{p(down, mid, mid.Add(43*time.Minute))}, start, end)
	if got := math.Round(pct*10) / 10; got != 99.9 {
		t.Errorf("43m down in 30 days rounds to %.1f%%, want 99.9%%", got)
	}
}
