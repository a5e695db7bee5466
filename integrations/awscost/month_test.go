package awscost_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations/awscost/awscosttest"
)

func TestMonthBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		now          time.Time
		month        time.Time
		days, prev   int
		period       awscosttest.DateInterval
		forecast     awscosttest.DateInterval // zero: no forecast request
		wantForecast float64
	}{
		{"first of the month", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), date(2026, 3, 1), 1, 28,
			awscosttest.DateInterval{Start: "2026-02-01", End: "2026-03-02"}, awscosttest.DateInterval{Start: "2026-03-01", End: "2026-04-01"}, 1 + 100},
		{"last day of the month", time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC), date(2026, 3, 1), 31, 28,
			awscosttest.DateInterval{Start: "2026-02-01", End: "2026-04-01"}, awscosttest.DateInterval{}, 31},
		{"January reaches back to December", time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), date(2026, 1, 1), 10, 31,
			awscosttest.DateInterval{Start: "2025-12-01", End: "2026-01-11"}, awscosttest.DateInterval{Start: "2026-01-10", End: "2026-02-01"}, 10 + 100},
		{"31 December ends the year", time.Date(2025, 12, 31, 6, 0, 0, 0, time.UTC), date(2025, 12, 1), 31, 30,
			awscosttest.DateInterval{Start: "2025-11-01", End: "2026-01-01"}, awscosttest.DateInterval{}, 31},
		{"leap February", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), date(2024, 3, 1), 1, 29,
			awscosttest.DateInterval{Start: "2024-02-01", End: "2024-03-02"}, awscosttest.DateInterval{Start: "2024-03-01", End: "2024-04-01"}, 1 + 100},
		{"local time is converted to UTC", time.Date(2026, 3, 1, 1, 0, 0, 0, time.FixedZone("+03", 3*3600)), date(2026, 2, 1), 28, 31,
			awscosttest.DateInterval{Start: "2026-01-01", End: "2026-03-01"}, awscosttest.DateInterval{}, 28},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := awscosttest.New(t)
			from := date(tc.month.Year(), tc.month.Month()-1, 1)
			for d := from.AddDate(0, 0, -3); d.Before(from.AddDate(0, 3, 0)); d = d.AddDate(0, 0, 1) {
				srv.SetDaily(acme, d, ec2, 1) // 1 a day, also outside the period
			}
			srv.SetForecast(acme, 100)
			rep, err := newClient(t, srv, aws.Config{}, 1, nil).Report(ctx(t), acme, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Month.Equal(tc.month) || len(rep.Days) != tc.days || len(rep.PrevDays) != tc.prev {
				t.Errorf("Month %v, %d days, %d prev days; want %v, %d, %d", rep.Month, len(rep.Days), len(rep.PrevDays), tc.month, tc.days, tc.prev)
			}
			if rep.MonthToDate != float64(tc.days) || rep.LastMonth != float64(tc.prev) || !rep.HasForecast || rep.Forecast != tc.wantForecast {
				t.Errorf("MonthToDate %v, LastMonth %v, Forecast %v (%v); want %d, %d, %v", rep.MonthToDate, rep.LastMonth, rep.Forecast, rep.HasForecast, tc.days, tc.prev, tc.wantForecast)
			}
			reqs := srv.Requests()
			if reqs[0].TimePeriod != tc.period {
				t.Errorf("GetCostAndUsage period %+v, want %+v", reqs[0].TimePeriod, tc.period)
			}
			switch {
			case tc.forecast == (awscosttest.DateInterval{}) && len(reqs) != 1:
				t.Errorf("today is the last day of the month: want no GetCostForecast, got %+v", reqs[1:])
			case tc.forecast != (awscosttest.DateInterval{}) && (len(reqs) != 2 || reqs[1].TimePeriod != tc.forecast):
				t.Errorf("want GetCostForecast for %+v, got %+v", tc.forecast, reqs[1:])
			}
		})
	}
}
