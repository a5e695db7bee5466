package awscost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awscost"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
)

const (
	ec2 = "Amazon Elastic Compute Cloud - Compute"
	rds = "Amazon Relational Database Service"
	s3  = "Amazon Simple Storage Service"
)

var (
	acme   = integrations.CostScope{LinkedAccount: "111122223333"}
	other  = integrations.CostScope{LinkedAccount: "999988887777"}
	globex = integrations.CostScope{TagKey: "client", TagValue: "globex"}
	// 15 March 2026, 10:00 UTC: this month is 1-15 March, last month all of February.
	midMarch = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func newClient(t *testing.T, srv *awscosttest.Server, base aws.Config, attempts int, log *slog.Logger) *awscost.Client {
	t.Helper()
	return awscost.New(base, awsapi.Config{EndpointURL: srv.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET-KEY", RetryMaxAttempts: attempts},
		&http.Client{Timeout: 10 * time.Second}, log)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// seed gives scope EC2 10 + RDS 5 a day in February 2026 (420), and in
// March EC2 20 a day on 1-15 (300), RDS 6 a day on 1-14 (84) and S3 0.5 on
// the 3rd: 384.5 month to date on 15 March. January and 16 March lie
// outside the report's period.
func seed(srv *awscosttest.Server, scope integrations.CostScope) {
	for d := date(2026, 2, 1); d.Before(date(2026, 3, 1)); d = d.AddDate(0, 0, 1) {
		srv.SetDaily(scope, d, ec2, 10)
		srv.SetDaily(scope, d, rds, 5)
	}
	for day := 1; day <= 15; day++ {
		srv.SetDaily(scope, date(2026, 3, day), ec2, 20)
		if day < 15 {
			srv.SetDaily(scope, date(2026, 3, day), rds, 6)
		}
	}
	srv.SetDaily(scope, date(2026, 3, 3), s3, 0.5)
	srv.SetDaily(scope, date(2026, 1, 31), ec2, 1000)
	srv.SetDaily(scope, date(2026, 3, 16), ec2, 1000)
}

func checkMidMarch(t *testing.T, rep integrations.CostReport) {
	t.Helper()
	if rep.Currency != "USD" || !rep.FetchedAt.Equal(midMarch) || !rep.Month.Equal(date(2026, 3, 1)) {
		t.Errorf("Currency, FetchedAt, Month = %q, %v, %v", rep.Currency, rep.FetchedAt, rep.Month)
	}
	if rep.MonthToDate != 384.5 || rep.LastMonth != 420 || !rep.HasForecast || rep.Forecast != 984.5 {
		t.Errorf("MonthToDate, LastMonth, Forecast, HasForecast = %v, %v, %v, %v; want 384.5, 420, 984.5, true",
			rep.MonthToDate, rep.LastMonth, rep.Forecast, rep.HasForecast)
	}
	if len(rep.Days) != 15 || !rep.Days[0].Day.Equal(date(2026, 3, 1)) || rep.Days[2].Amount != 26.5 || rep.Days[14] != (integrations.DailyCost{Day: date(2026, 3, 15), Amount: 20}) {
		t.Errorf("Days = %+v", rep.Days)
	}
	if len(rep.PrevDays) != 28 || !rep.PrevDays[0].Day.Equal(date(2026, 2, 1)) || rep.PrevDays[27] != (integrations.DailyCost{Day: date(2026, 2, 28), Amount: 15}) {
		t.Errorf("PrevDays = %+v", rep.PrevDays)
	}
	want := []integrations.ServiceCost{{Service: ec2, Amount: 300}, {Service: rds, Amount: 84}, {Service: s3, Amount: 0.5}}
	if !reflect.DeepEqual(rep.Services, want) {
		t.Errorf("Services = %+v, want %+v", rep.Services, want)
	}
}

func filterJSON(t *testing.T, f *awscosttest.Expression) string {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportForLinkedAccount(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	seed(srv, other) // another client's costs must not leak in
	srv.SetForecast(acme, 600)
	srv.SetForecast(other, 5000)
	var logs bytes.Buffer
	c := newClient(t, srv, aws.Config{}, 1, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	rep, err := c.Report(ctx(t), acme, midMarch)
	if err != nil {
		t.Fatal(err)
	}
	checkMidMarch(t, rep)

	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Op != awscosttest.OpGetCostAndUsage || reqs[1].Op != awscosttest.OpGetCostForecast {
		t.Fatalf("requests = %+v, want one GetCostAndUsage and one GetCostForecast", reqs)
	}
	wantFilter := `{"Dimensions":{"Key":"LINKED_ACCOUNT","Values":["111122223333"]}}`
	for _, r := range reqs {
		if got := filterJSON(t, r.Filter); got != wantFilter {
			t.Errorf("%s Filter = %s, want %s", r.Op, got, wantFilter)
		}
		if r.Region != "us-east-1" {
			t.Errorf("%s signed for region %q, want us-east-1", r.Op, r.Region)
		}
	}
	if got, want := reqs[0].TimePeriod, (awscosttest.DateInterval{Start: "2026-02-01", End: "2026-03-16"}); got != want || reqs[0].Granularity != "DAILY" {
		t.Errorf("GetCostAndUsage period %+v %s, want %+v DAILY", got, reqs[0].Granularity, want)
	}
	if got, want := reqs[1].TimePeriod, (awscosttest.DateInterval{Start: "2026-03-15", End: "2026-04-01"}); got != want || reqs[1].Granularity != "MONTHLY" {
		t.Errorf("GetCostForecast period %+v %s, want %+v MONTHLY", got, reqs[1].Granularity, want)
	}
	if !strings.Contains(logs.String(), "cost report") || strings.Contains(logs.String(), "SECRET-KEY") {
		t.Errorf("logs must record the report and never the secret key:\n%s", logs.String())
	}
}

func TestReportForTagScopeAndCurrency(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, globex)
	seed(srv, integrations.CostScope{TagKey: "client", TagValue: "initech"})
	seed(srv, acme) // untagged account costs are not globex's
	srv.SetForecast(globex, 600)
	c := newClient(t, srv, aws.Config{}, 1, nil)

	rep, err := c.Report(ctx(t), globex, midMarch)
	if err != nil {
		t.Fatal(err)
	}
	checkMidMarch(t, rep)
	want := `{"Tags":{"Key":"client","Values":["globex"],"MatchOptions":["EQUALS"]}}`
	if got := filterJSON(t, srv.Requests()[0].Filter); got != want {
		t.Errorf("Filter = %s, want %s", got, want)
	}

	srv.SetUnit("EUR")
	rep, err = c.Report(ctx(t), globex, midMarch)
	if err != nil || rep.Currency != "EUR" {
		t.Errorf("Currency = %q, %v; want EUR from the amounts' Unit", rep.Currency, err)
	}
}

func TestReportForAccountAndTagUsesAnd(t *testing.T) {
	srv := awscosttest.New(t)
	both := integrations.CostScope{LinkedAccount: "111122223333", TagKey: "client", TagValue: "acme"}
	seed(srv, both)
	seed(srv, acme)                                                                                        // the account without the tag
	seed(srv, integrations.CostScope{LinkedAccount: "111122223333", TagKey: "client", TagValue: "shared"}) // the account, another tag
	seed(srv, integrations.CostScope{LinkedAccount: "999988887777", TagKey: "client", TagValue: "acme"})   // the tag, another account
	srv.SetForecast(both, 600)
	c := newClient(t, srv, aws.Config{}, 1, nil)

	rep, err := c.Report(ctx(t), both, midMarch)
	if err != nil {
		t.Fatal(err)
	}
	checkMidMarch(t, rep)
	want := `{"And":[{"Dimensions":{"Key":"LINKED_ACCOUNT","Values":["111122223333"]}},{"Tags":{"Key":"client","Values":["acme"],"MatchOptions":["EQUALS"]}}]}`
	if got := filterJSON(t, srv.Requests()[0].Filter); got != want {
		t.Errorf("Filter = %s, want %s", got, want)
	}
}

func TestReportFollowsPages(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	srv.SetForecast(acme, 600)
	srv.SetPageSize(7) // days split across pages
	c := newClient(t, srv, aws.Config{}, 1, nil)

	rep, err := c.Report(ctx(t), acme, midMarch)
	if err != nil {
		t.Fatal(err)
	}
	checkMidMarch(t, rep)
	// 28 February days × 2 services + 14 March days × 2 + 1 × 1 + S3 = 86 groups.
	if got, want := srv.Count(awscosttest.OpGetCostAndUsage), 13; got != want {
		t.Errorf("GetCostAndUsage calls = %d, want %d (86 groups, 7 a page)", got, want)
	}
	if reqs := srv.Requests(); reqs[0].NextPageToken != "" || reqs[1].NextPageToken == "" {
		t.Errorf("first request must have no token, the second one: %q, %q", reqs[0].NextPageToken, reqs[1].NextPageToken)
	}
}

func TestScopeWithoutAccountOrTagIsRefused(t *testing.T) {
	srv := awscosttest.New(t)
	c := newClient(t, srv, aws.Config{}, 1, nil)
	for _, scope := range []integrations.CostScope{{}, {TagKey: "client"}, {TagValue: "acme"}} {
		if _, err := c.Report(ctx(t), scope, midMarch); err == nil {
			t.Errorf("%+v: no error", scope)
		}
	}
	if _, err := c.Report(ctx(t), integrations.CostScope{}, midMarch); !strings.Contains(err.Error(), "neither a linked account nor a cost tag") {
		t.Errorf("error = %v", err)
	}
	if n := srv.Count(""); n != 0 {
		t.Errorf("%d requests sent; a refused scope must cost nothing", n)
	}
}

func TestNoDataAndNoForecast(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme) // but no forecast: DataUnavailableException
	c := newClient(t, srv, aws.Config{}, 1, nil)

	rep, err := c.Report(ctx(t), acme, midMarch)
	if err != nil || rep.HasForecast || rep.Forecast != 0 || rep.MonthToDate != 384.5 {
		t.Errorf("without forecast history: %+v, %v; want MonthToDate 384.5, no forecast, no error", rep, err)
	}

	rep, err = c.Report(ctx(t), other, midMarch)
	if err != nil || rep.HasData() || rep.HasForecast || len(rep.Days) != 15 || len(rep.PrevDays) != 28 || len(rep.Services) != 0 {
		t.Errorf("empty scope: %+v, %v; want 15+28 zero days, no data", rep, err)
	}
	if n := srv.Count(awscosttest.OpGetCostForecast); n != 1 {
		t.Errorf("GetCostForecast calls = %d, want 1 (none for a scope without data)", n)
	}

	srv.FailNext(awscosttest.OpGetCostAndUsage, 400, "DataUnavailableException", 1)
	rep, err = c.Report(ctx(t), acme, midMarch)
	if err != nil || rep.HasData() || rep.HasForecast || len(rep.Days) != 15 {
		t.Errorf("DataUnavailableException: %+v, %v; want an empty report, no error", rep, err)
	}
}
