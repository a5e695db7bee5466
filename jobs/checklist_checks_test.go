package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

type fakeCost struct {
	forecast float64
	err      error
}

func (f fakeCost) Refresh(context.Context, string) (store.CostRecord, error) {
	return store.CostRecord{Snapshot: store.CostSnapshot{Currency: "USD", Forecast: f.forecast, HasForecast: f.forecast > 0}, HasSnapshot: true}, f.err
}

type fakeBackups struct{}

func (fakeBackups) BackupRetention(_ context.Context, _ string, ids []string) (map[string]int32, error) {
	return map[string]int32{"db-on": 7, "db-off": 0}, nil
}

func (fakeBackups) Versioning(_ context.Context, _, bucket string) (string, error) {
	return map[string]string{"b-on": "Enabled", "b-susp": "Suspended"}[bucket], nil
}

type fakeSites []store.SiteStatus

func (f fakeSites) SiteStatuses(context.Context) ([]store.SiteStatus, error) { return f, nil }

func TestChecklistChecks(t *testing.T) {
	ctx := context.Background()
	quoted := func(forecast float64, err error) store.CheckResult {
		return jobs.QuotedCheck{Cost: fakeCost{forecast, err}, Quotes: map[string]float64{"acme": 1000}, Tolerance: 15}.Check(ctx, "acme")
	}
	sites := fakeSites{{Client: "acme", Site: "www", State: "up"}, {Client: "acme", Site: "api", State: "down"}}
	monitoring := func(routed bool, want ...string) store.CheckResult {
		return jobs.MonitoringCheck{Sites: sites, Expect: map[string][]string{"acme": want}, Routed: func(string) bool { return routed }}.Check(ctx, "acme")
	}
	backups := func(dbs, buckets []string) store.CheckResult {
		return jobs.BackupsCheck{Source: fakeBackups{}, Databases: map[string][]string{"acme": dbs}, Buckets: map[string][]string{"acme": buckets}}.Check(ctx, "acme")
	}
	for name, tc := range map[string]struct {
		got   store.CheckResult
		state store.ItemState
		words string
	}{
		"forecast within tolerance": {quoted(1100, nil), store.ItemVerified, "+10 %"},
		"forecast over":             {quoted(1200, nil), store.ItemFailing, "+20 %"},
		"forecast far under":        {quoted(500, nil), store.ItemFailing, "-50 %"},
		"no forecast":               {quoted(0, nil), store.ItemFailing, "no forecast"},
		"Cost Explorer down":        {quoted(0, errors.New("throttled")), store.ItemFailing, "throttled"},
		"no quote":                  {jobs.QuotedCheck{Cost: fakeCost{1000, nil}}.Check(ctx, "acme"), store.ItemFailing, "hosting_quote"},
		"every site up and routed":  {monitoring(true, "www"), store.ItemVerified, "1 sites up"},
		"a site down":               {monitoring(true, "www", "api"), store.ItemFailing, "api is down"},
		"a site never checked":      {monitoring(true, "shop"), store.ItemFailing, "shop is not checked yet"},
		"no PagerDuty routing":      {monitoring(false, "www"), store.ItemFailing, "routing key"},
		"no site configured":        {monitoring(true), store.ItemFailing, "no uptime check"},
		"Shield Standard is n/a":    {jobs.ShieldCheck{Levels: map[string]string{"acme": "standard"}}.Check(ctx, "acme"), store.ItemNA, "Shield Standard"},
		"no aws block":              {jobs.ShieldCheck{}.Check(ctx, "acme"), store.ItemFailing, "no aws block"},
		"pipeline without repos":    {jobs.PipelineCheck{}.Check(ctx, "acme"), store.ItemFailing, "no repository"},
		"backups on":                {backups([]string{"db-on"}, []string{"b-on"}), store.ItemVerified, "RDS db-on keeps 7 days; S3 b-on versioned"},
		"backups off":               {backups([]string{"db-off", "db-gone"}, nil), store.ItemFailing, "RDS db-gone not found; RDS db-off has automated backups off"},
		"versioning suspended":      {backups(nil, []string{"b-susp", "b-never"}), store.ItemFailing, "b-never versioning is never enabled"},
		"nothing listed":            {backups(nil, nil), store.ItemFailing, "launch.databases"},
		"training not configured":   {jobs.TrainingCheck{}.Check(ctx, "acme"), store.ItemFailing, "not configured"},
	} {
		if tc.got.State != tc.state || !strings.Contains(tc.got.Detail, tc.words) {
			t.Errorf("%s: %+v, want %s with %q", name, tc.got, tc.state, tc.words)
		}
	}
}
