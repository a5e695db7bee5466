package awsmon_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
)

func TestMetricSeriesOldestFirst(t *testing.T) {
	srv, c, acct := setup(t)
	at := func(minAgo int) time.Time { return now.Add(-time.Duration(minAgo) * time.Minute) }
	// Added newest first and with one point outside the window.
	srv.AddPoints("i-0aaa", "CPUUtilization", awsmontest.Point{At: at(5), Value: 91}, awsmontest.Point{At: at(10), Value: 40}, awsmontest.Point{At: at(15), Value: 35})
	srv.AddPoints("i-0aaa", "CPUUtilization", awsmontest.Point{At: at(4 * 60), Value: 1})
	srv.AddPoints("i-0aaa", "NetworkOut", awsmontest.Point{At: at(5), Value: 1e9})
	srv.AddPoints("acme-prod", "CPUUtilization", awsmontest.Point{At: at(5), Value: 12.5})
	srv.AddPoints("acme-prod", "FreeStorageSpace", awsmontest.Point{At: at(10), Value: 5e9}, awsmontest.Point{At: at(5), Value: 4e9})

	scope := integrations.ServerScope{InstanceIDs: []string{"i-0aaa"}, DBInstances: []string{"acme-prod"}}
	snap, err := c.Snapshot(ctx(t), acct, scope, window)
	if err != nil {
		t.Fatal(err)
	}
	want := []integrations.MetricSeries{
		{Resource: "i-0aaa", Metric: integrations.MetricCPU, Points: []integrations.MetricPoint{{At: at(15), Value: 35}, {At: at(10), Value: 40}, {At: at(5), Value: 91}}},
		{Resource: "i-0aaa", Metric: integrations.MetricNetworkOut, Points: []integrations.MetricPoint{{At: at(5), Value: 1e9}}},
		{Resource: "acme-prod", Metric: integrations.MetricCPU, Points: []integrations.MetricPoint{{At: at(5), Value: 12.5}}},
		{Resource: "acme-prod", Metric: integrations.MetricFreeStorage, Points: []integrations.MetricPoint{{At: at(10), Value: 5e9}, {At: at(5), Value: 4e9}}},
	}
	if !reflect.DeepEqual(snap.Metrics, want) {
		t.Errorf("metrics =\n%+v\nwant\n%+v", snap.Metrics, want)
	}
	if p, ok := snap.Metrics[0].Latest(); !ok || p.Value != 91 {
		t.Errorf("Latest = %+v, %v; want 91", p, ok)
	}

	calls := srv.Calls(awsmontest.OpGetMetricData)
	if len(calls) != 1 {
		t.Fatalf("GetMetricData calls = %d, want 1", len(calls))
	}
	call := calls[0]
	if !call.Start.Equal(now.Add(-3*time.Hour)) || !call.End.Equal(now) || call.ScanBy != "TimestampAscending" {
		t.Errorf("window = %v..%v scan %q, want %v..%v ascending", call.Start, call.End, call.ScanBy, now.Add(-3*time.Hour), now)
	}
	var got []string
	for _, q := range call.Queries {
		got = append(got, fmt.Sprintf("%s %s %s=%s %s %d", q.Namespace, q.MetricName, q.DimensionName, q.DimensionValue, q.Stat, q.Period))
	}
	wantQ := []string{
		"AWS/EC2 CPUUtilization InstanceId=i-0aaa Average 300",
		"AWS/EC2 NetworkOut InstanceId=i-0aaa Sum 300",
		"AWS/RDS CPUUtilization DBInstanceIdentifier=acme-prod Average 300",
		"AWS/RDS FreeStorageSpace DBInstanceIdentifier=acme-prod Average 300",
	}
	if !reflect.DeepEqual(got, wantQ) {
		t.Errorf("queries =\n%q\nwant\n%q", got, wantQ)
	}
}

// 260 instances and 1 database are 522 queries: two CBOR round trips of at
// most 500, every series still complete.
func TestMetricsSplitAt500Queries(t *testing.T) {
	srv, c, acct := setup(t)
	var ids []string
	for n := range 260 {
		id := fmt.Sprintf("i-1%05d", n)
		ids = append(ids, id)
		srv.AddInstances(awsmontest.Instance{ID: id, Type: "t3.micro", Region: "eu-west-1"})
		srv.AddPoints(id, "NetworkOut", awsmontest.Point{At: now.Add(-5 * time.Minute), Value: float64(n)})
	}
	snap, err := c.Snapshot(ctx(t), acct, integrations.ServerScope{InstanceIDs: ids, DBInstances: []string{"acme-prod"}}, window)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, call := range srv.Calls(awsmontest.OpGetMetricData) {
		sizes = append(sizes, len(call.Queries))
	}
	if !reflect.DeepEqual(sizes, []int{500, 22}) {
		t.Errorf("queries per call = %v, want [500 22]", sizes)
	}
	if len(snap.Metrics) != 522 {
		t.Fatalf("series = %d, want 522", len(snap.Metrics))
	}
	for n, id := range ids {
		s := snap.Metrics[2*n+1]
		if p, ok := s.Latest(); s.Resource != id || s.Metric != integrations.MetricNetworkOut || !ok || p.Value != float64(n) {
			t.Fatalf("series %d = %+v, want %s network_out %d", 2*n+1, s, id, n)
		}
	}
	if got := len(srv.Calls(awsmontest.OpDescribeInstances)); got != 2 {
		t.Errorf("DescribeInstances calls = %d, want 2 (instance-id filter of at most 200 values)", got)
	}
}
