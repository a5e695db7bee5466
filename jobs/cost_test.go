package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// costNow is mid-morning of 22 November 2026 (UTC); "yesterday" is the 21st.
var costNow = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

const (
	supportCh = "C0SUPPORT1"
	financeCh = "C0FINANCE1"
)

// fixedCosts is an in-test CostSource for the pure alert logic: per client
// scope account, a report or an error.
type fixedCosts struct {
	mu      sync.Mutex
	reports map[string]integrations.CostReport
	errs    map[string]error
	calls   int
}

func (f *fixedCosts) set(account string, r integrations.CostReport, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reports == nil {
		f.reports, f.errs = map[string]integrations.CostReport{}, map[string]error{}
	}
	f.reports[account], f.errs[account] = r, err
}

func (f *fixedCosts) Report(_ context.Context, scope integrations.CostScope, _ time.Time) (integrations.CostReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.reports[scope.LinkedAccount], f.errs[scope.LinkedAccount]
}

// costReport has last month at base a day, this month at base a day up to
// the 21st (yesterday: spike), 0 so far today, and the forecast given.
func costReport(base, yesterday, forecast float64) integrations.CostReport {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r := integrations.CostReport{Currency: "USD", FetchedAt: costNow, Month: month, Forecast: forecast, HasForecast: forecast > 0,
		Services: []integrations.ServiceCost{{Service: "Amazon Elastic Compute Cloud - Compute", Amount: 900}, {Service: "Amazon Relational Database Service", Amount: 300}}}
	for d := month.AddDate(0, -1, 0); d.Before(month); d = d.AddDate(0, 0, 1) {
		r.PrevDays = append(r.PrevDays, integrations.DailyCost{Day: d, Amount: base})
		r.LastMonth += base
	}
	for d := month; !d.After(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		amount := base
		switch d.Day() {
		case 21:
			amount = yesterday
		case 22:
			amount = 0
		}
		r.Days = append(r.Days, integrations.DailyCost{Day: d, Amount: amount})
		r.MonthToDate += amount
	}
	return r
}

type costRig struct {
	st    *store.Store
	src   *fixedCosts
	now   time.Time
	nudge int
}

func newCostRig(t *testing.T) *costRig {
	t.Helper()
	return &costRig{st: store.New(redistest.Start(t).Client(t), "opsbot:"), src: &fixedCosts{}, now: costNow}
}

var costClients = []jobs.CostClient{
	{Key: "acme", Name: "Acme Ltd", Scope: integrations.CostScope{LinkedAccount: "111111111111"}, Quote: 1000},
	{Key: "beta", Name: "Beta & Co", Scope: integrations.CostScope{LinkedAccount: "222222222222"}},
}

// job builds a cost job as one replica would; several share the store.
func (r *costRig) job(src jobs.CostSource) *jobs.Cost {
	return jobs.NewCost(costClients, src, r.st, jobs.CostOptions{SupportChannel: supportCh, FinanceChannel: financeCh,
		Now: func() time.Time { return r.now }, Nudge: func() { r.nudge++ }})
}

type queuedPost struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

// drain takes every queued outbox item (acknowledging it) and returns the posts.
func (r *costRig) drain(t *testing.T) []queuedPost {
	t.Helper()
	ctx := context.Background()
	var out []queuedPost
	for {
		claimed, err := r.st.ClaimOutbox(ctx, r.now.Add(time.Hour), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) == 0 {
			return out
		}
		for _, c := range claimed {
			var p queuedPost
			if c.Item.Kind != "slack.post" || json.Unmarshal(c.Item.Payload, &p) != nil {
				t.Fatalf("unexpected outbox item %+v", c.Item)
			}
			out = append(out, p)
			if err := r.st.AckOutbox(ctx, c, r.now); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func channels(posts []queuedPost) string {
	var chs []string
	for _, p := range posts {
		chs = append(chs, p.Channel)
	}
	return strings.Join(chs, ",")
}

func TestCostAnomalyPostedOnceAcrossReplicasAndRetries(t *testing.T) {
	r := newCostRig(t)
	r.src.set("111111111111", costReport(100, 400, 900), nil)
	r.src.set("222222222222", costReport(50, 60, 0), nil)
	ctx := context.Background()
	for replica := range 2 {
		for range 2 { // a retry on each replica
			if err := r.job(r.src).Run(ctx); err != nil {
				t.Fatalf("replica %d: %v", replica, err)
			}
		}
	}
	posts := r.drain(t)
	if len(posts) != 2 || channels(posts) != supportCh+","+financeCh && channels(posts) != financeCh+","+supportCh {
		t.Fatalf("posts = %+v; want one anomaly in support and one in finance", posts)
	}
	for _, want := range []string{"*Cost anomaly* for *Acme Ltd* (`acme`)", "Sat 21 Nov cost $400.00", "4.0× the average of the 14 days before ($100.00)", "up $300.00", "Amazon Elastic Compute Cloud - Compute $900.00"} {
		if !strings.Contains(posts[0].Text, want) {
			t.Errorf("anomaly text lacks %q:\n%s", want, posts[0].Text)
		}
	}
	recs, err := r.st.CostRecords(ctx, "acme", "beta")
	if err != nil || !recs["acme"].HasSnapshot || recs["acme"].Snapshot.MonthToDate != 2400 || recs["beta"].Snapshot.Currency != "USD" {
		t.Fatalf("cache = %+v, %v", recs, err)
	}
	if r.nudge != 1 {
		t.Errorf("outbox nudged %d times, want once", r.nudge)
	}
	// The next day brings no new spike: nothing more is posted.
	r.now = r.now.Add(24 * time.Hour)
	r.src.set("111111111111", costReport(100, 100, 900), nil)
	if err := r.job(r.src).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if posts := r.drain(t); len(posts) != 0 {
		t.Fatalf("posted %+v the day after", posts)
	}
}

func TestCostAnomalyNeedsFactorAndMinimum(t *testing.T) {
	tests := []struct {
		name            string
		base, yesterday float64
		want            bool
	}{
		{"far above, by a lot", 100, 151, true},
		{"exactly the factor is not above it", 100, 150, false},
		{"above the factor but by less than the minimum", 5, 14, false},
		{"above the factor by the minimum", 5, 15, true},
		{"from nothing to the minimum", 0, 10, true},
		{"below the average", 100, 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCostRig(t)
			r.src.set("111111111111", costReport(tt.base, tt.yesterday, 0), nil)
			if err := r.job(r.src).Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := len(r.drain(t)) > 0; got != tt.want {
				t.Fatalf("anomaly posted = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCostForecastOverQuoteOncePerStep(t *testing.T) {
	r := newCostRig(t)
	ctx := context.Background()
	steps := []struct {
		forecast float64
		want     string // "" = nothing posted
	}{
		{990, ""},
		{1050, "*Forecast over the hosting quote* for *Acme Ltd* (`acme`): November 2026 is forecast to cost $1,050.00, 105 % of the $1,000.00 quote ($50.00 over)"},
		{1090, ""},
		{1230, "*Forecast 20 % or more over the hosting quote*"},
		{1150, ""},
		{1230, ""},
	}
	for i, st := range steps {
		r.src.set("111111111111", costReport(30, 30, st.forecast), nil)
		if err := r.job(r.src).Run(ctx); err != nil {
			t.Fatal(err)
		}
		posts := r.drain(t)
		if st.want == "" {
			if len(posts) != 0 {
				t.Fatalf("step %d (forecast %v): posted %+v", i, st.forecast, posts)
			}
			continue
		}
		if len(posts) != 2 || !strings.Contains(posts[0].Text, st.want) || channels(posts) != financeCh+","+supportCh {
			t.Fatalf("step %d (forecast %v): posts = %+v; want finance and support with %q", i, st.forecast, posts, st.want)
		}
	}
	// A new month starts afresh.
	r.now = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	rep := costReport(30, 30, 1050)
	rep.Month = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r.src.set("111111111111", rep, nil)
	if err := r.job(r.src).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if posts := r.drain(t); len(posts) != 2 || !strings.Contains(posts[0].Text, "December 2026") {
		t.Fatalf("December: posts = %+v", posts)
	}
}

func TestCostThrottlingKeepsTheCache(t *testing.T) {
	r := newCostRig(t)
	ctx := context.Background()
	r.src.set("111111111111", costReport(100, 100, 900), nil)
	if err := r.job(r.src).Run(ctx); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(3 * time.Hour)
	throttled := &integrations.RetryableError{Op: "awscost: report", StatusCode: 400, Err: errors.New("ThrottlingException: Rate exceeded")}
	r.src.set("111111111111", integrations.CostReport{}, throttled)
	job := r.job(r.src)
	if err := job.Run(ctx); !errors.Is(err, throttled) {
		t.Fatalf("Run = %v, want the throttling error", err)
	}
	rec, err := job.Refresh(ctx, "acme")
	if !errors.Is(err, throttled) {
		t.Fatalf("Refresh = %v, want the throttling error", err)
	}
	if !rec.HasSnapshot || !rec.Snapshot.FetchedAt.Equal(costNow) || rec.Failure == nil || rec.Failure.Kind != store.CostThrottled {
		t.Fatalf("record = %+v (failure %+v); want the old snapshot, marked throttled", rec, rec.Failure)
	}
	recs, _ := r.st.CostRecords(ctx, "acme")
	if got := recs["acme"]; got.Snapshot.MonthToDate != 2100 || got.Failure == nil || got.Failure.Kind != store.CostThrottled {
		t.Fatalf("cache = %+v", got)
	}
	if posts := r.drain(t); len(posts) != 0 {
		t.Fatalf("throttling posted %+v", posts)
	}
	if _, err := job.Refresh(ctx, "nope"); !errors.Is(err, jobs.ErrUnknownCostClient) {
		t.Fatalf("Refresh(unknown) = %v", err)
	}
}

func TestCostAccessDeniedNoticeOncePerDay(t *testing.T) {
	r := newCostRig(t)
	ctx := context.Background()
	denied := &integrations.PermissionError{Action: "ce:GetCostForecast", Err: fmt.Errorf("awscost: report for account 111111111111: get cost forecast: missing IAM permission ce:GetCostForecast (or invalid credentials): AccessDeniedException: no: %w", integrations.ErrUnauthorized)}
	r.src.set("111111111111", integrations.CostReport{}, denied)
	for range 3 {
		if err := r.job(r.src).Run(ctx); !errors.Is(err, integrations.ErrUnauthorized) {
			t.Fatalf("Run = %v", err)
		}
	}
	posts := r.drain(t)
	if len(posts) != 1 || posts[0].Channel != supportCh || !strings.Contains(posts[0].Text, "the IAM permission `ce:GetCostForecast` is missing") {
		t.Fatalf("posts = %+v; want one notice naming ce:GetCostForecast in support", posts)
	}
	recs, _ := r.st.CostRecords(ctx, "acme")
	if f := recs["acme"].Failure; f == nil || f.Kind != store.CostAccessDenied || f.Action != "ce:GetCostForecast" {
		t.Fatalf("failure = %+v", f)
	}
	r.now = r.now.Add(24 * time.Hour)
	_ = r.job(r.src).Run(ctx)
	if posts := r.drain(t); len(posts) != 1 {
		t.Fatalf("next day: %d notices, want 1", len(posts))
	}
}

func TestCostWeeklyReportOncePerWeek(t *testing.T) {
	r := newCostRig(t)
	ctx := context.Background()
	r.src.set("111111111111", costReport(40, 40, 1200), nil)
	r.src.set("222222222222", integrations.CostReport{}, errors.New("boom"))
	_ = r.job(r.src).Run(ctx)
	r.drain(t) // the forecast-over-quote alert
	for range 2 {
		if err := r.job(r.src).Weekly().Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	posts := r.drain(t)
	if len(posts) != 1 || posts[0].Channel != financeCh {
		t.Fatalf("posts = %+v; want one report in finance", posts)
	}
	for _, want := range []string{"*Weekly cost report* — week 47 of 2026 (2 clients)",
		"• *Acme Ltd*: month to date $840.00 · forecast $1,200.00 · ⚠️ quote $1,000.00 (forecast 120 % of it)",
		"• *Beta &amp; Co*: no cost data yet"} {
		if !strings.Contains(posts[0].Text, want) {
			t.Errorf("report lacks %q:\n%s", want, posts[0].Text)
		}
	}
	if name := r.job(r.src).Weekly().Name(); name != "cost-weekly" {
		t.Fatalf("Name = %q", name)
	}
	r.now = r.now.AddDate(0, 0, 7)
	_ = r.job(r.src).Weekly().Run(ctx)
	if posts := r.drain(t); len(posts) != 1 || !strings.Contains(posts[0].Text, "week 48") {
		t.Fatalf("next week: %+v", posts)
	}
}

// 400 clients make a report over Slack's 40,000 characters a message: it is
// cut at the limit and says how many clients it left out.
func TestCostWeeklyReportWithinSlackLimit(t *testing.T) {
	r := newCostRig(t)
	var many []jobs.CostClient
	for i := range 400 {
		many = append(many, jobs.CostClient{Key: fmt.Sprintf("client-%03d", i), Name: fmt.Sprintf("Client number %03d ", i) + strings.Repeat("with a long trading name ", 5),
			Scope: integrations.CostScope{LinkedAccount: "111111111111"}, Quote: 1000})
	}
	job := jobs.NewCost(many, r.src, r.st, jobs.CostOptions{FinanceChannel: financeCh, Now: func() time.Time { return r.now }})
	if err := job.Weekly().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	posts := r.drain(t)
	if len(posts) != 1 {
		t.Fatalf("%d posts", len(posts))
	}
	if err := slacktest.CheckMessage(posts[0].Text, nil); err != nil {
		t.Fatalf("Slack would refuse the report (%d characters): %v", len(posts[0].Text), err)
	}
	if !strings.Contains(posts[0].Text, "(400 clients)") || !strings.Contains(posts[0].Text, "more clients: `/ops cost` lists them all.") {
		t.Errorf("report:\n%.200s\n…\n%s", posts[0].Text, posts[0].Text[len(posts[0].Text)-200:])
	}
}
