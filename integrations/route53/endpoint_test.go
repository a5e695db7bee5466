package route53_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/383project/opsbot/integrations/route53"
	"github.com/383project/opsbot/integrations/route53/route53test"
)

// hostRecorder answers nothing: it records the host each request was sent
// to, so a test can see where the SDK resolved the endpoint without the
// network (real AWS included).
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

var errRecorded = errors.New("recorded, not sent")

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts = append(h.hosts, r.URL.Host)
	return nil, errRecorded
}

func (h *hostRecorder) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.hosts) == 0 {
		return ""
	}
	return h.hosts[len(h.hosts)-1]
}

// TestEndpointResolution checks the SDK's endpoint rules survive the client's
// own options (the base config comes from config.LoadDefaultConfig, as in
// production): AWS_ENDPOINT_URL_ROUTE_53 over AWS_ENDPOINT_URL, the shared
// config file's services section, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, and
// Config.EndpointURL (opsbot's integrations.aws.endpoint_url) over all of them.
func TestEndpointResolution(t *testing.T) {
	const (
		service = "route53-service.test:4566"
		global  = "global.test:4566"
		file    = "route53-file.test:4566"
		opsbot  = "opsbot-file.test:4566"
	)
	sharedConfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(sharedConfig, []byte("[default]\nservices = fakes\n\n[services fakes]\nroute_53 =\n  endpoint_url = http://"+file+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		explicit string // Config.EndpointURL
		want     string
	}{
		{name: "service env var", env: map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": "http://" + service}, want: service},
		{name: "service env var over global", env: map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": "http://" + service, "AWS_ENDPOINT_URL": "http://" + global}, want: service},
		{name: "global env var", env: map[string]string{"AWS_ENDPOINT_URL": "http://" + global}, want: global},
		{name: "shared config file", env: map[string]string{"AWS_CONFIG_FILE": sharedConfig}, want: file},
		{name: "ignore configured endpoints", env: map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": "http://" + service, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
			want: "route53.amazonaws.com"},
		{name: "opsbot's endpoint_url wins", env: map[string]string{"AWS_ENDPOINT_URL_ROUTE_53": "http://" + service, "AWS_ENDPOINT_URL": "http://" + global},
			explicit: "http://" + opsbot, want: opsbot},
		{name: "no override", want: "route53.amazonaws.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_REGION": "eu-west-1",
				"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
				"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_ROUTE_53": "", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "", "AWS_PROFILE": ""}
			for k, v := range tc.env {
				env[k] = v
			}
			for k, v := range env {
				t.Setenv(k, v)
				if v == "" {
					// An empty AWS_ENDPOINT_URL is still "set" to the SDK.
					_ = os.Unsetenv(k)
				}
			}
			base, err := awsconfig.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			rec := &hostRecorder{}
			c := route53.NewWithAWSConfig(base, route53.Config{EndpointURL: tc.explicit, RetryMaxAttempts: 1},
				&http.Client{Transport: rec, Timeout: 5 * time.Second}, nil)
			if _, err := c.Records(context.Background(), zoneID, "acme.example", "A"); !errors.Is(err, errRecorded) {
				t.Fatalf("Records: %v, want the recorder's error", err)
			}
			if got := rec.last(); got != tc.want {
				t.Errorf("request sent to %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServiceEndpointReachesFake is the end of the chain: with only
// AWS_ENDPOINT_URL_ROUTE_53 naming the fake, records are read from it.
func TestServiceEndpointReachesFake(t *testing.T) {
	srv := route53test.New(t)
	srv.AddZone(zoneID, "acme.example.")
	srv.SetRecords(zoneID, route53test.Record{Name: "www.acme.example.", Type: "A", TTL: 60, Values: []string{"203.0.113.5"}})
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_REGION": "eu-west-1",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_ROUTE_53": srv.URL} {
		t.Setenv(k, v)
	}
	base, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := route53.NewWithAWSConfig(base, route53.Config{RetryMaxAttempts: 1}, &http.Client{Timeout: 5 * time.Second}, nil)
	recs, err := c.Records(ctx(t), zoneID, "www.acme.example", "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Values[0] != "203.0.113.5" {
		t.Fatalf("records = %+v, want the fake's www A record", recs)
	}
}
