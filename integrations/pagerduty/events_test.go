package pagerduty_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
)

const routingKey = "e93facc04764012d7bfb002500d5d1a6" // 32 chars, like a real integration key

func newClient(t *testing.T, fake *pagerdutytest.Server) (*pagerduty.Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := pagerduty.New(pagerduty.Config{APIURL: fake.URL, EventsURL: fake.URL, Token: pagerdutytest.Token},
		&http.Client{Timeout: 5 * time.Second}, log)
	return c, &logs
}

func alert(action string) integrations.Alert {
	return integrations.Alert{
		RoutingKey: routingKey, DedupKey: "opsbot:uptime:acme:6421337", Action: action,
		Summary: "acme.example homepage is DOWN", Source: "statuscake:6421337",
		Severity: integrations.SeverityCritical, Component: "homepage", Group: "acme", Class: "uptime",
		Details:   map[string]any{"client": "acme", "status_code": 503},
		Links:     []integrations.Link{{Href: "https://app.statuscake.com/x", Text: "StatusCake check"}},
		ClientURL: "https://slack.com/archives/C0ACMEALRT/p1763632752004100",
		At:        time.Date(2026, 11, 20, 9, 59, 2, 0, time.FixedZone("CET", 3600)),
	}
}

func TestSendTriggerPayload(t *testing.T) {
	fake := pagerdutytest.New(t)
	c, _ := newClient(t, fake)
	a := alert("trigger")
	a.Summary = strings.Repeat("é", 2000)
	if err := c.Send(context.Background(), a); err != nil {
		t.Fatalf("Send: %v", err)
	}
	evs, err := fake.WaitEvents(1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := evs[0]
	if got.RoutingKey != routingKey || got.EventAction != "trigger" || got.DedupKey != a.DedupKey {
		t.Errorf("keys: got %+v", got)
	}
	p := got.Payload
	if n := len([]rune(p.Summary)); n != 1024 {
		t.Errorf("summary length: got %d runes, want 1024", n)
	}
	tests := []struct{ name, got, want string }{
		{"source", p.Source, "statuscake:6421337"},
		{"severity", p.Severity, "critical"},
		{"component", p.Component, "homepage"},
		{"group", p.Group, "acme"},
		{"class", p.Class, "uptime"},
		{"timestamp", p.Timestamp, "2026-11-20T08:59:02Z"},
		{"link href", got.Links[0].Href, "https://app.statuscake.com/x"},
		{"link text", got.Links[0].Text, "StatusCake check"},
		{"detail", p.CustomDetails["client"].(string), "acme"},
		{"client", got.Client, "opsbot"},
		{"client_url", got.ClientURL, "https://slack.com/archives/C0ACMEALRT/p1763632752004100"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestSendLifecycle(t *testing.T) {
	tests := []struct {
		name    string
		actions []string
		want    []string // statuses of the incidents, oldest first
	}{
		{"trigger then resolve", []string{"trigger", "resolve"}, []string{"resolved"}},
		{"dedup onto open incident", []string{"trigger", "trigger", "acknowledge"}, []string{"acknowledged"}},
		{"retrigger after resolve", []string{"trigger", "resolve", "trigger"}, []string{"resolved", "triggered"}},
		{"resolve with nothing open is dropped", []string{"resolve"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := pagerdutytest.New(t)
			c, _ := newClient(t, fake)
			for _, act := range tt.actions {
				if err := c.Send(context.Background(), alert(act)); err != nil {
					t.Fatalf("Send %s: %v", act, err)
				}
			}
			var got []string
			for _, in := range fake.Incidents() {
				got = append(got, in.Status)
				if in.DedupKey != alert("").DedupKey {
					t.Errorf("incident key: got %q", in.DedupKey)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("incidents: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSendRetryable(t *testing.T) {
	fake := pagerdutytest.New(t)
	c, logs := newClient(t, fake)
	fake.FailEnqueue(
		pagerdutytest.Response{Status: 500},
		pagerdutytest.Response{Status: 503, Body: "<html>bad gateway</html>"},
		pagerdutytest.Response{Status: 429, RetryAfter: 2 * time.Second},
		pagerdutytest.Response{Status: 429},
	)
	tests := []struct {
		status int
		delay  time.Duration
	}{
		{500, 0},
		{503, 0},
		{429, 2 * time.Second},
		{429, pagerduty.DefaultRateLimitDelay},
	}
	for _, tt := range tests {
		err := c.Send(context.Background(), alert("trigger"))
		var re *integrations.RetryableError
		if !errors.As(err, &re) {
			t.Fatalf("want RetryableError for %d, got %v", tt.status, err)
		}
		if re.StatusCode != tt.status || re.RetryAfter != tt.delay {
			t.Errorf("got status %d retry %s, want %d %s", re.StatusCode, re.RetryAfter, tt.status, tt.delay)
		}
		if !strings.Contains(err.Error(), "pagerduty: trigger opsbot:uptime:acme:6421337") {
			t.Errorf("error lacks context: %v", err)
		}
		assertNoSecret(t, err.Error())
	}
	if err := c.Send(context.Background(), alert("trigger")); err != nil {
		t.Fatalf("last Send: %v", err)
	}
	if n := len(fake.Events()); n != 1 {
		t.Errorf("accepted events: got %d, want 1", n)
	}
	assertNoSecret(t, logs.String())
}

func TestSendFinal(t *testing.T) {
	tests := []struct {
		name  string
		fail  []pagerdutytest.Response
		alert func(integrations.Alert) integrations.Alert
		want  string
	}{
		{"canned 400 echoing the key", []pagerdutytest.Response{{Status: 400,
			Body: `{"status":"invalid event","message":"Event object is invalid","errors":["bad key ` + routingKey + `"]}`}},
			nil, "Event object is invalid"},
		{"short routing key", nil, func(a integrations.Alert) integrations.Alert {
			a.RoutingKey = "short"
			return a
		}, "Length of 'routing_key' is incorrect"},
		{"missing source", nil, func(a integrations.Alert) integrations.Alert {
			a.Source = ""
			return a
		}, "'payload.source' is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := pagerdutytest.New(t)
			c, logs := newClient(t, fake)
			fake.FailEnqueue(tt.fail...)
			a := alert("trigger")
			if tt.alert != nil {
				a = tt.alert(a)
			}
			err := c.Send(context.Background(), a)
			if err == nil {
				t.Fatal("want error")
			}
			if ok, _ := integrations.IsRetryable(err); ok {
				t.Errorf("400 must be final: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "HTTP 400") {
				t.Errorf("got %q, want it to name %q", err, tt.want)
			}
			assertNoSecret(t, err.Error())
			assertNoSecret(t, logs.String())
		})
	}
}

func TestSendNetworkError(t *testing.T) {
	c := pagerduty.New(pagerduty.Config{EventsURL: "http://127.0.0.1:1"}, nil, nil)
	err := c.Send(context.Background(), alert("trigger"))
	if ok, _ := integrations.IsRetryable(err); !ok {
		t.Fatalf("network error must be retryable, got %v", err)
	}
	assertNoSecret(t, err.Error())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Send(ctx, alert("trigger")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}

func TestDefaultURLs(t *testing.T) {
	var hosts []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hosts = append(hosts, r.URL.Host+r.URL.Path)
		return &http.Response{StatusCode: 202, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"status":"success"}`)), Request: r}, nil
	})}
	c := pagerduty.New(pagerduty.Config{}, hc, nil)
	_ = c.Send(context.Background(), alert("trigger"))
	_, _, _ = c.UserByEmail(context.Background(), "x@example.com")
	want := "events.pagerduty.com/v2/enqueue,api.pagerduty.com/users"
	if got := strings.Join(hosts, ","); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, routingKey) {
		t.Errorf("routing key leaked: %s", s)
	}
}
