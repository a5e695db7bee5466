package awsmon_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsmon"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
)

var (
	now      = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	launched = time.Date(2026, 10, 1, 9, 15, 0, 0, time.UTC)
	window   = awsmon.Query{Now: now, Period: 5 * time.Minute, Lookback: 3 * time.Hour}
	acme     = map[string]string{"client": "acme"}
)

func setup(t *testing.T) (*awsmontest.Server, *awsmon.Client, awsapi.Config) {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	srv := awsmontest.New(t)
	srv.AddInstances(
		awsmontest.Instance{ID: "i-0aaa", Name: "acme-web-1", Type: "t3.medium", Region: "eu-west-1", Tags: acme, LaunchedAt: launched},
		awsmontest.Instance{ID: "i-0bbb", Name: "acme-web-2", Type: "t3.large", Region: "eu-west-1", Tags: acme, LaunchedAt: launched, InstanceStatus: "impaired"},
		awsmontest.Instance{ID: "i-0ccc", Name: "acme-batch", Type: "c5.xlarge", State: "stopped", Region: "us-east-1", Tags: acme, LaunchedAt: launched},
		awsmontest.Instance{ID: "i-0ddd", Name: "other-web", Type: "t3.small", Region: "eu-west-1", Tags: map[string]string{"client": "other"}, LaunchedAt: launched},
	)
	srv.AddDBInstances(
		awsmontest.DBInstance{ID: "acme-prod", Class: "db.t4g.medium", Engine: "postgres", Region: "eu-west-1", StorageGiB: 100, Tags: acme},
		awsmontest.DBInstance{ID: "acme-reports", Class: "db.t4g.small", Engine: "mysql", Status: "storage-full", Region: "us-east-1", StorageGiB: 20, Tags: acme},
		awsmontest.DBInstance{ID: "other-db", Class: "db.t4g.small", Engine: "postgres", Region: "eu-west-1", StorageGiB: 50, Tags: map[string]string{"client": "other"}},
	)
	acct := awsapi.Config{Region: "eu-west-1", EndpointURL: srv.URL, AccessKeyID: "AKID", SecretAccessKey: "SECRET", RetryMaxAttempts: 1}
	return srv, awsmon.New(aws.Config{}, &http.Client{Timeout: 10 * time.Second}, nil), acct
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSnapshotByTagAcrossRegions(t *testing.T) {
	srv, c, acct := setup(t)
	scope := integrations.ServerScope{Regions: []string{"eu-west-1", "us-east-1"}, TagKey: "client", TagValue: "acme"}
	snap, err := c.Snapshot(ctx(t), acct, scope, window)
	if err != nil {
		t.Fatal(err)
	}
	wantInstances := []integrations.Instance{
		{ID: "i-0aaa", Name: "acme-web-1", Region: "eu-west-1", Type: "t3.medium", State: "running", SystemStatus: "ok", InstanceStatus: "ok", LaunchedAt: launched},
		{ID: "i-0bbb", Name: "acme-web-2", Region: "eu-west-1", Type: "t3.large", State: "running", SystemStatus: "ok", InstanceStatus: "impaired", LaunchedAt: launched},
		{ID: "i-0ccc", Name: "acme-batch", Region: "us-east-1", Type: "c5.xlarge", State: "stopped", SystemStatus: "not-applicable", InstanceStatus: "not-applicable", LaunchedAt: launched},
	}
	if !reflect.DeepEqual(snap.Instances, wantInstances) {
		t.Errorf("instances =\n%+v\nwant\n%+v", snap.Instances, wantInstances)
	}
	wantDBs := []integrations.Database{
		{ID: "acme-prod", Region: "eu-west-1", Class: "db.t4g.medium", Engine: "postgres", Status: "available", StorageBytes: 100 << 30},
		{ID: "acme-reports", Region: "us-east-1", Class: "db.t4g.small", Engine: "mysql", Status: "storage-full", StorageBytes: 20 << 30},
	}
	if !reflect.DeepEqual(snap.Databases, wantDBs) {
		t.Errorf("databases =\n%+v\nwant\n%+v", snap.Databases, wantDBs)
	}
	if !snap.TakenAt.Equal(now) {
		t.Errorf("TakenAt = %v, want %v", snap.TakenAt, now)
	}
	if got := snap.Instances[1].StatusCheckFailed(); !got {
		t.Error("i-0bbb: StatusCheckFailed() = false, want true")
	}
	// Each call went to the region it was signed for, and the tag was a filter.
	for _, call := range srv.Calls(awsmontest.OpDescribeInstances) {
		if call.Form.Get("Filter.1.Name") != "tag:client" || call.Form.Get("Filter.1.Value.1") != "acme" {
			t.Errorf("DescribeInstances form = %v, want the tag filter", call.Form)
		}
	}
	regions := map[string]int{}
	for _, call := range srv.Calls() {
		regions[call.Region]++
	}
	if regions["eu-west-1"] != 4 || regions["us-east-1"] != 4 {
		t.Errorf("calls per region = %v, want 4 each (2 EC2, 1 RDS, 1 CloudWatch)", regions)
	}
}

func TestSnapshotByIDsSkipsUnknownIDs(t *testing.T) {
	srv, c, acct := setup(t)
	scope := integrations.ServerScope{InstanceIDs: []string{"i-0bbb", "i-0gone", "i-0aaa"}, DBInstances: []string{"acme-prod", "gone-db"}}
	snap, err := c.Snapshot(ctx(t), acct, scope, window)
	if err != nil {
		t.Fatalf("a vanished instance must not fail the snapshot: %v", err)
	}
	var ids []string
	for _, i := range snap.Instances {
		ids = append(ids, i.ID+"/"+i.InstanceStatus)
	}
	for _, d := range snap.Databases {
		ids = append(ids, d.ID)
	}
	if got, want := strings.Join(ids, " "), "i-0aaa/ok i-0bbb/impaired acme-prod"; got != want {
		t.Errorf("resources = %q, want %q", got, want)
	}
	if n := len(srv.Calls(awsmontest.OpDescribeInstanceStatus)); n != 1 {
		t.Errorf("DescribeInstanceStatus calls = %d, want 1", n)
	}
}

func TestSnapshotEmptyScopeSelectsNothing(t *testing.T) {
	srv, c, acct := setup(t)
	snap, err := c.Snapshot(ctx(t), acct, integrations.ServerScope{}, window)
	if err != nil || len(snap.Instances)+len(snap.Databases)+len(snap.Metrics) != 0 {
		t.Fatalf("Snapshot = %+v, %v; want empty", snap, err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestSnapshotRejectsBadPeriod(t *testing.T) {
	_, c, acct := setup(t)
	_, err := c.Snapshot(ctx(t), acct, integrations.ServerScope{TagKey: "client", TagValue: "acme"}, awsmon.Query{Now: now, Period: 90 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "whole number of minutes") {
		t.Fatalf("err = %v, want a period error", err)
	}
}

func TestPaginationEveryOperation(t *testing.T) {
	srv, c, acct := setup(t)
	for _, op := range []string{awsmontest.OpDescribeInstances, awsmontest.OpDescribeInstanceStatus, awsmontest.OpDescribeDBInstances, awsmontest.OpGetMetricData} {
		srv.SetPageSize(op, 1)
	}
	for i := range 3 {
		at := now.Add(-time.Duration(i+1) * 5 * time.Minute)
		srv.AddPoints("i-0aaa", "CPUUtilization", awsmontest.Point{At: at, Value: float64(i)})
		srv.AddPoints("acme-prod", "FreeStorageSpace", awsmontest.Point{At: at, Value: float64(i)})
	}
	scope := integrations.ServerScope{Regions: []string{"eu-west-1"}, TagKey: "client", TagValue: "acme"}
	snap, err := c.Snapshot(ctx(t), acct, scope, window)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Instances) != 2 || len(snap.Databases) != 1 || snap.Instances[1].InstanceStatus != "impaired" {
		t.Errorf("snapshot = %+v", snap)
	}
	want := map[string]int{
		awsmontest.OpDescribeInstances:      2, // i-0aaa, i-0bbb
		awsmontest.OpDescribeInstanceStatus: 2,
		awsmontest.OpDescribeDBInstances:    2, // acme-prod, other-db (listed, then dropped by tag)
		awsmontest.OpGetMetricData:          6, // 6 datapoints
	}
	for op, n := range want {
		if got := len(srv.Calls(op)); got != n {
			t.Errorf("%s calls = %d, want %d", op, got, n)
		}
	}
	for _, s := range snap.Metrics {
		if (s.Resource == "i-0aaa" && s.Metric == integrations.MetricCPU || s.Resource == "acme-prod" && s.Metric == integrations.MetricFreeStorage) && len(s.Points) != 3 {
			t.Errorf("%s %s has %d points across pages, want 3", s.Resource, s.Metric, len(s.Points))
		}
	}
}
