package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/awsmon/elbtest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/shield"
	"github.com/383project/opsbot/integrations/shield/shieldtest"
)

// TestShieldEndToEnd: an advanced client's account with one instance of
// each verdict, and two with no public address behind internet-facing
// load balancers (one protected, one not), checked every second (each run stands for a day): the gaps
// are posted to the security channel once and each exposed instance paged
// once; runs with nothing changed post nothing; a fix and an inactive
// subscription are each posted once more.
func TestShieldEndToEnd(t *testing.T) {
	sh, ec, pd, elb := shieldtest.New(t), awsmontest.New(t), pagerdutytest.New(t), elbtest.New(t)
	ec.AddInstances(
		awsmontest.Instance{ID: "i-0000000000000001a", Name: "web-protected", Region: "eu-west-1"},
		awsmontest.Instance{ID: "i-0000000000000002b", Name: "web-open-eip", Region: "eu-west-1"},
		awsmontest.Instance{ID: "i-0000000000000003c", Name: "web-no-eip", Region: "eu-west-1", PublicIP: "198.51.100.3"},
		awsmontest.Instance{ID: "i-0000000000000004d", Name: "db-private", Region: "eu-west-1", PrivateIP: "10.0.0.4"},
		awsmontest.Instance{ID: "i-0000000000000007a", Name: "web-behind-alb", Region: "eu-west-1", PrivateIP: "10.0.0.7"},
		awsmontest.Instance{ID: "i-0000000000000008b", Name: "app-behind-open-alb", Region: "eu-west-1", PrivateIP: "10.0.0.8"},
	)
	webALB := elbtest.LoadBalancer{Name: "web-alb", Region: "eu-west-1"}
	elb.AddLoadBalancers(webALB, elbtest.LoadBalancer{Name: "app-alb", Region: "eu-west-1"})
	elb.AddTargetGroups(
		elbtest.TargetGroup{Name: "web", Region: "eu-west-1", LoadBalancers: []string{"web-alb"}, Targets: []elbtest.Target{{ID: "i-0000000000000007a"}}},
		elbtest.TargetGroup{Name: "app", Region: "eu-west-1", TargetType: "ip", LoadBalancers: []string{"app-alb"}, Targets: []elbtest.Target{{ID: "10.0.0.8"}}},
	)
	ec.AddAddresses(
		awsmontest.Address{AllocationID: "eipalloc-01", PublicIP: "203.0.113.1", Region: "eu-west-1", InstanceID: "i-0000000000000001a"},
		awsmontest.Address{AllocationID: "eipalloc-02", PublicIP: "203.0.113.2", Region: "eu-west-1", InstanceID: "i-0000000000000002b"},
	)
	sh.SetSubscription(true)
	sh.Protect("web-protected", shield.EIPAllocationARN("eu-west-1", "123456789012", "eipalloc-01"))
	sh.Protect("web-alb", webALB.ARN())
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_SHIELD": sh.URL, "AWS_ENDPOINT_URL_EC2": ec.URL, "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": elb.URL, "AWS_MAX_ATTEMPTS": "1"} {
		t.Setenv(k, v)
	}
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `channels:
  security: "#security"
shield:
  schedule: "@every 1s"
clients:
  acme:
    name: Acme Ltd
    aws:
      regions: [eu-west-1]
      shield: advanced
  beta:
    aws:
      regions: [eu-west-1]
      shield: standard
integrations:
  pagerduty:
    api_url: ` + pd.URL + `
    events_url: ` + pd.URL + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg, "PAGERDUTY_ROUTING_KEY": pdRoutingKey})

	posts := func() []string {
		var out []string
		for _, m := range o.fake.Messages("C0SECURTY") {
			out = append(out, m.Text)
		}
		return out
	}
	waitPosts := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(2 * wait)
		for len(posts()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d security posts, want %d: %q\nlogs:\n%s", len(posts()), n, posts(), o.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return posts()
	}
	// runs waits until the check has run n more times.
	runs := func(n int) {
		t.Helper()
		from := len(sh.Calls(shieldtest.OpGetSubscriptionState))
		deadline := time.Now().Add(time.Duration(n+3) * time.Second)
		for len(sh.Calls(shieldtest.OpGetSubscriptionState)) < from+n {
			if time.Now().After(deadline) {
				t.Fatalf("the Shield check did not run %d more times\nlogs:\n%s", n, o.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	first := waitPosts(1)[0]
	for _, want := range []string{"Acme Ltd", "web-open-eip", "unprotected", "eipalloc-02", "web-no-eip", "unprotectable", "Elastic IP",
		"app-behind-open-alb", "its public path is the internet-facing load balancer app-alb, which has no Shield protection"} {
		if !strings.Contains(first, want) {
			t.Errorf("first post lacks %q:\n%s", want, first)
		}
	}
	for _, not := range []string{"web-protected", "db-private", "beta", "web-behind-alb"} {
		if strings.Contains(first, not) {
			t.Errorf("first post names %q:\n%s", not, first)
		}
	}
	if _, err := pd.WaitEvents(3, wait); err != nil {
		t.Fatal(err)
	}
	// The verdicts, as /ops shield shows them.
	got := o.command(t, admin, "shield acme")
	for _, want := range []string{"web-protected (i-0000000000000001a, eu-west-1) — protected", "web-open-eip (i-0000000000000002b, eu-west-1) — unprotected",
		"web-no-eip (i-0000000000000003c, eu-west-1) — unprotectable", "db-private (i-0000000000000004d, eu-west-1) — private",
		"web-behind-alb (i-0000000000000007a, eu-west-1) — protected: the load balancer web-alb in front of it has a Shield Advanced protection",
		"app-behind-open-alb (i-0000000000000008b, eu-west-1) — unprotected: it has no public address of its own, but its public path is the internet-facing load balancer app-alb"} {
		if !strings.Contains(got, want) {
			t.Errorf("/ops shield acme lacks %q:\n%s", want, got)
		}
	}

	// The next "days": nothing changed, nothing posted or paged.
	runs(3)
	if n := len(posts()); n != 1 {
		t.Fatalf("%d posts after runs with nothing changed, want 1: %q", n, posts())
	}
	if ev := pd.Events(); len(ev) != 3 {
		t.Fatalf("%d PagerDuty events after runs with nothing changed, want 3", len(ev))
	}

	// App Home: a security person's Home counts the gaps; each check
	// refreshes it, so the fix below shows without opening it again.
	o.command(t, admin, "role grant @bob security")
	o.fake.AppHomeOpened("UBOB000001")
	homeShows := func(want string) {
		t.Helper()
		deadline := time.Now().Add(3 * wait)
		for time.Now().Before(deadline) {
			if v := o.fake.HomeViews("UBOB000001"); len(v) > 0 && strings.Contains(bodyOf(v[len(v)-1]), want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("bob's Home never showed %q (%d publishes)", want, len(o.fake.HomeViews("UBOB000001")))
	}
	homeShows("Security: Shield gaps (3)")

	// The open Elastic IP gets protected: one post naming what is left,
	// and its incident resolved.
	sh.Protect("web-open", shield.EIPAllocationARN("eu-west-1", "123456789012", "eipalloc-02"))
	homeShows("Security: Shield gaps (2)")
	second := waitPosts(2)[1]
	if strings.Contains(second, "web-open-eip") || !strings.Contains(second, "web-no-eip") || !strings.Contains(second, "app-alb") {
		t.Errorf("post after the fix:\n%s", second)
	}
	evs, err := pd.WaitEvents(4, wait)
	if err != nil {
		t.Fatal(err)
	}
	if a := evs[3].EventAction; a != "resolve" || !strings.Contains(evs[3].DedupKey, "i-0000000000000002b") {
		t.Errorf("fourth event %s %s, want the resolve of web-open-eip", a, evs[3].DedupKey)
	}

	// The subscription lapses: reported once.
	sh.SetSubscription(false)
	third := waitPosts(3)[2]
	if !strings.Contains(third, "INACTIVE") {
		t.Errorf("inactive subscription post:\n%s", third)
	}
	runs(2)
	if n := len(posts()); n != 3 {
		t.Fatalf("%d posts, want 3: %q", n, posts())
	}

	// A standard client: not verifiable, public instances listed.
	got = o.command(t, admin, "shield beta")
	if !strings.Contains(got, "Shield Standard: automatic, not verifiable") || !strings.Contains(got, "198.51.100.3") || strings.Contains(got, "10.0.0.4") {
		t.Errorf("/ops shield beta:\n%s", got)
	}
	// Bad input and refusals change nothing.
	if got := o.command(t, admin, "shield nosuch"); !strings.Contains(got, "I don't know a client called") || !strings.Contains(got, "/ops shield acme") {
		t.Errorf("unknown client: %s", got)
	}
	o.command(t, admin, "role grant @alice engineer")
	if got := o.command(t, "UALICE0001", "shield acme"); !strings.Contains(got, "security") || strings.Contains(got, "web-no-eip") {
		t.Errorf("an engineer asking: %s", got)
	}
}
