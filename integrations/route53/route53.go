// Package route53 reads and changes DNS records in Amazon Route 53 for
// change-request cut-overs and rollbacks, on the real aws-sdk-go-v2 client
// (REST-XML, https://docs.aws.amazon.com/Route53/latest/APIReference/).
//
// A cut-over is: Records (keep the result with the request) → Upsert →
// WaitInSync; a rollback is Records (the current sets) → Restore(kept,
// current) → WaitInSync. All AWS SDK code of opsbot's Route 53 use lives here.
package route53

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/383project/opsbot/integrations/awsapi"
)

// DefaultRegion is the signing region when Config.Region is empty. Route 53
// is a global service signed in us-east-1.
const DefaultRegion = "us-east-1"

// Config configures the client.
type Config struct {
	// Region used for SigV4 signing; empty means DefaultRegion.
	Region string
	// EndpointURL overrides the base URL (https://route53.amazonaws.com),
	// e.g. a fake's URL, over AWS_ENDPOINT_URL_ROUTE_53 and the rest of the
	// SDK's endpoint resolution, which applies when it is empty.
	EndpointURL string
	// AccessKeyID and SecretAccessKey are static credentials (secrets). Leave
	// both empty to use the credentials of the aws.Config passed to
	// NewWithAWSConfig (the default chain); New without keys sends unsigned
	// requests, which only a fake accepts.
	AccessKeyID, SecretAccessKey string
	// RetryMaxAttempts is the SDK's attempt limit per call (throttling and 5xx
	// are retried with backoff); 0 keeps the SDK default (3). Use 1 in tests.
	RetryMaxAttempts int
}

// Client wraps the SDK's Route 53 client. It is safe for concurrent use.
type Client struct {
	api *r53.Client
	log *slog.Logger
}

// New builds a client from cfg alone. hc may be nil (the SDK's default
// HTTP client); log may be nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	return NewWithAWSConfig(aws.Config{}, cfg, hc, log)
}

// NewWithAWSConfig builds a client from an aws.Config (typically from
// config.LoadDefaultConfig, carrying the default credential chain and any
// AWS_ENDPOINT_URL_ROUTE_53), with cfg's non-empty fields taking precedence.
// hc, when not nil, replaces awsCfg.HTTPClient.
func NewWithAWSConfig(awsCfg aws.Config, cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" && awsCfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	c := awsapi.AWSConfig(awsCfg, awsapi.Config{Region: cfg.Region, EndpointURL: cfg.EndpointURL,
		AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, RetryMaxAttempts: cfg.RetryMaxAttempts}, hc)
	api := r53.NewFromConfig(c, func(o *r53.Options) { awsapi.OverrideEndpoint(&o.BaseEndpoint, cfg.EndpointURL) })
	return &Client{api: api, log: log}
}
