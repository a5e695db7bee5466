package shield_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/awsmon/elbtest"
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/integrations/shield/shieldtest"
)

const acctID = "123456789012"

// fakes is one account: Shield, EC2 and ELB behind one URL each.
type fakes struct {
	sh  *shieldtest.Server
	ec2 *awsmontest.Server
	elb *elbtest.Server
	c   *shield.Client
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{sh: shieldtest.New(t), ec2: awsmontest.New(t), elb: elbtest.New(t)}
	base := aws.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
	}), RetryMaxAttempts: 1}
	f.c = shield.New(base, nil, nil)
	return f
}

// coverage asks with Shield at the Shield fake and EC2 at the EC2 fake:
// the client makes both kinds of calls through one account config, so the
// test routes by host with two accounts' worth of endpoint overrides.
func (f *fakes) coverage(t *testing.T, advanced bool, scope integrations.ServerScope) (integrations.ShieldReport, error) {
	t.Helper()
	return f.c.Coverage(context.Background(), awsapi.Config{Region: "eu-west-1", EndpointURL: f.router(t)}, scope, advanced)
}

// Load balancers of the fixture: a protected ALB, an unprotected
// internet-facing one, a protected internal one.
var (
	webALB      = elbtest.LoadBalancer{Name: "web-alb", Region: "eu-west-1"}
	appALB      = elbtest.LoadBalancer{Name: "app-alb", Region: "eu-west-1"}
	internalALB = elbtest.LoadBalancer{Name: "internal-alb", Region: "eu-west-1", Internal: true}
)

// fourInstances is the account of the issue: one instance of each verdict,
// and two without a public address behind internet-facing load balancers:
// web-behind-alb behind a protected ALB (an instance target) and
// app-behind-open-alb behind one nobody protects (an ip target).
func (f *fakes) fourInstances() {
	f.ec2.AddInstances(
		awsmontest.Instance{ID: "i-0000000000000001a", Name: "web-protected", Region: "eu-west-1", PrivateIP: "10.0.0.1"},
		awsmontest.Instance{ID: "i-0000000000000002b", Name: "web-open-eip", Region: "eu-west-1", PrivateIP: "10.0.0.2"},
		awsmontest.Instance{ID: "i-0000000000000003c", Name: "web-no-eip", Region: "eu-west-1", PrivateIP: "10.0.0.3", PublicIP: "198.51.100.3"},
		awsmontest.Instance{ID: "i-0000000000000004d", Name: "db-private", Region: "eu-west-1", PrivateIP: "10.0.0.4"},
		awsmontest.Instance{ID: "i-0000000000000005e", Name: "stopped", Region: "eu-west-1", State: "stopped", PublicIP: "198.51.100.5"},
		awsmontest.Instance{ID: "i-0000000000000007a", Name: "web-behind-alb", Region: "eu-west-1", PrivateIP: "10.0.0.6"},
		awsmontest.Instance{ID: "i-0000000000000008b", Name: "app-behind-open-alb", Region: "eu-west-1", PrivateIP: "10.0.0.7"},
	)
	f.elb.AddLoadBalancers(webALB, appALB, internalALB)
	f.elb.AddTargetGroups(
		elbtest.TargetGroup{Name: "web", Region: "eu-west-1", LoadBalancers: []string{"web-alb"},
			Targets: []elbtest.Target{{ID: "i-0000000000000007a"}, {ID: "i-0000000000000004d", State: "unused"}}},
		elbtest.TargetGroup{Name: "app", Region: "eu-west-1", TargetType: "ip", LoadBalancers: []string{"app-alb"},
			Targets: []elbtest.Target{{ID: "10.0.0.7", State: "unhealthy"}}},
		// The same private address in another VPC is another machine.
		elbtest.TargetGroup{Name: "other-vpc", Region: "eu-west-1", TargetType: "ip", VpcID: "vpc-0other", LoadBalancers: []string{"app-alb"},
			Targets: []elbtest.Target{{ID: "10.0.0.6"}}},
		elbtest.TargetGroup{Name: "internal", Region: "eu-west-1", LoadBalancers: []string{"internal-alb"},
			Targets: []elbtest.Target{{ID: "i-0000000000000004d"}}},
	)
	f.ec2.AddAddresses(
		awsmontest.Address{AllocationID: "eipalloc-01", PublicIP: "203.0.113.1", Region: "eu-west-1", InstanceID: "i-0000000000000001a"},
		awsmontest.Address{AllocationID: "eipalloc-02", PublicIP: "203.0.113.2", Region: "eu-west-1", InstanceID: "i-0000000000000002b"},
		awsmontest.Address{AllocationID: "eipalloc-09", PublicIP: "203.0.113.9", Region: "eu-west-1"}, // spare
	)
	f.sh.SetSubscription(true)
	f.sh.Protect("web-protected-eip", shield.EIPAllocationARN("eu-west-1", acctID, "eipalloc-01"))
	f.sh.Protect("spare-eip", shield.EIPAllocationARN("eu-west-1", acctID, "eipalloc-09"))
	f.sh.Protect("cdn", "arn:aws:cloudfront::123456789012:distribution/E1ABCDEF")
	f.sh.Protect("web-alb", webALB.ARN())
	f.sh.Protect("internal-alb", internalALB.ARN())
}

func verdicts(r integrations.ShieldReport) map[string]integrations.ShieldVerdict {
	m := map[string]integrations.ShieldVerdict{}
	for _, i := range r.Instances {
		m[i.Name] = i.Verdict
	}
	return m
}

func TestCoverageFourVerdicts(t *testing.T) {
	f := newFakes(t)
	f.fourInstances()
	f.sh.SetPageSize(1) // the paginators must follow NextToken and Marker
	f.elb.SetPageSize(elbtest.OpDescribeLoadBalancers, 1)
	f.elb.SetPageSize(elbtest.OpDescribeTargetGroups, 1)
	rep, err := f.coverage(t, true, integrations.ServerScope{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]integrations.ShieldVerdict{"web-protected": integrations.ShieldProtected, "web-open-eip": integrations.ShieldUnprotected,
		"web-no-eip": integrations.ShieldUnprotectable, "db-private": integrations.ShieldPrivate,
		"web-behind-alb": integrations.ShieldProtected, "app-behind-open-alb": integrations.ShieldUnprotected}
	got := verdicts(rep)
	if len(got) != len(want) {
		t.Fatalf("verdicts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if !rep.SubscriptionActive() || rep.Protections != 5 {
		t.Errorf("subscription %q, %d protections; want ACTIVE, 5", rep.Subscription, rep.Protections)
	}
	if n := len(f.sh.Calls(shieldtest.OpListProtections)); n != 5 {
		t.Errorf("%d ListProtections calls for 5 protections a page of 1, want 5", n)
	}
	lbs := map[string][]integrations.ShieldLB{}
	for _, i := range rep.Instances {
		lbs[i.Name] = i.LoadBalancers
	}
	if got := lbs["web-behind-alb"]; len(got) != 1 || got[0].Name != "web-alb" || got[0].ARN != webALB.ARN() || got[0].Verdict != integrations.ShieldProtected {
		t.Errorf("web-behind-alb's load balancers: %+v, want web-alb protected", got)
	}
	if got := lbs["app-behind-open-alb"]; len(got) != 1 || got[0].Name != "app-alb" || got[0].Verdict != integrations.ShieldUnprotected {
		t.Errorf("app-behind-open-alb's load balancers: %+v, want app-alb unprotected", got)
	}
	if got := lbs["db-private"]; len(got) != 0 {
		t.Errorf("db-private is behind an internal load balancer only (and an unused target of web-alb), got %+v", got)
	}
	if n := len(f.elb.Calls(elbtest.OpDescribeTargetHealth)); n != 3 {
		t.Errorf("%d DescribeTargetHealth calls, want 3 (the groups of internet-facing load balancers)", n)
	}
	for _, c := range f.elb.Calls() {
		if c.Region != "eu-west-1" {
			t.Errorf("ELB %s signed for %s, want eu-west-1", c.Op, c.Region)
		}
	}
	for _, c := range f.sh.Calls() {
		if c.Region != "us-east-1" {
			t.Errorf("Shield %s signed for %s; Shield only answers us-east-1", c.Op, c.Region)
		}
	}
}

func TestCoverageInactiveSubscriptionListsNoProtections(t *testing.T) {
	f := newFakes(t)
	f.fourInstances()
	f.sh.SetSubscription(false)
	rep, err := f.coverage(t, true, integrations.ServerScope{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SubscriptionActive() || rep.Subscription != "INACTIVE" {
		t.Fatalf("subscription %q, want INACTIVE", rep.Subscription)
	}
	if n := len(f.sh.Calls(shieldtest.OpListProtections)); n != 0 {
		t.Fatalf("%d ListProtections calls without a subscription (Shield refuses them)", n)
	}
	if got := verdicts(rep)["web-protected"]; got != integrations.ShieldUnprotected {
		t.Fatalf("an Elastic IP without a subscription: %s, want unprotected", got)
	}
}

func TestCoverageStandardReadsNoShield(t *testing.T) {
	f := newFakes(t)
	f.fourInstances()
	rep, err := f.coverage(t, false, integrations.ServerScope{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.sh.Calls()) + len(f.elb.Calls()); n != 0 {
		t.Fatalf("%d Shield and ELB calls for a Shield Standard client", n)
	}
	if len(rep.Instances) != 6 || rep.Advanced {
		t.Fatalf("standard report: %+v", rep)
	}
}

func TestCoverageScopeByTag(t *testing.T) {
	f := newFakes(t)
	f.fourInstances()
	f.ec2.AddInstances(awsmontest.Instance{ID: "i-0000000000000006f", Name: "tagged", Region: "eu-west-1", Tags: map[string]string{"client": "acme"}})
	rep, err := f.coverage(t, true, integrations.ServerScope{TagKey: "client", TagValue: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if got := verdicts(rep); len(got) != 1 || got["tagged"] != integrations.ShieldPrivate {
		t.Fatalf("tag scope: %v", got)
	}
}

func TestCoverageErrors(t *testing.T) {
	f := newFakes(t)
	f.fourInstances()
	f.sh.FailNext(shieldtest.OpGetSubscriptionState, 1, 400, "AccessDeniedException", "User is not authorized to perform shield:GetSubscriptionState")
	_, err := f.coverage(t, true, integrations.ServerScope{})
	if action, ok := integrations.MissingPermission(err); !ok || action != "shield:GetSubscriptionState" {
		t.Fatalf("access denied: %v (action %q)", err, action)
	}
	f.ec2.FailNext(awsmontest.OpDescribeAddresses, 1, 400, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	_, err = f.coverage(t, true, integrations.ServerScope{})
	if action, _ := integrations.MissingPermission(err); action != "ec2:DescribeAddresses" {
		t.Fatalf("DescribeAddresses denied: %v", err)
	}
	f.elb.FailNext(elbtest.OpDescribeTargetHealth, 1, 400, "AccessDenied", "User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth")
	_, err = f.coverage(t, true, integrations.ServerScope{})
	if action, _ := integrations.MissingPermission(err); action != "elasticloadbalancing:DescribeTargetHealth" {
		t.Fatalf("DescribeTargetHealth denied: %v", err)
	}
	f.sh.FailNext(shieldtest.OpListProtections, 1, 400, "ThrottlingException", "Rate exceeded")
	_, err = f.coverage(t, true, integrations.ServerScope{})
	if ok, _ := integrations.IsRetryable(err); !ok || !errors.Is(err, err) {
		t.Fatalf("throttled: %v, want retryable", err)
	}
}

func TestEIPAllocation(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:ec2:eu-west-1:123456789012:eip-allocation/eipalloc-0abc":          "eu-west-1/eipalloc-0abc",
		"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/1": "",
		"arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc":                       "",
		"arn:aws:ec2:eu-west-1:123456789012:eip-allocation/":                       "",
		"nonsense": "",
	} {
		r, a, ok := shield.EIPAllocation(arn)
		got := ""
		if ok {
			got = r + "/" + a
		}
		if got != want {
			t.Errorf("EIPAllocation(%q) = %q, want %q", arn, got, want)
		}
	}
}

// router is one endpoint in front of the fakes, as LocalStack would be:
// JSON 1.1 calls (X-Amz-Target) go to Shield, calls signed for
// elasticloadbalancing to ELB, the rest to EC2.
func (f *fakes) router(t *testing.T) string {
	t.Helper()
	proxy := func(to string) *httputil.ReverseProxy {
		u, err := url.Parse(to)
		if err != nil {
			t.Fatal(err)
		}
		return httputil.NewSingleHostReverseProxy(u)
	}
	sh, ec, elb := proxy(f.sh.URL), proxy(f.ec2.URL), proxy(f.elb.URL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSShield_"):
			sh.ServeHTTP(w, r)
		case strings.Contains(r.Header.Get("Authorization"), "/elasticloadbalancing/aws4_request"):
			elb.ServeHTTP(w, r)
		default:
			ec.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
