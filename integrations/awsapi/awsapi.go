// Package awsapi is the AWS plumbing every AWS integration of opsbot shares
// (route53, awscost, awsmon): one way to build an aws.Config for a client's
// account (region, endpoint override, static keys or the default chain, an
// optional role to assume) and one way to turn an SDK error into opsbot's
// (throttling and 5xx retryable, access denied naming the IAM action).
package awsapi

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Config selects the account and endpoint of one AWS client.
type Config struct {
	// Region used for SigV4 signing and regional endpoints; empty keeps the
	// base config's region, then DefaultRegion.
	Region string
	// EndpointURL overrides the service's base URL, e.g. a fake's URL, and
	// wins over the SDK's own rules. Empty keeps the SDK's endpoint
	// resolution: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the shared
	// config file's endpoint_url and services sections (only when the base
	// config came from config.LoadDefaultConfig), unless
	// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true.
	EndpointURL string
	// AccessKeyID and SecretAccessKey are static credentials (secrets). Leave
	// both empty to use the base config's credentials (the default chain).
	AccessKeyID, SecretAccessKey string
	// RoleARN, when set, is assumed (sts:AssumeRole) with the credentials
	// above, for a client's own AWS account.
	RoleARN string
	// ExternalID is sent with the AssumeRole call when the client's trust
	// policy requires one (sts:ExternalId).
	ExternalID string
	// STSEndpointURL overrides the STS endpoint used to assume RoleARN.
	STSEndpointURL string
	// RetryMaxAttempts is the SDK's attempt limit per call (throttling and 5xx
	// are retried with backoff); 0 keeps the SDK default (3). Use 1 in tests.
	RetryMaxAttempts int
}

// DefaultRegion is the region when neither Config nor the base config names one.
const DefaultRegion = "us-east-1"

// AWSConfig derives the aws.Config for cfg from base (typically from
// config.LoadDefaultConfig; the zero aws.Config in tests). hc, when not
// nil, replaces base.HTTPClient; either way requests go through a
// transport that buffers their bodies. Without credentials anywhere, requests go
// unsigned, which only a fake accepts.
func AWSConfig(base aws.Config, cfg Config, hc *http.Client) aws.Config {
	c := base.Copy()
	if cfg.Region != "" {
		c.Region = cfg.Region
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		c.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	}
	if hc != nil || c.HTTPClient == nil {
		// Every AWS client gets request bodies buffered (see bufferedBodies).
		c.HTTPClient = httpClient(hc)
	}
	if cfg.RetryMaxAttempts > 0 {
		c.RetryMaxAttempts = cfg.RetryMaxAttempts
	}
	if cfg.RoleARN != "" {
		stsClient := sts.NewFromConfig(c, func(o *sts.Options) { OverrideEndpoint(&o.BaseEndpoint, cfg.STSEndpointURL) })
		c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "opsbot"
			if cfg.ExternalID != "" {
				o.ExternalID = aws.String(cfg.ExternalID)
			}
		}))
	}
	return c
}

// OverrideEndpoint points a service client's BaseEndpoint option at url
// when url is set, and otherwise leaves it as the SDK resolved it. Call it
// from the option function of NewFromConfig, which runs after the SDK has
// resolved AWS_ENDPOINT_URL_<SERVICE> and the shared config file into
// *base: assigning nil there would throw that resolution away.
func OverrideEndpoint(base **string, url string) {
	if url != "" {
		*base = aws.String(url)
	}
}
