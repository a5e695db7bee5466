package jobs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awscost"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// The cost job with the real Cost Explorer client (aws-sdk-go-v2) against
// the JSON 1.1 fake: a spike is announced once, AccessDenied names the IAM
// action and keeps the cache, throttling keeps the cache.
func TestCostJobWithCostExplorer(t *testing.T) {
	r := newCostRig(t)
	ctx := context.Background()
	ce := awscosttest.New(t)
	scope := costClients[0].Scope
	const ec2 = "Amazon Elastic Compute Cloud - Compute"
	for d := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		ce.SetDaily(scope, d, ec2, 100)
		ce.SetDaily(scope, d, "Amazon Simple Storage Service", 2)
	}
	ce.SetDaily(scope, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), ec2, 500) // yesterday
	ce.SetForecast(scope, 900)
	client := awscost.New(aws.Config{}, awsapi.Config{EndpointURL: ce.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET-KEY", RetryMaxAttempts: 1},
		&http.Client{Timeout: 10 * time.Second}, nil)
	job := jobs.NewCost(costClients[:1], client, r.st, jobs.CostOptions{SupportChannel: supportCh, FinanceChannel: financeCh,
		Now: func() time.Time { return r.now }})

	for range 2 {
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	posts := r.drain(t)
	var anomalies, quotes int
	for _, p := range posts {
		switch {
		case strings.Contains(p.Text, "*Cost anomaly*") && strings.Contains(p.Text, "cost $502.00") && strings.Contains(p.Text, "($102.00)"):
			anomalies++
		case strings.Contains(p.Text, "over the hosting quote*") && strings.Contains(p.Text, "forecast to cost $3,442.00, 344 %"):
			quotes++ // 20 days × 102 + 502 so far, + 900 forecast for the rest
		default:
			t.Errorf("unexpected post %+v", p)
		}
	}
	if anomalies != 2 || quotes != 2 {
		t.Fatalf("%d anomaly and %d quote posts, want 2 each (support + finance):\n%+v", anomalies, quotes, posts)
	}
	recs, err := r.st.CostRecords(ctx, "acme")
	if snap := recs["acme"].Snapshot; err != nil || snap.MonthToDate != 2542 || len(snap.PrevDays) != 31 || snap.Services[0].Service != ec2 {
		t.Fatalf("cached snapshot = %+v, %v", snap, err)
	}

	// AccessDenied: one notice naming the action; the cache stays.
	ce.FailNext(awscosttest.OpGetCostAndUsage, 400, "AccessDeniedException", 2)
	r.now = r.now.Add(time.Hour)
	for range 2 {
		if err := job.Run(ctx); err == nil {
			t.Fatal("Run succeeded despite AccessDenied")
		}
	}
	posts = r.drain(t)
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "`ce:GetCostAndUsage` is missing") {
		t.Fatalf("posts = %+v; want one notice naming ce:GetCostAndUsage", posts)
	}

	// Throttling: the refresh fails, marked throttled, with the old data.
	ce.FailNext(awscosttest.OpGetCostAndUsage, 400, "ThrottlingException", 1)
	rec, err := job.Refresh(ctx, "acme")
	if err == nil || rec.Failure == nil || rec.Failure.Kind != store.CostThrottled || !rec.HasSnapshot || !rec.Snapshot.FetchedAt.Equal(costNow) {
		t.Fatalf("Refresh = %+v (failure %+v), %v; want throttled with the old snapshot", rec, rec.Failure, err)
	}
	if rec, err := job.Refresh(ctx, "acme"); err != nil || rec.Failure != nil || !rec.Snapshot.FetchedAt.Equal(r.now) {
		t.Fatalf("Refresh after the throttling = %+v, %v", rec, err)
	}
}
