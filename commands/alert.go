package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// AlertActions is the alert machinery (jobs.Alerter satisfies it).
type AlertActions interface {
	Alert(ctx context.Context, key string) (store.Alert, bool, error)
	Acknowledge(ctx context.Context, key, by string, at time.Time) (store.Alert, error)
	Resolve(ctx context.Context, key, by string, at time.Time) (store.Alert, error)
	Silence(ctx context.Context, key, by string, until, at time.Time) (store.Alert, error)
}

// Incidents is the incident tool's REST API acting as a person
// (integrations/pagerduty satisfies it).
type Incidents interface {
	IncidentByDedupKey(ctx context.Context, dedupKey string) (integrations.Incident, error)
	Acknowledge(ctx context.Context, incidentID, fromEmail string) error
	Resolve(ctx context.Context, incidentID, fromEmail string) error
	Snooze(ctx context.Context, incidentID, fromEmail string, d time.Duration) error
}

// Emails finds a person's email (Slack users.info), to act as them elsewhere.
type Emails interface {
	UserEmail(ctx context.Context, userID string) (string, error)
}

// Action IDs of the alert message buttons (rendered by jobs).
const (
	actionAlertAck     = "alert_ack"
	actionAlertResolve = "alert_resolve"
	actionAlertSilence = "alert_silence_1h"
)

// alertKeyForm is "<monitor>/<client>/<subject>" with an optional fourth
// part (server alerts: "server/acme/i-0abc/cpu"; SLA: "sla/acme/www/2026-11").
var alertKeyForm = regexp.MustCompile(`^[a-z]{1,20}/[a-z0-9][a-z0-9_-]{0,39}(/[a-z0-9][a-z0-9._-]{0,62}){1,2}$`)

// alertFromButton reads the alert a button names. The value comes from the
// client and may be forged: it is validated, and the caller's permission is
// checked against the alert's client.
func (c *Call) alertFromButton(ctx context.Context, a Action, perm store.Permission) (store.Alert, error) {
	if c.r.deps.Alerts == nil {
		return store.Alert{}, userErrorf("", "Alerts are not running on this opsbot.")
	}
	if !alertKeyForm.MatchString(a.Value) {
		return store.Alert{}, userErrorf("", "That button does not name an alert I know.")
	}
	al, ok, err := c.r.deps.Alerts.Alert(ctx, a.Value)
	if err != nil {
		return store.Alert{}, err
	}
	if !ok {
		return store.Alert{}, userErrorf("", "That alert no longer exists.")
	}
	if !c.Principal.CanFor(perm, al.Client) {
		return store.Alert{}, &deniedError{reply: denied(c.Principal, perm, "act on alerts of "+al.Client)}
	}
	return al, nil
}

func runAlertAck(ctx context.Context, c *Call, a Action) (Reply, error) {
	return alertByPerson(ctx, c, a, "acknowledge")
}

func runAlertResolve(ctx context.Context, c *Call, a Action) (Reply, error) {
	return alertByPerson(ctx, c, a, "resolve")
}

// alertByPerson acknowledges or resolves the incident at PagerDuty as the
// clicking person first (so PagerDuty shows who), then the alert itself; its
// message is updated in place by the outbox.
func alertByPerson(ctx context.Context, c *Call, a Action, verb string) (Reply, error) {
	al, err := c.alertFromButton(ctx, a, store.PermIncidentManage)
	if err != nil {
		return Reply{}, err
	}
	if al.Status != store.AlertFiring && al.Status != store.AlertAcknowledged || verb == "acknowledge" && al.Status == store.AlertAcknowledged {
		return Reply{Text: alertStateText(al)}, nil
	}
	pdNote, err := c.incidentAsPerson(ctx, al, verb)
	if err != nil {
		return Reply{}, err
	}
	op := c.r.deps.Alerts.Acknowledge
	if verb == "resolve" {
		op = c.r.deps.Alerts.Resolve
	}
	if _, err := op(ctx, al.Key, c.User.ID, c.Now); err != nil {
		if errors.Is(err, store.ErrAlertNotFiring) || errors.Is(err, store.ErrAlreadyAcked) {
			return Reply{Text: alertStateText(al)}, nil
		}
		return Reply{}, err
	}
	word := map[string]string{"acknowledge": ":large_orange_circle: Acknowledged", "resolve": ":large_green_circle: Resolved"}[verb]
	text := fmt.Sprintf("%s *%s*.%s", word, Escape(al.Subject), pdNote)
	if verb == "resolve" && al.Failing() {
		text += fmt.Sprintf("\n:warning: It is still failing (%s, last checked %s). It alerts and pages again only if it keeps failing until its failure is confirmed anew.",
			Escape(truncate(al.LastError, 200)), slackDate(al.LastChecked))
	}
	return Reply{Text: text}, nil
}

// incidentAsPerson acts on the PagerDuty incident with the person's email.
func (c *Call) incidentAsPerson(ctx context.Context, al store.Alert, verb string) (string, error) {
	pd := c.r.deps.Incidents
	if pd == nil {
		return "", nil
	}
	inc, err := pd.IncidentByDedupKey(ctx, al.DedupKey())
	if errors.Is(err, integrations.ErrNotFound) {
		return " (no PagerDuty incident was open for it)", nil
	}
	if err != nil {
		return "", c.pagerDutyError(err)
	}
	if c.r.deps.Emails == nil {
		return "", userErrorf("", "I can't see Slack emails here, so I can't act for you in PagerDuty. Do it in PagerDuty instead; nothing was changed.")
	}
	email, err := c.r.deps.Emails.UserEmail(ctx, c.User.ID)
	if err != nil || email == "" {
		return "", userErrorf("", "I can't see your email address in Slack, so I can't %s the PagerDuty incident as you. Do it in PagerDuty; nothing was changed.", verb)
	}
	act := pd.Acknowledge
	if verb == "resolve" {
		act = pd.Resolve
	}
	if err := act(ctx, inc.ID, email); err != nil {
		if errors.Is(err, integrations.ErrNotFound) {
			return "", userErrorf("", "PagerDuty has no user with your Slack email %s, so I can't %s incident #%d as you. Ask an admin to add you to PagerDuty, or do it there; nothing was changed.", Escape(email), verb, inc.Number)
		}
		return "", c.pagerDutyError(err)
	}
	return fmt.Sprintf(" PagerDuty incident #%d %s as %s.", inc.Number, pastTense[verb], Escape(email)), nil
}

// pastTense of the verbs people do to incidents.
var pastTense = map[string]string{"acknowledge": "acknowledged", "resolve": "resolved"}

func (c *Call) pagerDutyError(err error) error {
	if ok, after := integrations.IsRetryable(err); ok {
		wait := "a minute"
		if after > 0 {
			wait = after.Round(time.Second).String()
		}
		return userErrorf("", "PagerDuty is not answering right now, so nothing was changed. Try again in %s.", wait)
	}
	if errors.Is(err, integrations.ErrUnauthorized) {
		return userErrorf("", "PagerDuty rejected opsbot's API token, so nothing was changed. Tell an admin (PAGERDUTY_TOKEN).")
	}
	return err
}

func alertStateText(al store.Alert) string {
	switch al.Status {
	case store.AlertAcknowledged:
		return fmt.Sprintf(":large_orange_circle: *%s* was already acknowledged by <@%s>.", Escape(al.Subject), al.AckedBy)
	case store.AlertResolved:
		if al.ResolvedBy != "" {
			return fmt.Sprintf(":large_green_circle: *%s* was already resolved by <@%s>.", Escape(al.Subject), al.ResolvedBy)
		}
		return fmt.Sprintf(":large_green_circle: *%s* has already recovered.", Escape(al.Subject))
	}
	return fmt.Sprintf("*%s* is not alerting.", Escape(al.Subject))
}

// runAlertSilence silences the alert's site (a server alert: its
// resource) for an hour, and finishes the job: the alert's message says
// who silenced it until when, and the PagerDuty incident is acknowledged
// and snoozed for the hour as the person (or, without the REST API,
// acknowledged through the alert's own events).
func runAlertSilence(ctx context.Context, c *Call, a Action) (Reply, error) {
	al, err := c.alertFromButton(ctx, a, store.PermSilenceManage)
	if err != nil {
		return Reply{}, err
	}
	if c.r.deps.Silences == nil {
		return Reply{}, userErrorf("", "Silences are not available on this opsbot.")
	}
	site := cmp.Or(al.Site, al.Key[strings.LastIndexByte(al.Key, '/')+1:])
	until := c.Now.Add(time.Hour)
	sil, err := c.r.deps.Silences.AddSilence(ctx, store.Silence{Client: al.Client, Site: site,
		Reason: "silenced from the alert message", CreatedBy: c.User.ID, Start: c.Now, End: until})
	if err != nil {
		return Reply{}, err
	}
	text := fmt.Sprintf(":double_vertical_bar: Silenced *%s* for 1h (until %s). ID `%s` — `/ops unsilence %s` ends it.",
		Escape(sil.Target()), slackDate(sil.End), sil.ID, sil.ID)
	if !al.Active() {
		return Reply{Text: text}, nil
	}
	text += c.snoozeAsPerson(ctx, al, time.Hour)
	if _, err := c.r.deps.Alerts.Silence(ctx, al.Key, c.User.ID, until, c.Now); err != nil && !errors.Is(err, store.ErrAlertNotFiring) {
		c.r.log.Warn("silenced alert not marked", "alert", al.Key, "err", err)
		text += " The alert's message could not be updated; it shows the silence at its next change."
	}
	return Reply{Text: text}, nil
}

// snoozeAsPerson acknowledges (if needed) and snoozes the alert's
// PagerDuty incident for d as the person, and says what it did. The
// silence is already in place, so a failure here is told, not returned.
func (c *Call) snoozeAsPerson(ctx context.Context, al store.Alert, d time.Duration) string {
	pd := c.r.deps.Incidents
	if pd == nil {
		if al.PagerRef == "" {
			return ""
		}
		return " Its PagerDuty incident is acknowledged (opsbot cannot snooze it without PAGERDUTY_TOKEN)."
	}
	inc, err := pd.IncidentByDedupKey(ctx, al.DedupKey())
	switch {
	case errors.Is(err, integrations.ErrNotFound):
		return " (no PagerDuty incident was open for it)"
	case err != nil:
		return " PagerDuty was not changed: " + userText(c.pagerDutyError(err))
	case inc.Status == "resolved":
		return ""
	}
	var email string
	if c.r.deps.Emails != nil {
		email, _ = c.r.deps.Emails.UserEmail(ctx, c.User.ID)
	}
	if email == "" {
		return " I can't see your email address in Slack, so I can't snooze the PagerDuty incident as you; it is acknowledged by opsbot instead."
	}
	if inc.Status == "triggered" {
		if err := pd.Acknowledge(ctx, inc.ID, email); err != nil {
			return fmt.Sprintf(" PagerDuty incident #%d was not snoozed (%s); it is acknowledged by opsbot instead.", inc.Number, snoozeProblem(c, err, email))
		}
	}
	if err := pd.Snooze(ctx, inc.ID, email, d); err != nil {
		return fmt.Sprintf(" PagerDuty incident #%d is acknowledged but not snoozed (%s).", inc.Number, snoozeProblem(c, err, email))
	}
	return fmt.Sprintf(" PagerDuty incident #%d acknowledged and snoozed for %s as %s.", inc.Number, formatDuration(d), Escape(email))
}

func snoozeProblem(c *Call, err error, email string) string {
	if errors.Is(err, integrations.ErrNotFound) {
		return "PagerDuty has no user with your Slack email " + Escape(email)
	}
	return userText(c.pagerDutyError(err))
}

// userText is what a user error says; other errors are "PagerDuty refused it".
func userText(err error) string {
	if ue, ok := errors.AsType[*UserError](err); ok {
		return strings.TrimSuffix(ue.Msg, ".")
	}
	return "PagerDuty refused it"
}
