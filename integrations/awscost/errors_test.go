package awscost_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awscost"
	"github.com/383project/opsbot/integrations/awscost/awscosttest"
)

func TestAccessDeniedNamesTheIAMAction(t *testing.T) {
	for _, op := range []string{awscosttest.OpGetCostAndUsage, awscosttest.OpGetCostForecast} {
		srv := awscosttest.New(t)
		seed(srv, acme)
		srv.SetForecast(acme, 600)
		srv.FailNext(op, 400, "AccessDeniedException", 1)
		_, err := newClient(t, srv, aws.Config{}, 1, nil).Report(ctx(t), acme, midMarch)
		if err == nil || !strings.Contains(err.Error(), "missing IAM permission ce:"+op) || !errors.Is(err, integrations.ErrUnauthorized) {
			t.Errorf("%s: got %v", op, err)
		}
		if ok, _ := integrations.IsRetryable(err); ok {
			t.Errorf("%s: AccessDenied must be final", op)
		}
	}
}

func TestThrottlingAndServerErrorsAreRetryable(t *testing.T) {
	for _, tc := range []struct {
		op, code string
		status   int
	}{
		{awscosttest.OpGetCostAndUsage, "ThrottlingException", 400},
		{awscosttest.OpGetCostAndUsage, "LimitExceededException", 400},
		{awscosttest.OpGetCostAndUsage, "InternalServerError", 500},
		{awscosttest.OpGetCostForecast, "LimitExceededException", 400},
		{awscosttest.OpGetCostForecast, "ServiceUnavailableException", 503},
	} {
		srv := awscosttest.New(t)
		seed(srv, acme)
		srv.SetForecast(acme, 600)
		srv.FailNext(tc.op, tc.status, tc.code, 1)
		_, err := newClient(t, srv, aws.Config{}, 1, nil).Report(ctx(t), acme, midMarch)
		var re *integrations.RetryableError
		if !errors.As(err, &re) || re.StatusCode != tc.status || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%s %d %s: want RetryableError with the code, got %v", tc.op, tc.status, tc.code, err)
		}
	}
}

// noBackoff retries at once, so the test does not wait for the SDK's backoff.
func noBackoff() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

func TestSDKRetriesThrottlingThenSucceeds(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	srv.SetForecast(acme, 600)
	srv.FailNext(awscosttest.OpGetCostAndUsage, 400, "ThrottlingException", 2)
	srv.FailNext(awscosttest.OpGetCostForecast, 500, "InternalServerError", 1)
	c := newClient(t, srv, aws.Config{Retryer: noBackoff}, 3, nil)

	rep, err := c.Report(ctx(t), acme, midMarch)
	if err != nil {
		t.Fatal(err)
	}
	checkMidMarch(t, rep)
	if got, fc := srv.Count(awscosttest.OpGetCostAndUsage), srv.Count(awscosttest.OpGetCostForecast); got != 3 || fc != 2 {
		t.Errorf("calls = %d GetCostAndUsage, %d GetCostForecast; want 3 and 2 (retries)", got, fc)
	}

	srv.FailNext(awscosttest.OpGetCostAndUsage, 400, "ThrottlingException", 3)
	_, err = c.Report(ctx(t), acme, midMarch)
	if ok, _ := integrations.IsRetryable(err); !ok {
		t.Errorf("throttled 3 times of 3: want RetryableError, got %v", err)
	}
}

func TestContextErrorStaysAContextError(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t, srv, aws.Config{}, 1, nil).Report(c, acme, midMarch)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		t.Errorf("a cancelled report must not be retried")
	}
}

func TestBadAmountIsAnError(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	srv.SetDailyRaw(acme, date(2026, 3, 2), rds, "6,00")
	_, err := newClient(t, srv, aws.Config{}, 1, nil).Report(ctx(t), acme, midMarch)
	if err == nil || !strings.Contains(err.Error(), "bad amount") || !strings.Contains(err.Error(), "2026-03-02") {
		t.Fatalf("got %v", err)
	}
}

func TestRequestsAreSigned(t *testing.T) {
	srv := awscosttest.New(t)
	seed(srv, acme)
	unsigned := awscost.New(aws.Config{}, awsapi.Config{EndpointURL: srv.URL, RetryMaxAttempts: 1}, nil, nil)
	if _, err := unsigned.Report(ctx(t), acme, midMarch); err == nil || !strings.Contains(err.Error(), "MissingAuthenticationToken") {
		t.Errorf("unsigned request: got %v, want the fake to refuse it", err)
	}
	srv.AllowUnsigned()
	if _, err := unsigned.Report(ctx(t), acme, midMarch); err != nil {
		t.Errorf("unsigned request allowed: %v", err)
	}
	if _, err := newClient(t, srv, aws.Config{Region: "eu-west-1"}, 1, nil).Report(ctx(t), acme, midMarch); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Region != "us-east-1" {
		t.Errorf("signed for %q, want us-east-1 whatever the base config's region", last.Region)
	}
}
