// Package s3 reads what the launch checklist needs of S3: whether a
// bucket's versioning is Enabled (GetBucketVersioning).
package s3

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/383project/opsbot/integrations/awsapi"
)

// Client reads buckets in any account reachable from base.
type Client struct {
	base aws.Config
	hc   *http.Client
	log  *slog.Logger
}

// New builds a Client; hc and log may be nil.
func New(base aws.Config, hc *http.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{base: base, hc: hc, log: log}
}

var reBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Versioning is the bucket's versioning status: "Enabled", "Suspended", or
// "" when it was never enabled (S3 then sends an empty
// VersioningConfiguration). https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html
// With acct.EndpointURL set (tests, S3-compatible stores) the bucket goes
// in the path, as such endpoints have no per-bucket host names.
func (c *Client) Versioning(ctx context.Context, acct awsapi.Config, bucket string) (string, error) {
	if !reBucket.MatchString(bucket) {
		return "", fmt.Errorf("s3: %q is not a bucket name", bucket)
	}
	cfg := awsapi.AWSConfig(c.base, acct, c.hc)
	api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		awsapi.OverrideEndpoint(&o.BaseEndpoint, acct.EndpointURL)
		o.UsePathStyle = acct.EndpointURL != ""
	})
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", awsapi.Classify("s3: versioning of "+bucket, "s3:GetBucketVersioning", err)
	}
	return string(out.Status), nil
}
