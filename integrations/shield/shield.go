// Package shield answers "is every EC2 server of this account covered by
// AWS Shield?" on the real aws-sdk-go-v2 clients (EC2 through opsbot's
// small integrations/awsapi/ec2query): Shield's
// GetSubscriptionState and ListProtections (one endpoint, us-east-1, for
// every region) and, per region, EC2 DescribeInstances and
// DescribeAddresses and ELB's DescribeLoadBalancers, DescribeTargetGroups
// and DescribeTargetHealth. Shield Advanced protects an instance only
// through its Elastic IP allocation (arn:aws:ec2:<region>:<account>:
// eip-allocation/eipalloc-...) or a protected load balancer in front of it,
// so each running instance gets a verdict over its public paths (its own
// address, the internet-facing load balancers in front): protected (all
// protected), unprotected (an Elastic IP or load balancer nobody
// protects), unprotectable (a public address that is not an Elastic IP) or
// private (no public path).
//
// https://docs.aws.amazon.com/waf/latest/DDOSAPIReference/API_GetSubscriptionState.html
// https://docs.aws.amazon.com/waf/latest/DDOSAPIReference/API_ListProtections.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html
package shield

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	awsshield "github.com/aws/aws-sdk-go-v2/service/shield"
	"github.com/aws/aws-sdk-go-v2/service/shield/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
)

// Region is where Shield's API lives, whatever the resources' regions.
const Region = "us-east-1"

// Client reads Shield and EC2 for any number of accounts. It is safe for
// concurrent use.
type Client struct {
	base aws.Config
	hc   *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	shield map[awsapi.Config]*awsshield.Client // by account (Region cleared)
	ec2    map[awsapi.Config]*ec2query.Client  // by account and region
	elb    map[awsapi.Config]*elbv2.Client     // by account and region
}

// New returns a client deriving every account's config from base (from
// config.LoadDefaultConfig; the zero aws.Config in tests). hc and log may be nil.
func New(base aws.Config, hc *http.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{base: base, hc: hc, log: log, now: time.Now,
		shield: map[awsapi.Config]*awsshield.Client{}, ec2: map[awsapi.Config]*ec2query.Client{}, elb: map[awsapi.Config]*elbv2.Client{}}
}

// shieldClient is the account's Shield client, signed for us-east-1.
func (c *Client) shieldClient(acct awsapi.Config) *awsshield.Client {
	acct.Region = Region
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc := c.shield[acct]; sc != nil {
		return sc
	}
	cfg := awsapi.AWSConfig(c.base, acct, c.hc)
	sc := awsshield.NewFromConfig(cfg, func(o *awsshield.Options) {
		o.Region = Region
		awsapi.OverrideEndpoint(&o.BaseEndpoint, acct.EndpointURL)
	})
	c.shield[acct] = sc
	return sc
}

func (c *Client) ec2Client(acct awsapi.Config, region string) *ec2query.Client {
	acct.Region = region
	c.mu.Lock()
	defer c.mu.Unlock()
	if ec := c.ec2[acct]; ec != nil {
		return ec
	}
	cfg := awsapi.AWSConfig(c.base, acct, c.hc)
	ec := ec2query.New(cfg, acct.EndpointURL)
	c.ec2[acct] = ec
	return ec
}

func (c *Client) elbClient(acct awsapi.Config, region string) *elbv2.Client {
	acct.Region = region
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.elb[acct]; lc != nil {
		return lc
	}
	cfg := awsapi.AWSConfig(c.base, acct, c.hc)
	lc := elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { awsapi.OverrideEndpoint(&o.BaseEndpoint, acct.EndpointURL) })
	c.elb[acct] = lc
	return lc
}

// Coverage reads one client's account (acct: role, endpoint, default
// region) and judges every running EC2 instance scope selects in
// scope.Regions (acct.Region when empty); a scope naming no instances and
// no tag selects every running instance of the account. With advanced
// false only EC2 is read (no load balancers either) (Shield Standard is invisible to the API) and the
// verdicts say only whether an instance is public (ShieldUnprotectable is
// then not a gap: nothing can be verified). Errors are classified by
// awsapi.Classify and name the IAM action that was refused.
func (c *Client) Coverage(ctx context.Context, acct awsapi.Config, scope integrations.ServerScope, advanced bool) (integrations.ShieldReport, error) {
	rep := integrations.ShieldReport{TakenAt: c.now(), Advanced: advanced}
	protected := map[string]bool{} // protected resource ARNs, and "region/eipalloc-..." of protected Elastic IPs
	if advanced {
		sc := c.shieldClient(acct)
		st, err := sc.GetSubscriptionState(ctx, &awsshield.GetSubscriptionStateInput{})
		if err != nil {
			return rep, awsapi.Classify("shield: get subscription state", "shield:GetSubscriptionState", err)
		}
		rep.Subscription = string(st.SubscriptionState)
		if st.SubscriptionState == types.SubscriptionStateActive {
			n, err := listProtections(ctx, sc, protected)
			if err != nil {
				return rep, err
			}
			rep.Protections = n
		}
	}
	regions := scope.Regions
	if len(regions) == 0 {
		regions = []string{acct.Region}
	}
	for _, region := range slices.Compact(slices.Sorted(slices.Values(regions))) {
		if region == "" {
			region = awsapi.DefaultRegion
		}
		api := c.ec2Client(acct, region)
		instances, privateAddrs, err := runningInstances(ctx, api, region, scope)
		if err != nil {
			return rep, err
		}
		if len(instances) == 0 {
			continue
		}
		eips, err := addresses(ctx, api, region)
		if err != nil {
			return rep, err
		}
		var fronts map[string][]frontLB
		if advanced {
			if fronts, err = frontends(ctx, c.elbClient(acct, region), region, privateAddrs); err != nil {
				return rep, err
			}
		}
		for _, in := range instances {
			in.Allocations = eips[in.ID]
			for _, lb := range fronts[in.ID] {
				in.LoadBalancers = append(in.LoadBalancers, integrations.ShieldLB{Name: lb.name, ARN: lb.arn, Verdict: lb.verdict(region, protected)})
			}
			in.Verdict = Verdict(in, func(alloc string) bool { return protected[region+"/"+alloc] })
			rep.Instances = append(rep.Instances, in)
		}
	}
	c.log.Debug("shield coverage", "advanced", advanced, "subscription", rep.Subscription,
		"protections", rep.Protections, "instances", len(rep.Instances))
	return rep, nil
}

// listProtections adds the resource ARNs and the Elastic IP allocations
// that protections cover to protected and returns how many protections there are. An account whose
// subscription lapsed between the two calls answers ResourceNotFoundException:
// no protections.
func listProtections(ctx context.Context, sc *awsshield.Client, protected map[string]bool) (int, error) {
	n := 0
	p := awsshield.NewListProtectionsPaginator(sc, &awsshield.ListProtectionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return n, nil
		}
		if err != nil {
			return n, awsapi.Classify("shield: list protections", "shield:ListProtections", err)
		}
		for _, pr := range page.Protections {
			n++
			protected[aws.ToString(pr.ResourceArn)] = true
			if region, alloc, ok := EIPAllocation(aws.ToString(pr.ResourceArn)); ok {
				protected[region+"/"+alloc] = true
			}
		}
	}
	return n, nil
}

// EIPAllocation splits an Elastic IP allocation ARN
// (arn:aws:ec2:<region>:<account>:eip-allocation/eipalloc-...) into its
// region and allocation ID; ok is false for any other ARN.
func EIPAllocation(arn string) (region, alloc string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ec2" {
		return "", "", false
	}
	alloc, ok = strings.CutPrefix(parts[5], "eip-allocation/")
	return parts[3], alloc, ok && alloc != ""
}

// EIPAllocationARN is the ARN Shield protects an Elastic IP allocation by.
func EIPAllocationARN(region, account, alloc string) string {
	return "arn:aws:ec2:" + region + ":" + account + ":eip-allocation/" + alloc
}

// Verdict judges one instance by its public paths: its Elastic IPs
// (protected or not), a public address without an Elastic IP
// (unprotectable) and the internet-facing load balancers in front of it
// (their own verdicts). No public path → private; otherwise the worst
// path's verdict (unprotected, then unprotectable), protected when every
// path is.
func Verdict(in integrations.ShieldInstance, protected func(alloc string) bool) integrations.ShieldVerdict {
	var paths []integrations.ShieldVerdict
	for _, a := range in.Allocations {
		paths = append(paths, map[bool]integrations.ShieldVerdict{true: integrations.ShieldProtected, false: integrations.ShieldUnprotected}[protected(a)])
	}
	if len(in.Allocations) == 0 && in.PublicIP != "" {
		paths = append(paths, integrations.ShieldUnprotectable)
	}
	for _, lb := range in.LoadBalancers {
		paths = append(paths, lb.Verdict)
	}
	for _, worst := range []integrations.ShieldVerdict{integrations.ShieldUnprotected, integrations.ShieldUnprotectable, integrations.ShieldProtected} {
		if slices.Contains(paths, worst) {
			return worst
		}
	}
	return integrations.ShieldPrivate
}
