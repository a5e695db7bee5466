package awsmon_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
)

func TestErrorsAreClassified(t *testing.T) {
	tests := []struct {
		op, code   string
		status     int
		wantAction string // "" = retryable
	}{
		{awsmontest.OpDescribeInstances, "UnauthorizedOperation", 403, "ec2:DescribeInstances"},
		{awsmontest.OpDescribeInstanceStatus, "UnauthorizedOperation", 403, "ec2:DescribeInstanceStatus"},
		{awsmontest.OpDescribeDBInstances, "AccessDenied", 403, "rds:DescribeDBInstances"},
		{awsmontest.OpGetMetricData, "AccessDenied", 403, "cloudwatch:GetMetricData"},
		{awsmontest.OpDescribeInstances, "RequestLimitExceeded", 503, ""},
		{awsmontest.OpDescribeDBInstances, "Throttling", 400, ""},
		{awsmontest.OpGetMetricData, "Throttling", 400, ""},
		{awsmontest.OpDescribeInstanceStatus, "InternalError", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.code, func(t *testing.T) {
			srv, c, acct := setup(t)
			srv.FailNext(tt.op, 1, tt.status, tt.code, "denied or throttled by the fake")
			_, err := c.Snapshot(ctx(t), acct, integrations.ServerScope{TagKey: "client", TagValue: "acme"}, window)
			if err == nil {
				t.Fatal("Snapshot succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("err = %v, want AWS's code %s in it", err, tt.code)
			}
			retryable, _ := integrations.IsRetryable(err)
			if tt.wantAction == "" {
				if !retryable {
					t.Errorf("err = %v, want *integrations.RetryableError", err)
				}
				return
			}
			if retryable || !errors.Is(err, integrations.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantAction) {
				t.Errorf("err = %v, want ErrUnauthorized naming %s, not retryable", err, tt.wantAction)
			}
		})
	}
}

// A failure of one op does not linger: the next snapshot succeeds.
func TestFailNextCountsDown(t *testing.T) {
	srv, c, acct := setup(t)
	srv.FailNext(awsmontest.OpDescribeDBInstances, 2, 400, "Throttling", "Rate exceeded")
	scope := integrations.ServerScope{TagKey: "client", TagValue: "acme"}
	for i, wantErr := range []bool{true, true, false} {
		_, err := c.Snapshot(ctx(t), acct, scope, window)
		if (err != nil) != wantErr {
			t.Errorf("snapshot %d: err = %v, want error %v", i, err, wantErr)
		}
	}
}

// The fake answers an explicit unknown InstanceId as EC2 does, which is why
// Snapshot asks by instance-id filter instead.
func TestFakeRejectsUnknownInstanceIDLikeEC2(t *testing.T) {
	srv, _, acct := setup(t)
	cfg := awsapi.AWSConfig(aws.Config{}, acct, nil)
	api := ec2query.New(cfg, acct.EndpointURL)
	_, err := api.DescribeInstances(ctx(t), []string{"i-0aaa", "i-0gone"}, nil)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstanceID.NotFound" || !strings.Contains(ae.ErrorMessage(), "i-0gone") {
		t.Fatalf("err = %v, want InvalidInstanceID.NotFound naming i-0gone", err)
	}
	if got := srv.Calls(awsmontest.OpDescribeInstances)[0].Form.Get("InstanceId.2"); got != "i-0gone" {
		t.Errorf("InstanceId.2 = %q, want i-0gone", got)
	}
}
