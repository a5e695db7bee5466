package jobs

// The cost job's announcements: anomalies, the forecast over the quote,
// missing IAM permissions, and the weekly report. Each is queued through a
// marker, so a second run of the same day (another replica, a retry) posts
// nothing new.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// anomalyBaselineDays is the trailing window yesterday is compared with;
// fewer than anomalyMinHistory days of it and no verdict is given.
const (
	anomalyBaselineDays = 14
	anomalyMinHistory   = 7
)

// check announces what the fresh snapshot shows: an anomaly yesterday and a
// forecast over the quote.
func (c *Cost) check(ctx context.Context, cl CostClient, s store.CostSnapshot, now time.Time) error {
	if a, ok := findAnomaly(s, now, c.o.AnomalyFactor, c.o.AnomalyMinimum); ok {
		items, err := c.posts("cost/"+cl.Key, anomalyText(cl, s, a), c.o.SupportChannel, c.o.FinanceChannel)
		if err != nil {
			return err
		}
		marker := "cost:anomaly:" + cl.Key + ":" + a.day.Format(time.DateOnly)
		if err := c.enqueue(c.st.EnqueueOnce(ctx, marker, 3*24*time.Hour, now, items...)); err != nil {
			return err
		}
	}
	if cl.Quote > 0 && s.HasForecast && s.Forecast > cl.Quote {
		pct := s.Forecast / cl.Quote * 100
		level := int(math.Floor((pct-100)/c.o.QuoteStep)) + 1
		items, err := c.posts("cost/"+cl.Key, quoteText(cl, s, pct, level, c.o.QuoteStep), c.o.FinanceChannel, c.o.SupportChannel)
		if err != nil {
			return err
		}
		marker := "cost:quote:" + cl.Key + ":" + s.Month.Format("2006-01")
		if err := c.enqueue(c.st.EnqueueAtLevel(ctx, marker, level, 40*24*time.Hour, now, items...)); err != nil {
			return err
		}
	}
	return nil
}

// announceDenied tells the support channel, once a day per client, which
// IAM permission Cost Explorer refused.
func (c *Cost) announceDenied(ctx context.Context, cl CostClient, f store.CostFailure, now time.Time) error {
	text := fmt.Sprintf(":lock: *Cost Explorer refused opsbot* for *%s* (`%s`): the IAM permission `%s` is missing. "+
		"Add it to opsbot's policy (deploy/iam-policy.json); until then `/ops cost %s` shows the last data fetched.",
		chat.Escape(cl.Name), cl.Key, chat.Escape(f.Action), cl.Key)
	items, err := c.posts("cost/"+cl.Key, text, c.o.SupportChannel)
	if err != nil {
		return err
	}
	marker := "cost:denied:" + cl.Key + ":" + now.UTC().Format(time.DateOnly)
	return c.enqueue(c.st.EnqueueOnce(ctx, marker, 2*24*time.Hour, now, items...))
}

// posts builds one standalone post per distinct, non-empty channel.
func (c *Cost) posts(subject, text string, channels ...string) ([]store.OutboxItem, error) {
	var items []store.OutboxItem
	seen := map[string]bool{}
	for _, ch := range channels {
		if ch == "" || seen[ch] {
			continue
		}
		seen[ch] = true
		it, err := store.NewOutboxItem(kindSlackPost, subject, postPayload{Channel: ch, Text: text}, c.o.Now())
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// enqueue takes an Enqueue* result and nudges the worker when items went out.
func (c *Cost) enqueue(queued bool, err error) error {
	if err == nil && queued && c.o.Nudge != nil {
		c.o.Nudge()
	}
	return err
}

// anomaly is yesterday's cost against the trailing baseline.
type anomaly struct {
	day       time.Time
	amount    float64
	average   float64
	baseDays  int
	factorMet float64
}

// findAnomaly compares yesterday (UTC, as Cost Explorer counts days) with
// the average of the 14 days before it.
func findAnomaly(s store.CostSnapshot, now time.Time, factor, minimum float64) (anomaly, bool) {
	amounts := map[time.Time]float64{}
	for _, days := range [][]store.CostDay{s.PrevDays, s.Days} {
		for _, d := range days {
			u := d.Day.UTC()
			amounts[time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)] = d.Amount
		}
	}
	n := now.UTC()
	yesterday := time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, time.UTC)
	y, ok := amounts[yesterday]
	if !ok {
		return anomaly{}, false
	}
	var sum float64
	var count int
	for i := 1; i <= anomalyBaselineDays; i++ {
		if v, ok := amounts[yesterday.AddDate(0, 0, -i)]; ok {
			sum += v
			count++
		}
	}
	if count < anomalyMinHistory {
		return anomaly{}, false
	}
	avg := sum / float64(count)
	if y <= factor*avg || y-avg < minimum {
		return anomaly{}, false
	}
	a := anomaly{day: yesterday, amount: y, average: avg, baseDays: count}
	if avg > 0 {
		a.factorMet = y / avg
	}
	return a, true
}

func anomalyText(cl CostClient, s store.CostSnapshot, a anomaly) string {
	times := ""
	if a.factorMet > 0 {
		times = fmt.Sprintf("%.1f× ", a.factorMet)
	}
	return fmt.Sprintf(":chart_with_upwards_trend: *Cost anomaly* for *%s* (`%s`): %s cost %s, %sthe average of the %d days before (%s), up %s.%s",
		chat.Escape(cl.Name), cl.Key, a.day.Format("Mon 2 Jan"), store.FormatCost(a.amount, s.Currency), times, a.baseDays,
		store.FormatCost(a.average, s.Currency), store.FormatCost(a.amount-a.average, s.Currency), topServices(s, 3))
}

func quoteText(cl CostClient, s store.CostSnapshot, pct float64, level int, step float64) string {
	head := "*Forecast over the hosting quote*"
	if level > 1 {
		head = fmt.Sprintf("*Forecast %g %% or more over the hosting quote*", float64(level-1)*step)
	}
	return fmt.Sprintf(":money_with_wings: %s for *%s* (`%s`): %s is forecast to cost %s, %.0f %% of the %s quote (%s over). Month to date %s.%s",
		head, chat.Escape(cl.Name), cl.Key, s.Month.Format("January 2006"), store.FormatCost(s.Forecast, s.Currency), math.Floor(pct),
		store.FormatCost(cl.Quote, s.Currency), store.FormatCost(s.Forecast-cl.Quote, s.Currency), store.FormatCost(s.MonthToDate, s.Currency), topServices(s, 3))
}

// topServices is " Top services this month: EC2 $1.00, RDS $0.50." or "".
func topServices(s store.CostSnapshot, n int) string {
	if len(s.Services) == 0 {
		return ""
	}
	parts := make([]string, 0, n)
	for _, sv := range s.Services[:min(n, len(s.Services))] {
		parts = append(parts, chat.Escape(sv.Service)+" "+store.FormatCost(sv.Amount, s.Currency))
	}
	return " Top services this month: " + strings.Join(parts, ", ") + "."
}

// CostWeekly is the weekly cost report to the finance channel: per client
// month to date, forecast, quote and % of it, from the cache. Its schedule
// (day, time, zone) comes from config; it posts once per week.
type CostWeekly struct{ c *Cost }

// Weekly returns the weekly report job over the same clients and cache.
func (c *Cost) Weekly() *CostWeekly { return &CostWeekly{c: c} }

// Name implements Job.
func (w *CostWeekly) Name() string { return "cost-weekly" }

// CatchUpWindow implements CatchUp: a report missed this week still goes out.
func (w *CostWeekly) CatchUpWindow() time.Duration { return 6 * 24 * time.Hour }

// Run queues this week's report unless it was queued already.
func (w *CostWeekly) Run(ctx context.Context) error {
	c := w.c
	if c.o.FinanceChannel == "" {
		c.log.Warn("cost-weekly: no finance channel configured; report skipped")
		return nil
	}
	now := c.o.Now()
	keys := make([]string, len(c.clients))
	for i, cl := range c.clients {
		keys[i] = cl.Key
	}
	recs, err := c.st.CostRecords(ctx, keys...)
	if err != nil {
		return err
	}
	year, week := now.In(c.o.Location).ISOWeek()
	lines := []string{fmt.Sprintf(":bar_chart: *Weekly cost report* — week %d of %d (%d clients)", week, year, len(c.clients))}
	for _, cl := range c.clients {
		lines = append(lines, weeklyLine(cl, recs[cl.Key], now))
	}
	items, err := c.posts("cost/weekly", capLines(lines, maxReportText), c.o.FinanceChannel)
	if err != nil {
		return err
	}
	marker := fmt.Sprintf("cost:weekly:%d-W%02d", year, week)
	return c.enqueue(c.st.EnqueueOnce(ctx, marker, 14*24*time.Hour, now, items...))
}

// maxReportText keeps a text-only report under Slack's 40,000 characters a
// message (past it Slack answers msg_too_long), with room for the last line.
const maxReportText = 39000

// capLines joins lines with newlines, dropping the lines that would take the
// text past limit characters and saying how many were left out.
func capLines(lines []string, limit int) string {
	var b strings.Builder
	n := 0
	for i, l := range lines {
		if n+utf8.RuneCountInString(l)+1 > limit {
			fmt.Fprintf(&b, "\n… and %d more clients: `/ops cost` lists them all.", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		n += utf8.RuneCountInString(l) + 1
	}
	return b.String()
}

// weeklyLine is one client's line of the weekly report.
func weeklyLine(cl CostClient, rec store.CostRecord, now time.Time) string {
	name := "• *" + chat.Escape(cl.Name) + "*: "
	if !rec.HasSnapshot || !rec.Snapshot.HasData() {
		return name + "no cost data yet"
	}
	s := rec.Snapshot
	parts := []string{"month to date " + store.FormatCost(s.MonthToDate, s.Currency)}
	if s.HasForecast {
		parts = append(parts, "forecast "+store.FormatCost(s.Forecast, s.Currency))
	} else {
		parts = append(parts, "no forecast yet")
	}
	switch {
	case cl.Quote <= 0:
		parts = append(parts, "no quote")
	case s.HasForecast:
		pct := s.Forecast / cl.Quote * 100
		q := fmt.Sprintf("quote %s (forecast %.0f %% of it)", store.FormatCost(cl.Quote, s.Currency), pct)
		if pct > 100 {
			q = "⚠️ " + q
		}
		parts = append(parts, q)
	default:
		parts = append(parts, "quote "+store.FormatCost(cl.Quote, s.Currency))
	}
	if age := now.Sub(s.FetchedAt); age > 26*time.Hour {
		parts = append(parts, "data from "+human(age)+" ago")
	}
	return name + strings.Join(parts, " · ")
}
