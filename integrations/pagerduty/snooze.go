package pagerduty

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Snooze snoozes an acknowledged incident for d as the PagerDuty user with
// email fromEmail: it re-alerts (triggered again) when d has passed unless
// it is resolved by then. PagerDuty snoozes only acknowledged incidents.
//
// https://developer.pagerduty.com/api-reference/ee3f2da5d6d4e-snooze-an-incident
func (c *Client) Snooze(ctx context.Context, incidentID, fromEmail string, d time.Duration) error {
	op := fmt.Sprintf("pagerduty: snooze incident %s", incidentID)
	ctx, ex := withExchange(ctx)
	// go-pagerduty v1.8.0 sends no From header with a snooze; the transport
	// adds the one carried by the context.
	ctx = context.WithValue(ctx, fromKey{}, fromEmail)
	_, err := c.pd.SnoozeIncidentWithContext(ctx, incidentID, uint(d.Round(time.Second)/time.Second))
	if err = classify(ctx, op, ex, err, ""); err != nil {
		return err
	}
	c.log.DebugContext(ctx, "pagerduty incident snoozed", "incident_id", incidentID, "for", d)
	return nil
}

type fromKey struct{}

// withFrom sets the From header a request's context carries, when the
// library did not set one.
func withFrom(req *http.Request) *http.Request {
	from, _ := req.Context().Value(fromKey{}).(string)
	if from == "" || req.Header.Get("From") != "" {
		return req
	}
	req = req.Clone(req.Context())
	req.Header.Set("From", from)
	return req
}
