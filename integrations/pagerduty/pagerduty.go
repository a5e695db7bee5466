// Package pagerduty sends alerts to PagerDuty (Events API v2) and reads and
// changes incidents, users and on-call shifts (REST API v2), returning the
// vendor-neutral types of package integrations. It wraps
// github.com/PagerDuty/go-pagerduty v1.8.0.
//
// Errors: 429, 5xx and network failures are *integrations.RetryableError
// (retrying is the caller's job); 401/403 wrap integrations.ErrUnauthorized;
// missing records wrap integrations.ErrNotFound; anything else is final and
// names PagerDuty's message. The routing key never appears in an error or a
// log line.
package pagerduty

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/383project/opsbot/integrations"
)

// Production endpoints (US). EU accounts use https://api.eu.pagerduty.com and
// https://events.eu.pagerduty.com.
const (
	DefaultAPIURL    = "https://api.pagerduty.com"
	DefaultEventsURL = "https://events.pagerduty.com"
)

// maxSummary is the Events v2 limit on payload.summary, in characters.
const maxSummary = 1024

// Config says where PagerDuty is and how to authenticate to its REST API.
type Config struct {
	// APIURL is the REST API base (scheme+host only); default DefaultAPIURL.
	APIURL string
	// EventsURL is the Events API v2 base (scheme+host only, the client
	// appends /v2/enqueue); default DefaultEventsURL.
	EventsURL string
	// Token is a REST API token; may be empty if only Send is used.
	Token string
}

// Client talks to one PagerDuty account. It is safe for concurrent use.
type Client struct {
	pd  *pd.Client
	log *slog.Logger
}

// New builds a Client. hc may be nil (a client with a 30 s timeout is used);
// its Transport is wrapped, never modified. log may be nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.EventsURL == "" {
		cfg.EventsURL = DefaultEventsURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	wrapped := *hc
	wrapped.Transport = captureTransport{base: base}
	c := pd.NewClient(cfg.Token,
		pd.WithAPIEndpoint(strings.TrimRight(cfg.APIURL, "/")),
		pd.WithV2EventsAPIEndpoint(strings.TrimRight(cfg.EventsURL, "/")))
	c.HTTPClient = &wrapped
	return &Client{pd: c, log: log.With("integration", "pagerduty")}
}

// Send enqueues one Events API v2 event: trigger, acknowledge or resolve the
// alert with a.DedupKey, routed by a.RoutingKey. A trigger carries the payload
// (summary truncated to 1024 characters, severity defaulting to "error",
// timestamp RFC 3339), custom details and links; acknowledge and resolve carry
// only the keys. 202 → nil (PagerDuty processes events asynchronously).
//
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
// https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty
func (c *Client) Send(ctx context.Context, a integrations.Alert) error {
	op := fmt.Sprintf("pagerduty: %s %s", a.Action, a.DedupKey)
	switch a.Action {
	case "trigger", "acknowledge", "resolve":
	default:
		return fmt.Errorf("%s: unknown event action %q", op, a.Action)
	}
	if a.Action != "trigger" && a.DedupKey == "" {
		return fmt.Errorf("%s: dedup key required", op)
	}
	ev := &pd.V2Event{RoutingKey: a.RoutingKey, Action: a.Action, DedupKey: a.DedupKey, Client: "opsbot"}
	if a.Action == "trigger" {
		ev.Payload = payload(a)
		ev.ClientURL = a.ClientURL
		for _, l := range a.Links {
			ev.Links = append(ev.Links, map[string]string{"href": l.Href, "text": l.Text})
		}
	}
	ctx, ex := withExchange(ctx)
	_, err := c.pd.ManageEventWithContext(ctx, ev)
	if err = classify(ctx, op, ex, err, a.RoutingKey); err != nil {
		c.log.DebugContext(ctx, "pagerduty event failed", "action", a.Action,
			"dedup_key", a.DedupKey, "status", ex.status, "err", err)
		return err
	}
	c.log.DebugContext(ctx, "pagerduty event sent", "action", a.Action,
		"dedup_key", a.DedupKey, "status", ex.status)
	return nil
}

func payload(a integrations.Alert) *pd.V2Payload {
	sev := string(a.Severity)
	if sev == "" {
		sev = string(integrations.SeverityError)
	}
	p := &pd.V2Payload{
		Summary: truncate(a.Summary, maxSummary), Source: a.Source, Severity: sev,
		Component: a.Component, Group: a.Group, Class: a.Class,
	}
	if !a.At.IsZero() {
		p.Timestamp = a.At.UTC().Format(time.RFC3339)
	}
	if len(a.Details) > 0 {
		p.Details = a.Details
	}
	return p
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
