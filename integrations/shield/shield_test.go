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
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/integrations/shield/shieldtest"
)

const acctID = "123456789012"

// fakes is one account: Shield and EC2 behind one URL each.
type fakes struct {
	sh  *shieldtest.Server
	ec2 *awsmontest.Server
	c   *shield.Client
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{sh: shieldtest.New(t), ec2: awsmontest.New(t)}
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

// fourInstances is the account of the issue: one instance of each verdict.
func (f *fakes) fourInstances() {
	f.ec2.AddInstances(
		awsmontest.Instance{ID: "i-0000000000000001a", Name: "web-protected", Region: "eu-west-1", PrivateIP: "10.0.0.1"},
		awsmontest.Instance{ID: "i-0000000000000002b", Name: "web-open-eip", Region: "eu-west-1", PrivateIP: "10.0.0.2"},
		awsmontest.Instance{ID: "i-0000000000000003c", Name: "web-no-eip", Region: "eu-west-1", PrivateIP: "10.0.0.3", PublicIP: "198.51.100.3"},
		awsmontest.Instance{ID: "i-0000000000000004d", Name: "db-private", Region: "eu-west-1", PrivateIP: "10.0.0.4"},
		awsmontest.Instance{ID: "i-0000000000000005e", Name: "stopped", Region: "eu-west-1", State: "stopped", PublicIP: "198.51.100.5"},
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
	f.sh.SetPageSize(1) // the paginator must follow NextToken
	rep, err := f.coverage(t, true, integrations.ServerScope{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]integrations.ShieldVerdict{"web-protected": integrations.ShieldProtected, "web-open-eip": integrations.ShieldUnprotected,
		"web-no-eip": integrations.ShieldUnprotectable, "db-private": integrations.ShieldPrivate}
	got := verdicts(rep)
	if len(got) != len(want) {
		t.Fatalf("verdicts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if !rep.SubscriptionActive() || rep.Protections != 3 {
		t.Errorf("subscription %q, %d protections; want ACTIVE, 3", rep.Subscription, rep.Protections)
	}
	if n := len(f.sh.Calls(shieldtest.OpListProtections)); n != 3 {
		t.Errorf("%d ListProtections calls for 3 protections a page of 1, want 3", n)
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
	if n := len(f.sh.Calls()); n != 0 {
		t.Fatalf("%d Shield calls for a Shield Standard client", n)
	}
	if len(rep.Instances) != 4 || rep.Advanced {
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

// router is one endpoint in front of both fakes, as LocalStack would be:
// JSON 1.1 calls (X-Amz-Target) go to Shield, the rest to EC2.
func (f *fakes) router(t *testing.T) string {
	t.Helper()
	proxy := func(to string) *httputil.ReverseProxy {
		u, err := url.Parse(to)
		if err != nil {
			t.Fatal(err)
		}
		return httputil.NewSingleHostReverseProxy(u)
	}
	sh, ec := proxy(f.sh.URL), proxy(f.ec2.URL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSShield_") {
			sh.ServeHTTP(w, r)
			return
		}
		ec.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
