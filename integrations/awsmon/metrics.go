package awsmon

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
)

// maxQueriesPerCall is GetMetricData's limit of MetricDataQueries per call.
const maxQueriesPerCall = 500

// metricSpec is one CloudWatch metric opsbot reads for a kind of resource.
type metricSpec struct {
	namespace, name, dimension, stat string
	metric                           string // integrations.Metric*
}

var (
	instanceMetrics = []metricSpec{
		{"AWS/EC2", "CPUUtilization", "InstanceId", "Average", integrations.MetricCPU},
		{"AWS/EC2", "NetworkOut", "InstanceId", "Sum", integrations.MetricNetworkOut},
	}
	databaseMetrics = []metricSpec{
		{"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "Average", integrations.MetricCPU},
		{"AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", "Average", integrations.MetricFreeStorage},
	}
)

// wanted is one series to read: a resource and one of its metrics.
type wanted struct {
	resource string
	spec     metricSpec
}

// metrics reads every metric of every instance and database of one region
// over q's window: one series per (resource, metric), in resource order,
// points oldest first.
func (c *Client) metrics(ctx context.Context, api *cloudwatch.Client, region string, instances []integrations.Instance, dbs []integrations.Database, q Query) ([]integrations.MetricSeries, error) {
	var all []wanted
	for _, i := range instances {
		for _, m := range instanceMetrics {
			all = append(all, wanted{i.ID, m})
		}
	}
	for _, d := range dbs {
		for _, m := range databaseMetrics {
			all = append(all, wanted{d.ID, m})
		}
	}
	var out []integrations.MetricSeries
	for chunk := range slices.Chunk(all, maxQueriesPerCall) {
		series, err := getMetricData(ctx, api, region, chunk, q)
		if err != nil {
			return nil, err
		}
		out = append(out, series...)
	}
	return out, nil
}

// getMetricData reads at most maxQueriesPerCall series, following NextToken
// (which pages by datapoints across all queries of the call).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
func getMetricData(ctx context.Context, api *cloudwatch.Client, region string, want []wanted, q Query) ([]integrations.MetricSeries, error) {
	op := fmt.Sprintf("awsmon: get %d CloudWatch metrics in %s", len(want), region)
	period := int32(q.Period / time.Second)
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(q.Now.Add(-q.Lookback)),
		EndTime:   aws.Time(q.Now),
		ScanBy:    types.ScanByTimestampAscending,
	}
	series := make([]integrations.MetricSeries, len(want))
	byQueryID := map[string]int{}
	for n, w := range want {
		id := "m" + strconv.Itoa(n) // IDs must start with a lower-case letter
		byQueryID[id] = n
		series[n] = integrations.MetricSeries{Resource: w.resource, Metric: w.spec.metric}
		in.MetricDataQueries = append(in.MetricDataQueries, types.MetricDataQuery{
			Id: aws.String(id),
			MetricStat: &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String(w.spec.namespace), MetricName: aws.String(w.spec.name),
					Dimensions: []types.Dimension{{Name: aws.String(w.spec.dimension), Value: aws.String(w.resource)}}},
				Period: aws.Int32(period),
				Stat:   aws.String(w.spec.stat),
			},
			ReturnData: aws.Bool(true),
		})
	}
	p := cloudwatch.NewGetMetricDataPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsapi.Classify(op, "cloudwatch:GetMetricData", err)
		}
		for _, r := range page.MetricDataResults {
			n, ok := byQueryID[aws.ToString(r.Id)]
			if !ok {
				continue
			}
			for k, at := range r.Timestamps {
				if k < len(r.Values) {
					series[n].Points = append(series[n].Points, integrations.MetricPoint{At: at.UTC(), Value: r.Values[k]})
				}
			}
		}
	}
	// ScanBy asks for oldest first, but pages interleave; sort to keep the
	// contract whatever the service does.
	for n := range series {
		slices.SortStableFunc(series[n].Points, func(a, b integrations.MetricPoint) int { return a.At.Compare(b.At) })
	}
	return series, nil
}
