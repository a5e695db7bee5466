package ec2query_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
)

// config is a signed eu-west-1 config whose retryer does not wait between
// attempts, allowing attempts tries.
func config(attempts int) aws.Config {
	return aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func fake(t *testing.T) *awsmontest.Server {
	srv := awsmontest.New(t)
	srv.AddInstances(
		awsmontest.Instance{ID: "i-0aaa", Name: "web-1", Type: "t3.small", Region: "eu-west-1", Tags: map[string]string{"client": "acme"}, PrivateIP: "10.0.0.1"},
		awsmontest.Instance{ID: "i-0bbb", Name: "web-2", Type: "t3.small", Region: "eu-west-1", Tags: map[string]string{"client": "acme"}, State: "stopped"},
		awsmontest.Instance{ID: "i-0ccc", Name: "elsewhere", Type: "t3.small", Region: "us-east-1", Tags: map[string]string{"client": "acme"}},
		awsmontest.Instance{ID: "i-0ddd", Name: "not-acme", Type: "t3.small", Region: "eu-west-1", Tags: map[string]string{"client": "other"}},
	)
	return srv
}

// Pages are followed, filters and IDs are spelled as EC2 reads them, and
// the request is signed for the client's region (the fake answers only
// that region's instances).
func TestDescribeAgainstTheFake(t *testing.T) {
	srv := fake(t)
	srv.SetPageSize(awsmontest.OpDescribeInstances, 1)
	c := ec2query.New(config(1), srv.URL)
	got, err := c.DescribeInstances(ctx(t), nil, []ec2query.Filter{{Name: "tag:client", Values: []string{"acme"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].InstanceID != "i-0aaa" || got[0].Tag("Name") != "web-1" || got[0].PrivateIP != "10.0.0.1" || got[1].State != "stopped" {
		t.Errorf("instances = %+v, want i-0aaa (web-1, 10.0.0.1) and i-0bbb (stopped), not other's nor us-east-1's", got)
	}
	calls := srv.Calls(awsmontest.OpDescribeInstances)
	if len(calls) != 2 || calls[1].Form.Get("NextToken") == "" || calls[0].Form.Get("Version") != "2016-11-15" || calls[0].Region != "eu-west-1" {
		t.Errorf("calls = %+v, want two pages of version 2016-11-15 signed for eu-west-1", calls)
	}
	st, err := c.DescribeInstanceStatus(ctx(t), []string{"i-0aaa", "i-0bbb"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].SystemStatus != "ok" || st[1].InstanceStatus != "not-applicable" {
		t.Errorf("statuses = %+v, want i-0aaa ok and i-0bbb not-applicable", st)
	}
}

// Throttling is retried by the config's retryer; once the attempts are
// used up the error classifies as retryable and keeps AWS's code and the
// request ID, as the SDK's did.
func TestThrottlingIsRetriedThenClassified(t *testing.T) {
	srv := fake(t)
	srv.FailNext(awsmontest.OpDescribeAddresses, 1, 503, "RequestLimitExceeded", "Request limit exceeded.")
	if _, err := ec2query.New(config(2), srv.URL).DescribeAddresses(ctx(t)); err != nil {
		t.Fatalf("one throttle with two attempts: %v", err)
	}
	if n := len(srv.Calls(awsmontest.OpDescribeAddresses)); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
	srv.FailNext(awsmontest.OpDescribeAddresses, 5, 503, "RequestLimitExceeded", "Request limit exceeded.")
	_, err := ec2query.New(config(3), srv.URL).DescribeAddresses(ctx(t))
	var ae smithy.APIError
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &ae) || ae.ErrorCode() != "RequestLimitExceeded" || !errors.As(err, &maxErr) || maxErr.Attempt != 3 {
		t.Fatalf("err = %v, want RequestLimitExceeded after 3 attempts", err)
	}
	err = awsapi.Classify("op", "ec2:DescribeAddresses", err)
	if ok, _ := integrations.IsRetryable(err); !ok || !strings.Contains(err.Error(), "(request fake-") {
		t.Errorf("classified = %v, want retryable with the request ID", err)
	}
}

func TestAccessDeniedAndUnsignedAreNotRetried(t *testing.T) {
	srv := fake(t)
	srv.FailNext(awsmontest.OpDescribeInstances, 1, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	_, err := ec2query.New(config(3), srv.URL).DescribeInstances(ctx(t), nil, nil)
	err = awsapi.Classify("op", "ec2:DescribeInstances", err)
	if !errors.Is(err, integrations.ErrUnauthorized) || !strings.Contains(err.Error(), "ec2:DescribeInstances") {
		t.Errorf("err = %v, want ErrUnauthorized naming ec2:DescribeInstances", err)
	}
	unsigned := ec2query.New(aws.Config{RetryMaxAttempts: 3}, srv.URL)
	_, err = unsigned.DescribeInstances(ctx(t), nil, nil)
	if !errors.Is(awsapi.Classify("op", "ec2:DescribeInstances", err), integrations.ErrUnauthorized) {
		t.Errorf("unsigned: err = %v, want the fake's MissingAuthenticationToken as ErrUnauthorized", err)
	}
	if n := len(srv.Calls(awsmontest.OpDescribeInstances)); n != 1 {
		t.Errorf("%d recorded calls, want 1 (no retries of a 403; the unsigned one is refused before recording)", n)
	}
}

// A 5xx that is not EC2's error document (a proxy's HTML page) is still
// retried and classified by its status; a repeated NextToken stops paging.
func TestBareStatusAndRepeatedToken(t *testing.T) {
	var hits atomic.Int32
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded; charset=utf-8" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		if hits.Load() <= 2 {
			http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`<DescribeInstanceStatusResponse><instanceStatusSet/><nextToken>same</nextToken></DescribeInstanceStatusResponse>`))
	}))
	t.Cleanup(bad.Close)
	c := ec2query.New(config(2), bad.URL)
	_, err := c.DescribeInstanceStatus(ctx(t), []string{"i-1"}, false)
	if ok, _ := integrations.IsRetryable(awsapi.Classify("op", "a", err)); !ok || hits.Load() != 2 || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v after %d hits, want retryable 502 after 2", err, hits.Load())
	}
	_, err = c.DescribeInstanceStatus(ctx(t), []string{"i-1"}, false)
	if err == nil || !strings.Contains(err.Error(), "same NextToken") {
		t.Errorf("err = %v, want the repeated token refused", err)
	}
}

// awsapi.Config.EndpointURL wins over the config's own endpoint, which wins
// over EC2's regional one.
func TestEndpointOrder(t *testing.T) {
	srv := fake(t)
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "decoy", http.StatusTeapot) }))
	t.Cleanup(decoy.Close)
	cfg := config(1)
	cfg.BaseEndpoint = aws.String(decoy.URL)
	if _, err := ec2query.New(cfg, srv.URL).DescribeAddresses(ctx(t)); err != nil {
		t.Errorf("explicit endpoint: %v", err)
	}
	cfg.BaseEndpoint = aws.String(srv.URL)
	if _, err := ec2query.New(cfg, "").DescribeAddresses(ctx(t)); err != nil {
		t.Errorf("config's BaseEndpoint: %v", err)
	}
}
