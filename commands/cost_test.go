package commands_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awscost"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// costNow is the router's clock; cached data was fetched three hours before.
var (
	costNow     = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	costFetched = costNow.Add(-3 * time.Hour)
	costMonth   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

const (
	supportUser = "USUPPORT01"
	financeUser = "UFINANCE01"
	stakeUser   = "USTAKE0001"
	engUser     = "UENGINEER1"
)

var acmeScope = integrations.CostScope{LinkedAccount: "111111111111"}

// costSnapshot: last month 90 a day, this month 100 a day through the
// 22nd, six services, forecast 3,100.
func costSnapshot() store.CostSnapshot {
	s := store.CostSnapshot{Currency: "USD", FetchedAt: costFetched, Month: costMonth, Forecast: 3100, HasForecast: true}
	for d := costMonth.AddDate(0, -1, 0); d.Before(costMonth); d = d.AddDate(0, 0, 1) {
		s.PrevDays = append(s.PrevDays, store.CostDay{Day: d, Amount: 90})
		s.LastMonth += 90
	}
	for d := costMonth; d.Day() <= 22; d = d.AddDate(0, 0, 1) {
		s.Days = append(s.Days, store.CostDay{Day: d, Amount: 100})
		s.MonthToDate += 100
	}
	for _, sv := range []struct {
		name   string
		amount float64
	}{{"Amazon Elastic Compute Cloud - Compute", 1200}, {"Amazon Relational Database Service", 500},
		{"Amazon Simple Storage Service", 200}, {"AWS Lambda", 150}, {"Amazon CloudFront", 100}, {"<b>Tax</b>", 50}} {
		s.Services = append(s.Services, store.CostService{Service: sv.name, Amount: sv.amount})
	}
	return s
}

type costFixture struct {
	*fixture
	up *uploads
	ce *awscosttest.Server
}

// newCostFixture wires /ops cost to the real cache, the real cost job's
// Refresh and the real Cost Explorer client against the JSON 1.1 fake.
func newCostFixture(t *testing.T, with func(d *commands.Deps)) *costFixture {
	t.Helper()
	cf := &costFixture{up: &uploads{}, ce: awscosttest.New(t)}
	api := awscost.New(aws.Config{}, awsapi.Config{EndpointURL: cf.ce.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET-KEY", RetryMaxAttempts: 1},
		&http.Client{Timeout: 10 * time.Second}, nil)
	cf.fixture = newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		job := jobs.NewCost([]jobs.CostClient{{Key: "acme", Name: "Acme Ltd", Scope: acmeScope, Quote: 3000},
			{Key: "beta", Name: "Beta & Co", Scope: integrations.CostScope{TagKey: "client", TagValue: "beta"}}},
			api, st, jobs.CostOptions{Now: func() time.Time { return costNow }})
		d.Costs, d.CostRefresh, d.Files = st, job, cf.up
		d.CostQuotes = map[string]float64{"acme": 3000, "beta": 0}
		d.Now = func() time.Time { return costNow }
		if with != nil {
			with(d)
		}
	})
	for user, g := range map[string]store.Grant{supportUser: {Role: store.Support}, financeUser: {Role: store.Finance},
		stakeUser: {Role: store.Stakeholder, Client: "acme"}, engUser: {Role: store.Engineer}} {
		cf.grant(t, user, g)
	}
	return cf
}

func (cf *costFixture) cache(t *testing.T, client string, s store.CostSnapshot) {
	t.Helper()
	if err := cf.st.SaveCostSnapshot(context.Background(), client, s); err != nil {
		t.Fatal(err)
	}
}

func wantAll(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply lacks %q:\n%s", w, got)
		}
	}
}

func TestCostOneClientFromCacheWithChart(t *testing.T) {
	cf := newCostFixture(t, nil)
	cf.cache(t, "acme", costSnapshot())
	for _, user := range []string{admin, supportUser, financeUser, stakeUser} {
		got := text(cf.run(user, "cost AC"))
		wantAll(t, got, "*Month to date:* $2,200.00 (through 22 Nov)", "*Forecast to month end:* $3,100.00",
			"*Quote:* $3,000.00 · forecast *103 %* of it ⚠️ over the quote",
			"*vs last month to the same day:* +$220.00 (+11 %)",
			"1. Amazon Elastic Compute Cloud - Compute — $1,200.00 (55 %)", "5. Amazon CloudFront — $100.00",
			"data from 3h ago", "The cost chart is in your direct messages with me as `cost-acme-2026-11.png`.")
		if strings.Contains(got, "Tax") {
			t.Errorf("%s: a sixth service is shown:\n%s", user, got)
		}
	}
	ups := cf.up.all()
	if len(ups) != 4 || ups[0].channel != "dm:"+admin || ups[3].channel != "dm:"+stakeUser || ups[0].filename != "cost-acme-2026-11.png" || ups[0].title != "Acme Ltd — AWS cost, November 2026" {
		t.Fatalf("uploads = %d, first %+v", len(ups), ups[0])
	}
	img, err := png.Decode(bytes.NewReader(ups[0].content))
	if err != nil || img.Bounds().Dx() != 800 {
		t.Fatalf("chart is not an 800 px PNG: %v", err)
	}
	if n := len(cf.ce.Requests()); n != 0 {
		t.Fatalf("answering from the cache made %d Cost Explorer requests", n)
	}
}

func TestCostConsoleShowsChartPath(t *testing.T) {
	cf := newCostFixture(t, func(d *commands.Deps) { d.Files = pathUploader{} })
	cf.cache(t, "acme", costSnapshot())
	wantAll(t, text(cf.run(supportUser, "cost acme")), "The cost chart: `/tmp/opsbot/cost-acme-2026-11.png`")
}

// pathUploader is the console's way: it writes the file and returns its path.
type pathUploader struct{}

func (pathUploader) Upload(_ context.Context, _, filename, _ string, _ []byte) (string, error) {
	return "/tmp/opsbot/" + filename, nil
}

func (p pathUploader) UploadDM(ctx context.Context, _, filename, title string, content []byte) (string, error) {
	return p.Upload(ctx, "", filename, title, content)
}

func TestCostAllClientsByRole(t *testing.T) {
	cf := newCostFixture(t, nil)
	cf.cache(t, "acme", costSnapshot())
	for _, user := range []string{admin, supportUser, financeUser} {
		got := text(cf.run(user, "cost"))
		wantAll(t, got, "AWS cost — all clients", "2 clients · 1 forecast over the quote",
			"• Acme Ltd (`acme`): $2,200.00 to date · forecast $3,100.00 · ⚠️ 103 % of the $3,000.00 quote · 3h ago",
			"• Beta &amp; Co (`beta`): no cost data yet")
	}
	got := text(cf.run(stakeUser, "cost"))
	wantAll(t, got, "AWS cost — your clients", "1 client", "Acme Ltd (`acme`)")
	if strings.Contains(got, "beta") {
		t.Fatalf("a stakeholder of acme sees beta:\n%s", got)
	}
	if got := cf.run(engUser, "cost"); !strings.HasPrefix(got.Text, ":no_entry:") || !strings.Contains(got.Text, "*finance*") {
		t.Fatalf("an engineer was not refused: %q", got.Text)
	}
}

func TestCostStakeholderAskingForAnotherClientIsRefused(t *testing.T) {
	cf := newCostFixture(t, nil)
	cf.cache(t, "beta", costSnapshot())
	got := cf.run(stakeUser, "cost beta")
	// Answered like a client that does not exist: beta's name is not shown.
	wantAll(t, got.Text, ":no_entry: \"beta\" is not one of the clients you can see. Clients you can see: Acme Ltd (`acme`).")
	if unknown := cf.run(stakeUser, "cost zzzz").Text; strings.Contains(got.Text, "Beta &amp; Co") || strings.Replace(got.Text, `"beta"`, `"zzzz"`, 1) != unknown {
		t.Fatalf("refusal %q names the other client or differs from an unknown one's %q", got.Text, unknown)
	}
	if strings.Contains(got.Text, "2,200") || len(cf.up.all()) != 0 {
		t.Fatalf("refusal leaked figures or a chart: %q", got.Text)
	}
}

func TestCostUnknownClientListsVisibleClients(t *testing.T) {
	cf := newCostFixture(t, nil)
	got := cf.run(supportUser, "cost zz<b>")
	wantAll(t, got.Text, ":warning: I don't know a client called \"zz&lt;b&gt;\". Clients you can see: Acme Ltd (`acme`), Beta &amp; Co (`beta`).", "For example: `/ops cost acme`")
	got = cf.run(stakeUser, "cost zz")
	wantAll(t, got.Text, "Clients you can see: Acme Ltd (`acme`).")
	if strings.Contains(got.Text, "beta") {
		t.Fatalf("the stakeholder's list names beta: %q", got.Text)
	}
	for in, want := range map[string]string{
		"cost acme beta":    "at most one client",
		"cost acme --force": "knows the options `--refresh` and `--here`",
		"cost --refresh":    "Name the client to refresh",
	} {
		if got := cf.run(supportUser, in); !strings.HasPrefix(got.Text, ":warning:") || !strings.Contains(got.Text, want) {
			t.Errorf("%q → %q, want %q", in, got.Text, want)
		}
	}
}

func TestCostNoDataSaysSoWithoutChart(t *testing.T) {
	cf := newCostFixture(t, nil)
	wantAll(t, cf.run(supportUser, "cost acme").Text, "No cost data for Acme Ltd (`acme`) yet", "`/ops cost acme --refresh` fetches it now")
	if got := cf.run(financeUser, "cost acme").Text; strings.Contains(got, "--refresh") {
		t.Errorf("finance, who may not refresh, is offered --refresh: %q", got)
	}
	empty := costSnapshot()
	empty.Services, empty.MonthToDate, empty.Forecast = nil, 0, 0
	for i := range empty.Days {
		empty.Days[i].Amount = 0
	}
	for i := range empty.PrevDays {
		empty.PrevDays[i].Amount = 0
	}
	cf.cache(t, "beta", empty)
	wantAll(t, cf.run(supportUser, "cost beta").Text, "Cost Explorer has no costs for Beta &amp; Co (`beta`)", "so there is no chart (data from 3h ago)")
	if n := len(cf.up.all()); n != 0 {
		t.Fatalf("%d charts uploaded for no data", n)
	}
}

func TestCostRefreshFaults(t *testing.T) {
	cf := newCostFixture(t, nil)
	cf.cache(t, "acme", costSnapshot())
	for _, user := range []string{financeUser, stakeUser} {
		if got := cf.run(user, "cost acme --refresh"); !strings.HasPrefix(got.Text, ":no_entry: To fetch costs from AWS now") {
			t.Errorf("%s may refresh: %q", user, got.Text)
		}
	}
	if n := len(cf.ce.Requests()); n != 0 {
		t.Fatalf("refused refreshes made %d requests", n)
	}

	cf.ce.FailNext(awscosttest.OpGetCostAndUsage, 400, "ThrottlingException", 1)
	got := text(cf.run(supportUser, "cost acme --refresh"))
	wantAll(t, got, "AWS is throttling, data from 3h ago shown", "*Month to date:* $2,200.00")

	cf.ce.FailNext(awscosttest.OpGetCostAndUsage, 400, "AccessDeniedException", 1)
	got = text(cf.run(admin, "cost acme --refresh"))
	wantAll(t, got, "AWS refused: opsbot's IAM policy lacks `ce:GetCostAndUsage`", "data from 3h ago shown")

	// Cached data with the failure recorded: a plain /ops cost says so too.
	wantAll(t, text(cf.run(financeUser, "cost acme")), "lacks `ce:GetCostAndUsage`")
	wantAll(t, text(cf.run(financeUser, "cost")), "🔒 missing IAM permission `ce:GetCostAndUsage`")

	// No costs at all for beta's tag: said so, no chart.
	got = text(cf.run(supportUser, "cost beta --refresh"))
	wantAll(t, got, "Cost Explorer has no costs for Beta &amp; Co (`beta`)", "data from just now")

	// A good refresh replaces the cache.
	for d := costMonth.AddDate(0, -1, 0); d.Before(costMonth); d = d.AddDate(0, 0, 1) {
		cf.ce.SetDaily(acmeScope, d, "Amazon Elastic Compute Cloud - Compute", 90)
	}
	for d := costMonth; d.Day() <= 22; d = d.AddDate(0, 0, 1) {
		cf.ce.SetDaily(acmeScope, d, "Amazon Elastic Compute Cloud - Compute", 50)
	}
	cf.ce.SetForecast(acmeScope, 400)
	got = text(cf.run(supportUser, "cost acme --refresh"))
	wantAll(t, got, "*Month to date:* $1,100.00", "*Forecast to month end:* $1,500.00", "data from just now", "−$880.00 (−44 %)")
	if strings.Contains(got, "refused") || strings.Contains(got, "throttling") {
		t.Fatalf("an old failure is still shown:\n%s", got)
	}
	if n := len(cf.up.all()); n != 4 {
		t.Fatalf("%d charts uploaded, want 4 (throttled, denied and the plain view with cached data, the good refresh; none for beta)", n)
	}
}

func TestCostNotConfigured(t *testing.T) {
	f := newFixture(t)
	if got := f.run(admin, "cost acme"); !strings.Contains(got.Text, "Cost monitoring is not configured") {
		t.Fatalf("reply = %q", got.Text)
	}
}
