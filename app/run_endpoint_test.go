package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/route53/route53test"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// nopPoster stands in for Slack: these tests look at what reached AWS.
type nopPoster struct{}

func (nopPoster) Post(_ context.Context, ch string, _ chat.Message) (string, string, error) {
	return ch, "1.0", nil
}
func (nopPoster) Update(context.Context, string, string, chat.Message) error    { return nil }
func (nopPoster) Ephemeral(context.Context, string, string, chat.Message) error { return nil }

// wireAWS builds opsbot's background machinery (which loads the default AWS
// configuration, as in production) from yaml with env set for the SDK.
func wireAWS(t *testing.T, yaml string, env map[string]string) *background {
	t.Helper()
	vars := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test", "AWS_REGION": "eu-west-1",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true"}
	for k, v := range env {
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		if _, set := vars[k]; !set {
			t.Setenv(k, "")
			_ = os.Unsetenv(k) // set but empty would still count as set to the SDK
		}
	}
	path := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	bg, err := newBackground(cfg, st, nopPoster{}, os.Getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return bg
}

const endpointYAML = `channels:
  support: C0SUPPORT
  finance: C0FINANCE
clients:
  acme:
    name: Acme Ltd
    aws:
      regions: [eu-west-1]
      instances: [i-0abc0000000000001]
`

var acmeZone = store.DNSPlan{ZoneID: zone, Name: "www.acme.example.", Type: "A"}

func acmeRoute53(t *testing.T) *route53test.Server {
	r53 := route53test.New(t)
	r53.AddZone(zone, "acme.example.")
	r53.SetRecords(zone, route53test.Record{Name: "www.acme.example.", Type: "A", TTL: 300, Values: []string{"198.51.100.7"}})
	return r53
}

// TestAWSServiceEndpointsFromEnvironment: AWS_ENDPOINT_URL_<SERVICE>, as the
// README and the example config promise, reaches Route 53 (the cut-over) and
// EC2/CloudWatch (the server monitor) without integrations.aws.endpoint_url.
func TestAWSServiceEndpointsFromEnvironment(t *testing.T) {
	r53 := acmeRoute53(t)
	mon := awsmontest.New(t)
	mon.AddInstances(awsmontest.Instance{ID: "i-0abc0000000000001", Name: "web-1", Type: "t3.small", Region: "eu-west-1"})
	bg := wireAWS(t, endpointYAML, map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": r53.URL,
		"AWS_ENDPOINT_URL_EC2": mon.URL, "AWS_ENDPOINT_URL_CLOUDWATCH": mon.URL, "AWS_ENDPOINT_URL_RDS": mon.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	kept, err := bg.changes.dns.Keep(ctx, acmeZone)
	if err != nil {
		t.Fatalf("Route 53 through AWS_ENDPOINT_URL_ROUTE_53: %v", err)
	}
	if !strings.Contains(string(kept), `"Values":["198.51.100.7"]`) {
		t.Errorf("kept records = %s, want the fake's www A record", kept)
	}
	if err := bg.aws.servers.Run(ctx); err != nil {
		t.Fatalf("server monitor through AWS_ENDPOINT_URL_EC2: %v", err)
	}
	if got := mon.Calls(awsmontest.OpDescribeInstances); len(got) == 0 {
		t.Error("the EC2 fake named by AWS_ENDPOINT_URL_EC2 saw no DescribeInstances")
	}
}

// TestAWSConfiguredEndpointWinsOverEnvironment: integrations.aws.endpoint_url
// in opsbot's file is explicit configuration, and wins over the SDK's
// AWS_ENDPOINT_URL_* variables, as the example config documents.
func TestAWSConfiguredEndpointWinsOverEnvironment(t *testing.T) {
	r53 := acmeRoute53(t)
	var decoyHits atomic.Int32
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decoyHits.Add(1)
		http.Error(w, "decoy", http.StatusTeapot)
	}))
	t.Cleanup(decoy.Close)
	bg := wireAWS(t, endpointYAML+"integrations:\n  aws:\n    endpoint_url: "+r53.URL+"\n",
		map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": decoy.URL, "AWS_ENDPOINT_URL": decoy.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bg.changes.dns.Keep(ctx, acmeZone); err != nil {
		t.Fatalf("Route 53 through integrations.aws.endpoint_url: %v", err)
	}
	if n := decoyHits.Load(); n != 0 {
		t.Errorf("the environment's endpoint got %d requests; the configured endpoint_url must win", n)
	}
}
