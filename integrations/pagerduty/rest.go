package pagerduty

import (
	"context"
	"fmt"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/383project/opsbot/integrations"
)

// maxPages bounds pagination loops (100 per page).
const maxPages = 50

// Acknowledge acknowledges an incident as the PagerDuty user with email
// fromEmail (sent as the From header, required for user-level tokens).
// Unknown incident or requester → integrations.ErrNotFound.
//
// https://developer.pagerduty.com/api-reference/5c7fb6d0e6f4e-manage-incidents
func (c *Client) Acknowledge(ctx context.Context, incidentID, fromEmail string) error {
	return c.setStatus(ctx, "acknowledge", "acknowledged", incidentID, fromEmail)
}

// Resolve resolves an incident as the PagerDuty user with email fromEmail.
//
// https://developer.pagerduty.com/api-reference/5c7fb6d0e6f4e-manage-incidents
func (c *Client) Resolve(ctx context.Context, incidentID, fromEmail string) error {
	return c.setStatus(ctx, "resolve", "resolved", incidentID, fromEmail)
}

func (c *Client) setStatus(ctx context.Context, verb, status, incidentID, fromEmail string) error {
	op := fmt.Sprintf("pagerduty: %s incident %s", verb, incidentID)
	ctx, ex := withExchange(ctx)
	_, err := c.pd.ManageIncidentsWithContext(ctx, fromEmail,
		[]pd.ManageIncidentsOptions{{ID: incidentID, Status: status}})
	if err = classify(ctx, op, ex, err, ""); err != nil {
		return err
	}
	c.log.DebugContext(ctx, "pagerduty incident updated", "incident_id", incidentID, "status", status)
	return nil
}

// IncidentByDedupKey finds the incident whose incident_key is dedupKey (the
// Events v2 dedup key that created it). When several match (re-triggered
// after a resolve), the open one wins, else the newest. None → ErrNotFound.
//
// https://developer.pagerduty.com/api-reference/9d0b4b12e36f9-list-incidents
func (c *Client) IncidentByDedupKey(ctx context.Context, dedupKey string) (integrations.Incident, error) {
	op := fmt.Sprintf("pagerduty: incident by dedup key %s", dedupKey)
	ctx, ex := withExchange(ctx)
	resp, err := c.pd.ListIncidentsWithContext(ctx, pd.ListIncidentsOptions{IncidentKey: dedupKey, Limit: 100})
	if err = classify(ctx, op, ex, err, ""); err != nil {
		return integrations.Incident{}, err
	}
	var best *pd.Incident
	for i := range resp.Incidents {
		in := &resp.Incidents[i]
		if in.IncidentKey != dedupKey {
			continue
		}
		if best == nil || better(in, best) {
			best = in
		}
	}
	if best == nil {
		return integrations.Incident{}, fmt.Errorf("%s: %w", op, integrations.ErrNotFound)
	}
	return incident(best), nil
}

func better(a, b *pd.Incident) bool {
	openA, openB := a.Status != "resolved", b.Status != "resolved"
	if openA != openB {
		return openA
	}
	return parseTime(a.CreatedAt).After(parseTime(b.CreatedAt))
}

func incident(in *pd.Incident) integrations.Incident {
	out := integrations.Incident{
		ID: in.ID, Number: int(in.IncidentNumber), Title: in.Title, Status: in.Status,
		Urgency: in.Urgency, URL: in.HTMLURL, Service: in.Service.Summary,
		DedupKey: in.IncidentKey, CreatedAt: parseTime(in.CreatedAt),
	}
	for _, a := range in.Assignments {
		out.Assignees = append(out.Assignees, a.Assignee.Summary)
	}
	return out
}

// UserByEmail returns the ID and name of the PagerDuty user whose email is
// exactly email (case-insensitive). No such user → ErrNotFound.
//
// https://developer.pagerduty.com/api-reference/c96e889522dd6-list-users
func (c *Client) UserByEmail(ctx context.Context, email string) (id, name string, err error) {
	op := fmt.Sprintf("pagerduty: user by email %s", email)
	ctx, ex := withExchange(ctx)
	resp, err := c.pd.ListUsersWithContext(ctx, pd.ListUsersOptions{Query: email, Limit: 100})
	if err = classify(ctx, op, ex, err, ""); err != nil {
		return "", "", err
	}
	for _, u := range resp.Users {
		if strings.EqualFold(u.Email, email) {
			return u.ID, u.Name, nil
		}
	}
	return "", "", fmt.Errorf("%s: %w", op, integrations.ErrNotFound)
}

// OnCalls lists who is on call at now, earliest shift per escalation policy
// and level, optionally limited to scheduleIDs (empty = all), following
// pagination. Permanent (non-schedule) levels have zero Start/End.
//
// https://developer.pagerduty.com/api-reference/3a6b910f11050-list-all-of-the-on-calls
func (c *Client) OnCalls(ctx context.Context, scheduleIDs []string, now time.Time) ([]integrations.OnCall, error) {
	op := "pagerduty: on-calls"
	at := now.UTC().Format(time.RFC3339)
	opts := pd.ListOnCallOptions{
		TimeZone: "UTC", Earliest: true, Includes: []string{"users"},
		ScheduleIDs: scheduleIDs, Since: at, Until: at, Limit: 100,
	}
	var out []integrations.OnCall
	for range maxPages {
		pctx, ex := withExchange(ctx)
		resp, err := c.pd.ListOnCallsWithContext(pctx, opts)
		if err = classify(pctx, op, ex, err, ""); err != nil {
			return nil, err
		}
		for _, oc := range resp.OnCalls {
			out = append(out, onCall(oc))
		}
		if !resp.More || len(resp.OnCalls) == 0 {
			return out, nil
		}
		opts.Offset += uint(len(resp.OnCalls))
	}
	return out, nil
}

func onCall(oc pd.OnCall) integrations.OnCall {
	return integrations.OnCall{
		Schedule:         firstNonEmpty(oc.Schedule.Summary, oc.Schedule.Name),
		EscalationPolicy: firstNonEmpty(oc.EscalationPolicy.Summary, oc.EscalationPolicy.Name),
		Level:            int(oc.EscalationLevel),
		UserName:         firstNonEmpty(oc.User.Name, oc.User.Summary),
		UserEmail:        oc.User.Email,
		Start:            parseTime(oc.Start),
		End:              parseTime(oc.End),
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// parseTime reads PagerDuty's ISO 8601 timestamps; zero when empty or bad.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
