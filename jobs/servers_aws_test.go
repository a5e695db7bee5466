package jobs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsmon"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// awsmonSource is the adapter package app writes: the client's AWS
// account by key, and the window in awsmon's terms.
type awsmonSource struct {
	c     *awsmon.Client
	accts map[string]awsapi.Config
}

func (a awsmonSource) Snapshot(ctx context.Context, client string, scope integrations.ServerScope, q jobs.ServerQuery) (integrations.ServerSnapshot, error) {
	return a.c.Snapshot(ctx, a.accts[client], scope, awsmon.Query{Now: q.Now, Period: q.Period, Lookback: q.Lookback})
}

// The real awsmon client (EC2 query/XML, RDS query/XML, CloudWatch CBOR on
// the real SDK) against its fake, through the monitor into Redis.
func TestServersWithRealAWSClient(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	fake := awsmontest.New(t)
	tag := map[string]string{"client": "acme"}
	fake.AddInstances(awsmontest.Instance{ID: "i-0aaa", Name: "acme-web-1", Type: "t3.medium", Region: "eu-west-1", Tags: tag})
	fake.AddDBInstances(awsmontest.DBInstance{ID: "acme-prod", Class: "db.t4g.medium", Engine: "postgres", Region: "eu-west-1", StorageGiB: 100, Tags: tag})
	for i := range 6 {
		at := srvT0.Add(time.Duration(i-6) * 5 * time.Minute)
		fake.AddPoints("i-0aaa", "CPUUtilization", awsmontest.Point{At: at, Value: 30})
		fake.AddPoints("acme-prod", "FreeStorageSpace", awsmontest.Point{At: at, Value: 2 << 30})
	}
	src := awsmonSource{c: awsmon.New(aws.Config{}, &http.Client{Timeout: 10 * time.Second}, nil),
		accts: map[string]awsapi.Config{"acme": {Region: "eu-west-1", EndpointURL: fake.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET", RetryMaxAttempts: 1}}}
	c := acmeClient()
	c.Thresholds = store.ServerThresholds{Periods: 1}
	r := newServerRigWith(t, c, src)
	r.run(t)

	rec, ok, err := r.st.Servers(context.Background(), "acme")
	if err != nil || !ok || len(rec.Resources) != 2 {
		t.Fatalf("stored record = %+v, %v, %v", rec, ok, err)
	}
	for _, res := range rec.Resources {
		if res.ID == "i-0aaa" {
			if cpu, ok := res.Metric(store.MetricCPU); !ok || cpu.Value != 30 || res.Type != "t3.medium" || res.Name != "acme-web-1" {
				t.Fatalf("instance = %+v", res)
			}
		}
	}
	if a := r.alert(t, jobs.ServerAlertKey("acme", "acme-prod", "free_storage")); a.Status != store.AlertFiring {
		t.Fatalf("2 GiB free against 5 GB: %+v; want firing", a)
	}

	// A new, impaired instance: one "appeared" post and a critical outage.
	fake.AddInstances(awsmontest.Instance{ID: "i-0bbb", Name: "acme-web-2", Type: "t3.large", Region: "eu-west-1", Tags: tag, InstanceStatus: "impaired"})
	r.run(t)
	if p := posts(t, r.rdb); len(p) != 1 || !strings.Contains(p[0], "*acme-web-2* (`i-0bbb`) appeared (t3.large, eu-west-1)") {
		t.Fatalf("posts = %q", p)
	}
	key := jobs.ServerAlertKey("acme", "i-0bbb", "status")
	if evs := pagerEvents(t, r.rdb, key); len(evs) != 1 || evs[0]["Severity"] != "critical" {
		t.Fatalf("pager events = %+v; want one critical", evs)
	}

	// AWS refuses: one post naming the IAM action, the snapshot stays.
	fake.FailNext(awsmontest.OpDescribeInstances, 2, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	r.run(t)
	r.run(t)
	p := posts(t, r.rdb)
	if len(p) != 2 || !strings.Contains(p[1], "AWS denied `ec2:DescribeInstances`") {
		t.Fatalf("posts = %q; want one access-denied post naming ec2:DescribeInstances", p)
	}
	if rec, _, _ := r.st.Servers(context.Background(), "acme"); len(rec.Resources) != 3 || !strings.Contains(rec.FetchError, "ec2:DescribeInstances") {
		t.Fatalf("record after denial = %+v", rec)
	}
}
