package s3_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/s3"
	"github.com/383project/opsbot/integrations/s3/s3test"
)

func TestVersioning(t *testing.T) {
	fake := s3test.New(t)
	fake.SetBucket("acme-uploads", "Enabled")
	fake.SetBucket("acme-logs", "Suspended")
	fake.SetBucket("acme-tmp", "")
	base := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryMaxAttempts: 1}
	c := s3.New(base, &http.Client{Timeout: 5 * time.Second}, nil)
	acct := awsapi.Config{Region: "eu-west-1", EndpointURL: fake.URL}
	ctx := context.Background()
	for bucket, want := range map[string]string{"acme-uploads": "Enabled", "acme-logs": "Suspended", "acme-tmp": ""} {
		if got, err := c.Versioning(ctx, acct, bucket); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", bucket, got, err, want)
		}
	}
	if _, err := c.Versioning(ctx, acct, "acme-gone"); err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("unknown bucket: %v", err)
	}
	if _, err := c.Versioning(ctx, acct, "../etc"); err == nil {
		t.Error("a bad bucket name was sent")
	}
	if n := fake.Calls(); n != 4 {
		t.Errorf("%d calls, want 4", n)
	}
}
