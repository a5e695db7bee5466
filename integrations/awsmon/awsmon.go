// Package awsmon reads a client's servers in AWS for opsbot's server monitor:
// the EC2 and RDS inventory (DescribeInstances, DescribeInstanceStatus,
// DescribeDBInstances) and their recent CloudWatch metrics (GetMetricData),
// on the real aws-sdk-go-v2 clients for RDS and CloudWatch and opsbot's own
// small EC2 client (integrations/awsapi/ec2query), because the SDK's ec2
// package alone took a quarter of a cold build and 3 GB of memory.
//
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/
// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
package awsmon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
)

// Defaults for a Query's zero fields.
const (
	DefaultPeriod   = 5 * time.Minute
	DefaultLookback = 3 * time.Hour
)

// Query says which window of metrics to read.
type Query struct {
	Now      time.Time     // end of the window; zero means time.Now()
	Period   time.Duration // one datapoint per Period (a multiple of a minute); 0 = DefaultPeriod
	Lookback time.Duration // window length (trailing baseline for spikes); 0 = DefaultLookback
}

// Client reads EC2, RDS and CloudWatch for any number of accounts and
// regions. It is safe for concurrent use.
type Client struct {
	base aws.Config
	hc   *http.Client
	log  *slog.Logger

	mu      sync.Mutex
	regions map[awsapi.Config]*regionClients // acct with Region set → its SDK clients
}

// regionClients are the SDK clients of one account in one region, built once
// because building them may assume a role.
type regionClients struct {
	ec2 *ec2query.Client
	rds *rds.Client
	cw  *cloudwatch.Client
}

// New returns a client deriving every account's config from base (typically
// from config.LoadDefaultConfig; the zero aws.Config in tests). hc may be
// nil (base's HTTP client); log may be nil.
func New(base aws.Config, hc *http.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{base: base, hc: hc, log: log, regions: map[awsapi.Config]*regionClients{}}
}

// clients returns the cached SDK clients for acct in region, building them
// on first use.
func (c *Client) clients(acct awsapi.Config, region string) *regionClients {
	acct.Region = region
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc := c.regions[acct]; rc != nil {
		return rc
	}
	cfg := awsapi.AWSConfig(c.base, acct, c.hc)
	rc := &regionClients{
		ec2: ec2query.New(cfg, acct.EndpointURL),
		rds: rds.NewFromConfig(cfg, func(o *rds.Options) { awsapi.OverrideEndpoint(&o.BaseEndpoint, acct.EndpointURL) }),
		cw:  cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { awsapi.OverrideEndpoint(&o.BaseEndpoint, acct.EndpointURL) }),
	}
	c.regions[acct] = rc
	return rc
}

// Snapshot reads one client's servers in one account: acct carries the
// region, role and endpoint, scope says which resources. In every region of
// scope.Regions (acct.Region, then the base config's, when empty) it reads
// the EC2 instances named in scope.InstanceIDs plus those tagged
// scope.TagKey=scope.TagValue, their status checks, the RDS DB instances
// named in scope.DBInstances plus the tagged ones, and for each resource the
// metrics of the window q (every series oldest first; a series with no
// datapoints has no Points). A scope naming no IDs and no tag selects
// nothing. Explicit IDs AWS does not know are simply absent from the result.
// Errors are classified by awsapi.Classify: throttling and 5xx are
// *integrations.RetryableError, missing permissions wrap
// integrations.ErrUnauthorized and name the IAM action.
func (c *Client) Snapshot(ctx context.Context, acct awsapi.Config, scope integrations.ServerScope, q Query) (integrations.ServerSnapshot, error) {
	q, err := q.normalized()
	if err != nil {
		return integrations.ServerSnapshot{}, fmt.Errorf("awsmon: snapshot: %w", err)
	}
	snap := integrations.ServerSnapshot{TakenAt: q.Now}
	regions := scope.Regions
	if len(regions) == 0 {
		regions = []string{acct.Region}
	}
	seen := map[string]bool{}
	for _, region := range regions {
		if seen[region] {
			continue
		}
		seen[region] = true
		if region == "" {
			region = c.base.Region
		}
		rc := c.clients(acct, region)
		if region == "" {
			region = awsapi.DefaultRegion
		}
		instances, err := c.instances(ctx, rc.ec2, region, scope)
		if err != nil {
			return integrations.ServerSnapshot{}, err
		}
		dbs, err := c.databases(ctx, rc.rds, region, scope)
		if err != nil {
			return integrations.ServerSnapshot{}, err
		}
		series, err := c.metrics(ctx, rc.cw, region, instances, dbs, q)
		if err != nil {
			return integrations.ServerSnapshot{}, err
		}
		snap.Instances = append(snap.Instances, instances...)
		snap.Databases = append(snap.Databases, dbs...)
		snap.Metrics = append(snap.Metrics, series...)
	}
	c.log.Debug("aws snapshot", "regions", regions, "instances", len(snap.Instances), "databases", len(snap.Databases), "series", len(snap.Metrics))
	return snap, nil
}

func (q Query) normalized() (Query, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if q.Period == 0 {
		q.Period = DefaultPeriod
	}
	if q.Lookback == 0 {
		q.Lookback = DefaultLookback
	}
	switch {
	case q.Period < time.Minute || q.Period%time.Minute != 0:
		return q, fmt.Errorf("period %s is not a whole number of minutes (e.g. 5m)", q.Period)
	case q.Lookback < q.Period:
		return q, fmt.Errorf("lookback %s is shorter than the period %s", q.Lookback, q.Period)
	}
	return q, nil
}
