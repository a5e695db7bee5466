package awscosttest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ce "github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/smithy-go"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
)

var acme = integrations.CostScope{LinkedAccount: "111122223333"}

func client(srv *awscosttest.Server) *ce.Client {
	return ce.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

func input() *ce.GetCostAndUsageInput {
	return &ce.GetCostAndUsageInput{
		Granularity: types.GranularityDaily, Metrics: []string{"UnblendedCost"},
		TimePeriod: &types.DateInterval{Start: aws.String("2026-03-01"), End: aws.String("2026-03-03")},
		GroupBy:    []types.GroupDefinition{{Type: types.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
		Filter:     &types.Expression{Dimensions: &types.DimensionValues{Key: types.DimensionLinkedAccount, Values: []string{acme.LinkedAccount}}},
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The fake refuses what Cost Explorer refuses, so a client bug shows up
// as an error rather than as figures.
func TestFakeValidatesLikeCostExplorer(t *testing.T) {
	srv := awscosttest.New(t)
	srv.SetDaily(acme, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "EC2", 1)
	c := client(srv)
	ctx := context.Background()
	for name, mutate := range map[string]func(*ce.GetCostAndUsageInput){
		"And with one operand": func(in *ce.GetCostAndUsageInput) { in.Filter = &types.Expression{And: []types.Expression{*in.Filter}} },
		"two operands": func(in *ce.GetCostAndUsageInput) {
			in.Filter.Tags = &types.TagValues{Key: aws.String("client"), Values: []string{"a"}}
		},
		"forecast metric name": func(in *ce.GetCostAndUsageInput) { in.Metrics = []string{"UNBLENDED_COST"} },
		"end before start":     func(in *ce.GetCostAndUsageInput) { in.TimePeriod.End = aws.String("2026-03-01") },
	} {
		in := input()
		mutate(in)
		if _, err := c.GetCostAndUsage(ctx, in); code(err) != "ValidationException" {
			t.Errorf("%s: got %v, want ValidationException", name, err)
		}
	}

	srv.SetPageSize(1)
	out, err := c.GetCostAndUsage(ctx, input())
	if err != nil || len(out.ResultsByTime) != 1 || out.NextPageToken == nil {
		t.Fatalf("first page: %+v, %v", out, err)
	}
	in := input()
	in.NextPageToken = aws.String("bogus")
	if _, err := c.GetCostAndUsage(ctx, in); code(err) != "InvalidNextTokenException" {
		t.Errorf("bad token: got %v", err)
	}
	in = input()
	in.NextPageToken = out.NextPageToken
	in.TimePeriod.End = aws.String("2026-03-04")
	if _, err := c.GetCostAndUsage(ctx, in); code(err) != "RequestChangedException" {
		t.Errorf("changed request: got %v", err)
	}

	srv.FailNext(awscosttest.OpGetCostForecast, 400, "ThrottlingException", 1)
	if _, err := c.GetCostAndUsage(ctx, input()); err != nil {
		t.Errorf("a failure queued for GetCostForecast hit GetCostAndUsage: %v", err)
	}
	_, err = c.GetCostForecast(ctx, &ce.GetCostForecastInput{Metric: types.MetricUnblendedCost, Granularity: types.GranularityMonthly,
		TimePeriod: &types.DateInterval{Start: aws.String("2026-03-02"), End: aws.String("2026-04-01")}})
	var le *types.LimitExceededException
	if code(err) != "ThrottlingException" || errors.As(err, &le) {
		t.Errorf("queued throttling: got %v", err)
	}
}
