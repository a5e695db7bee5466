package statuscake

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	sc "github.com/StatusCakeDev/statuscake-go"

	"github.com/383project/opsbot/integrations"
)

// Source is CheckResult.Source for results from this package.
const Source = "statuscake"

// Uptime returns every uptime test on the account, following all pages of
// GET /v1/uptime (https://developers.statuscake.com/api/#tag/uptime/operation/list-uptime-tests).
// Paused tests are StateUnknown. The list does not carry last_tested_at, so
// CheckedAt is the time of the call; use Test for the last test time.
func (c *Client) Uptime(ctx context.Context) ([]integrations.CheckResult, error) {
	var out []integrations.CheckResult
	for page := int32(1); ; page++ {
		var res sc.UptimeTests
		err := c.call(ctx, fmt.Sprintf("list uptime tests (page %d)", page), func(ctx context.Context) (err error) {
			res, err = c.api.ListUptimeTests(ctx).Page(page).Limit(pageSize).Execute()
			return err
		})
		if err != nil {
			return nil, err
		}
		now := time.Now()
		for _, t := range res.Data {
			uptime := -1.0
			if t.Uptime != nil {
				uptime = percent(*t.Uptime)
			}
			out = append(out, integrations.CheckResult{
				Source: Source, ID: t.ID, Name: t.Name, URL: t.WebsiteURL,
				State: state(t.Status, t.Paused), CheckedAt: now, Uptime: uptime,
			})
		}
		if page >= res.Metadata.PageCount || len(res.Data) == 0 {
			break
		}
	}
	c.log.DebugContext(ctx, "listed uptime tests", "count", len(out))
	return out, nil
}

// Test returns one uptime test, GET /v1/uptime/{id}
// (https://developers.statuscake.com/api/#tag/uptime/operation/get-uptime-test).
// CheckedAt is last_tested_at, or the time of the call if the test never ran.
// An unknown id is integrations.ErrNotFound.
func (c *Client) Test(ctx context.Context, id string) (integrations.CheckResult, error) {
	var res sc.UptimeTestResponse
	err := c.call(ctx, "get uptime test "+id, func(ctx context.Context) (err error) {
		res, err = c.api.GetUptimeTest(ctx, id).Execute()
		return err
	})
	if err != nil {
		return integrations.CheckResult{}, err
	}
	t := res.Data
	checked := time.Now()
	if t.LastTested != nil && !t.LastTested.IsZero() {
		checked = *t.LastTested
	}
	return integrations.CheckResult{
		Source: Source, ID: t.ID, Name: t.Name, URL: t.WebsiteURL,
		State: state(t.Status, t.Paused), CheckedAt: checked, Uptime: percent(t.Uptime),
	}, nil
}

// Periods returns the up/down periods of test id that overlap [from, to),
// newest first, from GET /v1/uptime/{id}/periods
// (https://developers.statuscake.com/api/#tag/uptime/operation/list-uptime-test-periods).
// That includes the period already running at from (created before from,
// ended after it or still running). Periods are not clipped; the running
// period has a zero End. It pages backwards from `to` with `before`, following
// links.next, and stops at the first period created at or before from.
func (c *Client) Periods(ctx context.Context, id string, from, to time.Time) ([]integrations.Period, error) {
	var out []integrations.Period
	before := to.Unix()
	if to.Nanosecond() > 0 {
		before++ // `before` is whole seconds, exclusive
	}
	for page := 1; ; page++ {
		var res sc.UptimeTestPeriods
		err := c.call(ctx, fmt.Sprintf("list periods of uptime test %s (page %d)", id, page), func(ctx context.Context) (err error) {
			res, err = c.api.ListUptimeTestPeriods(ctx, id).Limit(pageSize).Before(before).Execute()
			return err
		})
		if err != nil {
			return nil, err
		}
		reachedFrom := false
		for _, p := range res.Data {
			period := integrations.Period{State: state(p.Status, false), Start: p.Created}
			if p.Ended != nil {
				period.End = *p.Ended
			}
			if !p.Created.After(from) {
				reachedFrom = true
			}
			if period.Start.Before(to) && (period.End.IsZero() || period.End.After(from)) {
				out = append(out, period)
			}
		}
		next, ok := nextBefore(res.Links)
		if reachedFrom || len(res.Data) == 0 || !ok {
			break
		}
		if next >= before {
			return nil, fmt.Errorf("statuscake: list periods of uptime test %s: links.next does not go back in time (before=%d)", id, next)
		}
		before = next
	}
	return out, nil
}

// nextBefore reads the `before` parameter of links.next, which statuscake-go
// leaves in Links.AdditionalProperties.
func nextBefore(l sc.Links) (int64, bool) {
	raw, _ := l.AdditionalProperties["next"].(string)
	if raw == "" {
		return 0, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(u.Query().Get("before"), 10, 64)
	return n, err == nil
}

func state(s sc.UptimeTestStatus, paused bool) integrations.CheckState {
	switch {
	case paused:
		return integrations.StateUnknown
	case s == sc.UptimeTestStatusUp:
		return integrations.StateUp
	case s == sc.UptimeTestStatusDown:
		return integrations.StateDown
	}
	return integrations.StateUnknown
}

// percent turns the API's float32 percentage into the float64 it was written
// as (99.82, not 99.81999969482422).
func percent(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// LastCheck returns the newest check of test id, from
// GET /v1/uptime/{id}/history?limit=1
// (https://developers.statuscake.com/api/#tag/uptime/operation/list-uptime-test-history):
// its status code (0 when the target did not answer) and, in Error, why it
// failed in words: "HTTP 503 from UKCON2", "no response from DEFRA1". A test
// with no checks yet is integrations.ErrNotFound.
func (c *Client) LastCheck(ctx context.Context, id string) (integrations.CheckResult, error) {
	var res sc.UptimeTestHistory
	err := c.call(ctx, "list history of uptime test "+id, func(ctx context.Context) (err error) {
		res, err = c.api.ListUptimeTestHistory(ctx, id).Limit(1).Execute()
		return err
	})
	if err != nil {
		return integrations.CheckResult{}, err
	}
	if len(res.Data) == 0 {
		return integrations.CheckResult{}, fmt.Errorf("statuscake: uptime test %s has no checks yet: %w", id, integrations.ErrNotFound)
	}
	run := res.Data[0]
	out := integrations.CheckResult{Source: Source, ID: id, CheckedAt: run.Created, Uptime: -1}
	where := ""
	if run.Location != nil && *run.Location != "" {
		where = " from " + *run.Location
	}
	if run.Performance != nil {
		out.ResponseTime = time.Duration(*run.Performance) * time.Millisecond
	}
	if run.StatusCode == nil || *run.StatusCode == 0 {
		out.Error = "no response" + where
		return out, nil
	}
	out.StatusCode = int(*run.StatusCode)
	out.Error = "HTTP " + strconv.Itoa(out.StatusCode) + where
	return out, nil
}
