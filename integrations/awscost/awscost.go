// Package awscost reads one client's AWS costs from Cost Explorer in the
// agency's payer account, on the real aws-sdk-go-v2 client (AWS JSON 1.1,
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_Operations_AWS_Cost_Explorer_Service.html).
//
// A client's costs are selected by a linked account and/or a cost allocation
// tag (integrations.CostScope). Every Cost Explorer request costs about
// $0.01, so a Report makes as few as it can (one GetCostAndUsage, paginated,
// and at most one GetCostForecast) and callers cache its result.
package awscost

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	ce "github.com/aws/aws-sdk-go-v2/service/costexplorer"

	"github.com/383project/opsbot/integrations/awsapi"
)

// DefaultRegion is the signing region when Config.Region is empty, whatever
// the base config's region: Cost Explorer is one global endpoint signed in
// us-east-1 (ce.us-east-1.amazonaws.com).
const DefaultRegion = "us-east-1"

// Config is the payer account's access: region (default DefaultRegion),
// endpoint override, credentials (empty: the base config's chain), an
// optional role to assume and the SDK's retry limit.
type Config = awsapi.Config

// Client wraps the SDK's Cost Explorer client. It is safe for concurrent use.
type Client struct {
	api *ce.Client
	log *slog.Logger
}

// New builds a client from base (typically from config.LoadDefaultConfig,
// carrying the default credential chain and any
// AWS_ENDPOINT_URL_COST_EXPLORER; the zero aws.Config in tests) with cfg's
// non-empty fields taking precedence. hc, when not nil, replaces
// base.HTTPClient; log may be nil.
func New(base aws.Config, cfg awsapi.Config, hc *http.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	c := awsapi.AWSConfig(base, cfg, hc)
	api := ce.NewFromConfig(c, func(o *ce.Options) { awsapi.OverrideEndpoint(&o.BaseEndpoint, cfg.EndpointURL) })
	return &Client{api: api, log: log.With("integration", "awscost")}
}
