package commands

// What `/ops cost` shows: one client in full (with the chart), or one line
// per client.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/383project/opsbot/chart"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// costOne is one client's costs: the figures, the top five services, the
// data's age, any failed fetch, and the chart, sent to the person (or, with
// here, shared in the channel when it is the client's or the team's).
func (c *Call) costOne(ctx context.Context, client string, rec store.CostRecord, here bool) Reply {
	name := c.clientName(client)
	note := failureNote(rec.Failure, rec, c.Now)
	switch {
	case !rec.HasSnapshot:
		text := fmt.Sprintf("No cost data for %s yet: the daily cost job has not fetched it.", name)
		if c.Principal.Can(store.PermCostRefresh) {
			text += fmt.Sprintf(" `/ops cost %s --refresh` fetches it now.", client)
		}
		return Reply{Text: strings.TrimSpace(note + "\n" + text)}
	case !rec.Snapshot.HasData():
		text := fmt.Sprintf("Cost Explorer has no costs for %s this month or last (nothing matches its account or cost tag), so there is no chart (%s).",
			name, costAge(rec.Snapshot.FetchedAt, c.Now))
		return Reply{Text: strings.TrimSpace(note + "\n" + text)}
	}
	s := rec.Snapshot
	title := truncate(c.plainClientName(client)+" — AWS cost, "+s.Month.Format("January 2006"), 140)
	summary := c.costSummary(client, s)
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if len(s.Services) > 0 {
		lines := []string{"*Top services this month*"}
		for i, sv := range s.Services[:min(5, len(s.Services))] {
			share := ""
			if s.MonthToDate > 0 {
				share = fmt.Sprintf(" (%.0f %%)", sv.Amount/s.MonthToDate*100)
			}
			lines = append(lines, fmt.Sprintf("%d. %s — %s%s", i+1, Escape(sv.Service), store.FormatCost(sv.Amount, s.Currency), share))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(strings.Join(lines, "\n")), nil, nil))
	}
	context := []string{costAge(s.FetchedAt, c.Now) + " (fetched " + slackDate(s.FetchedAt) + ")"}
	if note != "" {
		context = append(context, note)
	}
	context = append(context, c.costChart(ctx, client, title, s, here))
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(strings.Join(context, "\n"))))
	text := title + "\n" + summary
	if note != "" {
		text = note + "\n" + text
	}
	return Reply{Text: text, Blocks: blocks}
}

// costSummary is month to date, forecast, quote and the change vs last month.
func (c *Call) costSummary(client string, s store.CostSnapshot) string {
	lastDay := 0
	for _, d := range s.Days {
		lastDay = max(lastDay, d.Day.UTC().Day())
	}
	lines := []string{fmt.Sprintf("*Month to date:* %s (through %s)", store.FormatCost(s.MonthToDate, s.Currency), s.Month.AddDate(0, 0, max(lastDay-1, 0)).Format("2 Jan"))}
	if s.HasForecast {
		lines = append(lines, "*Forecast to month end:* "+store.FormatCost(s.Forecast, s.Currency))
	} else {
		lines = append(lines, "*Forecast to month end:* not available yet (Cost Explorer needs more history)")
	}
	switch quote := c.r.deps.CostQuotes[client]; {
	case quote <= 0:
		lines = append(lines, "*Quote:* none recorded")
	case s.HasForecast:
		p := s.Forecast / quote * 100
		flag := ""
		if p > 100 {
			flag = " ⚠️ over the quote"
		}
		lines = append(lines, fmt.Sprintf("*Quote:* %s · forecast *%.0f %%* of it%s", store.FormatCost(quote, s.Currency), p, flag))
	default:
		lines = append(lines, fmt.Sprintf("*Quote:* %s · month to date *%.0f %%* of it", store.FormatCost(quote, s.Currency), s.MonthToDate/quote*100))
	}
	var sameDay float64
	for _, d := range s.PrevDays {
		if d.Day.UTC().Day() <= lastDay {
			sameDay += d.Amount
		}
	}
	if len(s.PrevDays) > 0 {
		lines = append(lines, "*vs last month to the same day:* "+store.FormatCostDelta(sameDay, s.MonthToDate, s.Currency))
	}
	return strings.Join(lines, "\n")
}

// costChart renders and delivers the chart; it returns the line that says
// where it went (or why not). A failed chart never hides the figures.
func (c *Call) costChart(ctx context.Context, client, title string, s store.CostSnapshot, here bool) string {
	if c.r.deps.Files == nil {
		return "_No chart: file uploads are not configured on this opsbot._"
	}
	png, err := chart.MonthCostPNG(chart.MonthCost{
		This: chart.Billed(byDayOfMonth(s.Days)), Last: byDayOfMonth(s.PrevDays), DaysInMonth: s.Month.AddDate(0, 1, -1).Day(),
		Quote: c.r.deps.CostQuotes[client], Forecast: s.Forecast, HasForecast: s.HasForecast,
		Title: title, Currency: s.Currency, ThisLabel: s.Month.Format("January") + " so far", LastLabel: s.Month.AddDate(0, -1, 0).Format("January")})
	if errors.Is(err, chart.ErrNoData) {
		return "_No chart: there is no cost to draw._"
	}
	ref := newRef()
	if err != nil {
		c.r.log.Error("cost chart failed", "ref", ref, "client", client, "err", err)
		return fmt.Sprintf("_The chart could not be drawn (ref %s)._", ref)
	}
	line, err := c.sendFile(ctx, privateFile{client: client, name: "cost-" + client + "-" + s.Month.Format(monthLayout) + ".png",
		title: title, content: png, noun: "The cost chart", here: here, channelExplains: Escape(c.plainClientName(client)) + "'s or the team's"})
	if err != nil {
		c.r.log.Error("cost chart upload failed", "ref", ref, "client", client, "user_id", c.User.ID, "err", err)
		return fmt.Sprintf("_The chart could not be uploaded (ref %s); the figures above are complete._", ref)
	}
	return ":chart_with_upwards_trend: " + line
}

// byDayOfMonth lays days out by day of month: out[i] is day i+1.
func byDayOfMonth(days []store.CostDay) []float64 {
	out := []float64{}
	for _, d := range days {
		i := d.Day.UTC().Day() - 1
		for len(out) <= i {
			out = append(out, 0)
		}
		out[i] = d.Amount
	}
	return out
}

// costAll is one line per client the caller may see, from one Redis read.
func (c *Call) costAll(ctx context.Context, visible []string) (Reply, error) {
	recs, err := c.r.deps.Costs.CostRecords(ctx, visible...)
	if err != nil {
		return Reply{}, err
	}
	title := "AWS cost — all clients"
	if all, _ := c.Principal.Scope(store.PermCostView); !all {
		title = "AWS cost — your clients"
	}
	if len(visible) == 0 {
		return Reply{Text: title + ": you can't see any client's costs yet. Ask an admin for a role, e.g. `/ops role grant @you stakeholder acme`."}, nil
	}
	lines := make([]string, 0, len(visible))
	var over int
	for _, k := range visible {
		line, isOver := c.costLine(k, recs[k])
		if isOver {
			over++
		}
		lines = append(lines, line)
	}
	noun := "clients"
	if len(visible) == 1 {
		noun = "client"
	}
	summary := fmt.Sprintf("%d %s · %d forecast over the quote · `/ops cost <client>` for details and a chart", len(visible), noun, over)
	blocks := []slack.Block{header(title), slack.NewContextBlock("", mrkdwn(summary))}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}, nil
}

// costLine is one client's compact line; isOver reports a forecast over the quote.
func (c *Call) costLine(client string, rec store.CostRecord) (line string, isOver bool) {
	name := "• " + c.clientName(client) + ": "
	quote, watched := c.r.deps.CostQuotes[client]
	switch {
	case !watched:
		return name + "costs not watched (no AWS account or cost tag configured)", false
	case !rec.HasSnapshot:
		return name + "no cost data yet" + failureFlag(rec.Failure), false
	case !rec.Snapshot.HasData():
		return name + "no costs in Cost Explorer" + failureFlag(rec.Failure), false
	}
	s := rec.Snapshot
	parts := []string{store.FormatCost(s.MonthToDate, s.Currency) + " to date"}
	if s.HasForecast {
		parts = append(parts, "forecast "+store.FormatCost(s.Forecast, s.Currency))
	}
	if quote > 0 && s.HasForecast {
		p := s.Forecast / quote * 100
		q := fmt.Sprintf("%.0f %% of the %s quote", p, store.FormatCost(quote, s.Currency))
		if p > 100 {
			q, isOver = "⚠️ "+q, true
		}
		parts = append(parts, q)
	}
	parts = append(parts, strings.TrimPrefix(costAge(s.FetchedAt, c.Now), "data from "))
	return name + strings.Join(parts, " · ") + failureFlag(rec.Failure), isOver
}

// failureFlag marks a line whose last fetch failed.
func failureFlag(f *store.CostFailure) string {
	switch {
	case f == nil:
		return ""
	case f.Kind == store.CostThrottled:
		return " · ⏳ AWS throttled the last fetch"
	case f.Kind == store.CostAccessDenied:
		return " · 🔒 missing IAM permission `" + Escape(f.Action) + "`"
	}
	return " · ⚠️ the last fetch failed"
}
