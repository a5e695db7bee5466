package awscost

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ce "github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
)

const (
	dateLayout = "2006-01-02" // Cost Explorer's DateInterval dates (UTC days)
	metric     = "UnblendedCost"
	// maxPages bounds one GetCostAndUsage pagination (each page costs
	// $0.01); two months of daily per-service groups fit in a handful.
	maxPages = 50
)

// calendar is the UTC days one Report covers.
type calendar struct {
	today     time.Time // midnight
	tomorrow  time.Time // exclusive end of the cost query
	month     time.Time // first of this month
	prevMonth time.Time // first of last month
	nextMonth time.Time // exclusive end of the forecast
}

func calendarAt(now time.Time) calendar {
	n := now.UTC()
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, time.UTC)
	return calendar{today: today, tomorrow: today.AddDate(0, 0, 1), month: month,
		prevMonth: month.AddDate(0, -1, 0), nextMonth: month.AddDate(0, 1, 0)}
}

// Report returns scope's costs as Cost Explorer sees them at now: this month
// day by day from the 1st through today (UTC; days without data are 0), all
// of last month day by day, this month's services (largest first; services
// that sum to 0 are left out), and the forecast of this whole month.
//
// It makes one GetCostAndUsage call (DAILY, UnblendedCost, grouped by
// SERVICE, followed over NextPageToken) and, unless today is the month's last
// day (then Forecast is MonthToDate) or there is no cost data at all, one
// GetCostForecast call from today to the 1st of next month; Forecast is
// MonthToDate plus that. Cost Explorer's DataUnavailableException yields a
// report without data (HasData false) or without forecast (HasForecast
// false), not an error.
//
// A scope with neither linked account nor tag is refused (ErrNoScope)
// before any request. Failures are classified by awsapi.Classify:
// throttling and 5xx (after the SDK's retries) are
// *integrations.RetryableError, access denied wraps
// integrations.ErrUnauthorized and names the IAM action (ce:GetCostAndUsage,
// ce:GetCostForecast), a context error stays one.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html
func (c *Client) Report(ctx context.Context, scope integrations.CostScope, now time.Time) (integrations.CostReport, error) {
	op := "awscost: report for " + describe(scope)
	f, err := filter(scope)
	if err != nil {
		return integrations.CostReport{}, fmt.Errorf("%s: %w", op, err)
	}
	cal := calendarAt(now)
	got, err := c.costs(ctx, op, f, cal)
	if err != nil {
		return integrations.CostReport{}, err
	}
	rep := integrations.CostReport{Currency: cmp.Or(got.unit, "USD"), FetchedAt: now, Month: cal.month,
		Days: got.days(cal.month, cal.tomorrow), PrevDays: got.days(cal.prevMonth, cal.month), Services: got.services()}
	for _, d := range rep.Days {
		rep.MonthToDate += d.Amount
	}
	for _, d := range rep.PrevDays {
		rep.LastMonth += d.Amount
	}
	switch {
	case !rep.HasData():
		// Nothing to forecast from; spare the $0.01 request.
	case cal.tomorrow.Equal(cal.nextMonth):
		// The month ends today: what it cost so far is the forecast.
		rep.Forecast, rep.HasForecast = rep.MonthToDate, true
	default:
		rest, ok, err := c.forecast(ctx, op, f, cal, rep.Currency)
		if err != nil {
			return integrations.CostReport{}, err
		}
		if ok {
			rep.Forecast, rep.HasForecast = rep.MonthToDate+rest, true
		}
	}
	c.log.Debug("cost report", "scope", describe(scope), "month_to_date", rep.MonthToDate,
		"last_month", rep.LastMonth, "forecast", rep.Forecast, "has_forecast", rep.HasForecast)
	return rep, nil
}

// costs sums GetCostAndUsage's groups per day and, for this month, per service.
type costs struct {
	unit      string
	byDay     map[time.Time]float64
	byService map[string]float64
}

func (c *Client) costs(ctx context.Context, op string, f *types.Expression, cal calendar) (costs, error) {
	got := costs{byDay: map[time.Time]float64{}, byService: map[string]float64{}}
	in := &ce.GetCostAndUsageInput{
		Granularity: types.GranularityDaily,
		TimePeriod:  &types.DateInterval{Start: aws.String(cal.prevMonth.Format(dateLayout)), End: aws.String(cal.tomorrow.Format(dateLayout))},
		Metrics:     []string{metric},
		GroupBy:     []types.GroupDefinition{{Type: types.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
		Filter:      f,
	}
	for page := 1; ; page++ {
		out, err := c.api.GetCostAndUsage(ctx, in)
		var unavailable *types.DataUnavailableException
		if page == 1 && errors.As(err, &unavailable) {
			c.log.Info("cost explorer has no data for scope", "op", op, "err", err)
			return got, nil
		}
		if err != nil {
			return costs{}, awsapi.Classify(op+": get cost and usage", "ce:GetCostAndUsage", err)
		}
		for _, r := range out.ResultsByTime {
			if err := got.add(r, cal); err != nil {
				return costs{}, fmt.Errorf("%s: get cost and usage: %w", op, err)
			}
		}
		if aws.ToString(out.NextPageToken) == "" {
			return got, nil
		}
		if page == maxPages {
			return costs{}, fmt.Errorf("%s: get cost and usage: more than %d pages", op, maxPages)
		}
		in.NextPageToken = out.NextPageToken
	}
}

// add sums one day's groups. A day may come back on several pages, each
// with some of its groups.
func (c *costs) add(r types.ResultByTime, cal calendar) error {
	if r.TimePeriod == nil {
		return errors.New("result without TimePeriod")
	}
	day, err := time.Parse(dateLayout, aws.ToString(r.TimePeriod.Start))
	if err != nil {
		return fmt.Errorf("result period: %w", err)
	}
	for _, g := range r.Groups {
		v, ok := g.Metrics[metric]
		if !ok {
			continue
		}
		amount, err := c.amount(v)
		if err != nil {
			return fmt.Errorf("%s %v on %s: %w", metric, g.Keys, day.Format(dateLayout), err)
		}
		c.byDay[day] += amount
		if !day.Before(cal.month) && len(g.Keys) > 0 {
			c.byService[g.Keys[0]] += amount
		}
	}
	return nil
}

// amount parses a decimal-string amount and checks its unit against the
// ones seen before: amounts in different currencies cannot be summed.
func (c *costs) amount(v types.MetricValue) (float64, error) {
	amount, err := strconv.ParseFloat(aws.ToString(v.Amount), 64)
	if err != nil {
		return 0, fmt.Errorf("bad amount: %w", err)
	}
	switch unit := aws.ToString(v.Unit); {
	case unit == "" || unit == c.unit:
	case c.unit == "":
		c.unit = unit
	default:
		return 0, fmt.Errorf("amounts in both %s and %s", c.unit, unit)
	}
	return amount, nil
}

// days lists every day in [from, to) with its cost (0 when Cost Explorer
// returned none).
func (c costs) days(from, to time.Time) []integrations.DailyCost {
	var out []integrations.DailyCost
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, integrations.DailyCost{Day: d, Amount: c.byDay[d]})
	}
	return out
}

// services lists this month's services largest first (ties by name).
func (c costs) services() []integrations.ServiceCost {
	var out []integrations.ServiceCost
	for name, amount := range c.byService {
		if amount != 0 {
			out = append(out, integrations.ServiceCost{Service: name, Amount: amount})
		}
	}
	slices.SortFunc(out, func(a, b integrations.ServiceCost) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Service, b.Service))
	})
	return out
}

// forecast asks for the cost from today to the end of the month; ok is
// false when Cost Explorer has too little history to forecast.
func (c *Client) forecast(ctx context.Context, op string, f *types.Expression, cal calendar, currency string) (rest float64, ok bool, err error) {
	out, err := c.api.GetCostForecast(ctx, &ce.GetCostForecastInput{
		TimePeriod:  &types.DateInterval{Start: aws.String(cal.today.Format(dateLayout)), End: aws.String(cal.nextMonth.Format(dateLayout))},
		Metric:      types.MetricUnblendedCost,
		Granularity: types.GranularityMonthly,
		Filter:      f,
	})
	var unavailable *types.DataUnavailableException
	if errors.As(err, &unavailable) {
		c.log.Info("cost explorer cannot forecast scope", "op", op, "err", err)
		return 0, false, nil
	}
	if err != nil {
		return 0, false, awsapi.Classify(op+": get cost forecast", "ce:GetCostForecast", err)
	}
	if out.Total == nil {
		return 0, false, fmt.Errorf("%s: get cost forecast: response has no Total", op)
	}
	rest, err = strconv.ParseFloat(aws.ToString(out.Total.Amount), 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s: get cost forecast: bad amount: %w", op, err)
	}
	if unit := aws.ToString(out.Total.Unit); unit != "" && unit != currency {
		return 0, false, fmt.Errorf("%s: get cost forecast: forecast in %s, costs in %s", op, unit, currency)
	}
	return rest, true, nil
}
