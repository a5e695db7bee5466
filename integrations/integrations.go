// Package integrations holds the vendor-neutral results that the vendor
// packages (integrations/<vendor>) return and that commands and jobs consume,
// plus the error type that tells a retry loop when to try again. Stdlib only.
package integrations

import (
	"errors"
	"fmt"
	"time"
)

// CheckState is what a check says about a site right now.
type CheckState string

// Check states.
const (
	StateUp      CheckState = "up"
	StateDown    CheckState = "down"
	StateUnknown CheckState = "unknown" // paused, not yet checked, or the source is unavailable
)

// CheckResult is one observation of one site, from StatusCake or opsbot's own probe.
type CheckResult struct {
	Source       string // "statuscake" or "probe"
	ID           string // StatusCake test ID, or the probe's site key
	Name         string
	URL          string
	State        CheckState
	StatusCode   int
	ResponseTime time.Duration
	Error        string    // why it is down, in words ("timeout after 10s", "status 503", "keyword missing")
	CheckedAt    time.Time // when this observation was made
	// CertExpiry is the leaf certificate's NotAfter for https targets (zero otherwise).
	CertExpiry time.Time
	// Uptime is the source's own uptime percentage when it reports one (StatusCake), else -1.
	Uptime float64
}

// Period is a stretch of time a check spent in one state (StatusCake periods,
// or transitions recorded for own probes). End is zero while it is running.
type Period struct {
	State CheckState
	Start time.Time
	End   time.Time
}

// Severity of an alert, as PagerDuty Events v2 names it.
type Severity string

// Severities.
const (
	SeverityCritical Severity = "critical"
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Alert is an event for an incident tool: trigger, acknowledge or resolve
// the incident with this dedup key.
type Alert struct {
	RoutingKey string // PagerDuty integration (routing) key; a secret
	DedupKey   string // stable per client+site (or per monitor subject)
	Action     string // "trigger", "acknowledge", "resolve"
	Summary    string
	Source     string // affected system, e.g. the site URL
	Severity   Severity
	Component  string
	Group      string // e.g. the client key
	Class      string // e.g. "uptime", "sla", "server"
	Details    map[string]any
	Links      []Link
	// ClientURL links back to where people act on it (the Slack message).
	ClientURL string
	At        time.Time
}

// Link is a URL with a label attached to an alert.
type Link struct {
	Href string
	Text string
}

// Incident is an incident as the incident tool knows it.
type Incident struct {
	ID        string
	Number    int
	Title     string
	Status    string // "triggered", "acknowledged", "resolved"
	Urgency   string
	URL       string // html_url
	Service   string
	DedupKey  string // incident_key
	CreatedAt time.Time
	Assignees []string
}

// OnCall is who is on call for one escalation level of one policy or schedule.
type OnCall struct {
	Schedule         string
	EscalationPolicy string
	Level            int
	UserName         string
	UserEmail        string
	Start, End       time.Time // zero when permanently on call
}

// ErrNotFound marks a missing record at the vendor (user by email, incident).
var ErrNotFound = errors.New("not found")

// ErrUnauthorized marks rejected credentials (401/403): retrying will not help.
var ErrUnauthorized = errors.New("unauthorized")

// RetryableError is a failure worth retrying later: a 429 (with the delay
// the vendor asked for), a 5xx or a network error. Anything else is final.
type RetryableError struct {
	Op         string        // what was attempted, e.g. "pagerduty: enqueue trigger acme/www"
	StatusCode int           // 0 for network errors
	RetryAfter time.Duration // from Retry-After / rate-limit reset headers; 0 when not given
	Err        error
}

func (e *RetryableError) Error() string {
	s := e.Op
	if e.StatusCode != 0 {
		s += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RetryableError) Unwrap() error { return e.Err }

// IsRetryable reports whether err (or something it wraps) is a RetryableError,
// and the delay it asks for.
func IsRetryable(err error) (bool, time.Duration) {
	var re *RetryableError
	if errors.As(err, &re) {
		return true, re.RetryAfter
	}
	return false, 0
}

// PermissionError is a refusal for want of one permission (an IAM action
// such as "ce:GetCostAndUsage"), so callers can name what to grant without
// reading error text. Err wraps ErrUnauthorized.
type PermissionError struct {
	Action string
	Err    error
}

func (e *PermissionError) Error() string { return e.Err.Error() }

func (e *PermissionError) Unwrap() error { return e.Err }

// MissingPermission returns the permission err (or something it wraps)
// names as missing; ok is false when it names none.
func MissingPermission(err error) (action string, ok bool) {
	var pe *PermissionError
	if errors.As(err, &pe) && pe.Action != "" {
		return pe.Action, true
	}
	return "", false
}

// CourseActivity is one person's progress in one course, as a learning
// platform (Udemy Business) reports it.
type CourseActivity struct {
	Email, Name string
	CourseID    string
	CourseTitle string
	// FirstCompleted is when the person first completed the course (zero:
	// never). Unlike a completion ratio it does not drop when the course
	// gains lectures.
	FirstCompleted time.Time
	Deactivated    bool // the person's account is deactivated
}
