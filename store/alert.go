package store

import (
	"errors"
	"fmt"
	"time"
)

// AlertStatus is where an alert stands. Every monitor (uptime, servers,
// cost, scans) drives the same machine:
//
//	ok ──(FailAfter failures)──▶ firing ──(Acknowledge)──▶ acknowledged
//	 ▲                             │                           │
//	 └──── resolved ◀──(RecoverAfter successes, or Resolve by a person)
//
// While a silence matches, crossing the threshold mutes the alert instead
// of firing it; if the subject is still failing when the silence ends, the
// next observation fires it.
type AlertStatus string

// Alert statuses.
const (
	AlertOK           AlertStatus = "ok"
	AlertFiring       AlertStatus = "firing"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertResolved     AlertStatus = "resolved"
)

// Transition is what an observation or a person did to an alert, and so
// what must be announced (posted, paged).
type Transition string

// Transitions.
const (
	NoChange    Transition = ""
	Fired       Transition = "fired"
	Recovered   Transition = "recovered"    // the subject is healthy again
	Acknowledge Transition = "acknowledged" // by a person
	Resolve     Transition = "resolved"     // by a person while still failing, or before recovery
	Silenced    Transition = "silenced"     // by a person from the alert: acknowledged and muted for a while
	Stale       Transition = "stale"        // closed for want of data: the breach can't be judged any more
)

// Thresholds hold an alert back until a failure or a recovery is confirmed,
// so a flapping subject does not page on every flip.
type Thresholds struct {
	FailAfter    int // consecutive failing observations before firing (min 1)
	RecoverAfter int // consecutive passing observations before recovering (min 1)
}

// Alert is the state of one monitored subject (a site, an instance, a
// client's cost). It is stored as one record and changed only through its
// methods, which return the transition to announce.
type Alert struct {
	Key     string `json:"key"` // unique: "uptime/acme/www"
	Monitor string `json:"monitor"`
	Client  string `json:"client"`
	// ClientName is the client as people know it ("ACME Ltd"); "" = Client.
	ClientName string `json:"client_name,omitempty"`
	Subject    string `json:"subject"`
	// Site is what a silence names besides the client: the site of an
	// uptime alert, the resource of a server alert.
	Site string `json:"site,omitempty"`
	URL  string `json:"url,omitempty"`
	// PagerRef names the incident tool routing of this alert (never the key).
	PagerRef string `json:"pager_ref,omitempty"`
	Severity string `json:"severity,omitempty"` // of its page; "" = critical
	// PageSummary and PageDetails, when the monitor gives them, are its
	// page's summary and custom details (a finding's title and facts).
	PageSummary string         `json:"page_summary,omitempty"`
	PageDetails map[string]any `json:"page_details,omitempty"`
	Home        string         `json:"home,omitempty"` // the channel a new firing posts to
	Status      AlertStatus    `json:"status"`
	// Fields are what the monitor shows about the subject besides its
	// error (a finding's severity, category, location), as plain text.
	Fields []AlertField `json:"fields,omitempty"`

	Failures       int       `json:"failures"`  // consecutive failing observations
	Successes      int       `json:"successes"` // consecutive passing observations
	FailingSince   time.Time `json:"failing_since,omitzero"`
	RecoveringFrom time.Time `json:"recovering_from,omitzero"` // first passing observation after failures
	LastError      string    `json:"last_error,omitempty"`
	LastChecked    time.Time `json:"last_checked,omitzero"`
	Muted          bool      `json:"muted,omitempty"` // threshold crossed while silenced

	FiredAt    time.Time `json:"fired_at,omitzero"`
	AckedAt    time.Time `json:"acked_at,omitzero"`
	AckedBy    string    `json:"acked_by,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"` // empty when it recovered by itself
	// ResolvedFailing: resolved by hand while its checks were still failing.
	ResolvedFailing bool `json:"resolved_failing,omitempty"`
	// Stale: closed because its source stopped sending data (see GoStale).
	Stale bool `json:"stale,omitempty"`
	// SilencedBy silenced the alert from its message until SilencedUntil.
	SilencedBy    string    `json:"silenced_by,omitempty"`
	SilencedUntil time.Time `json:"silenced_until,omitzero"`

	// Escalated counts the escalation steps taken in this firing, and
	// EscalationPages are the dedup keys they paged (resolved with it).
	Escalated       int      `json:"escalated,omitempty"`
	EscalationPages []string `json:"escalation_pages,omitempty"`

	// Grouping: a gathering alert (an instance failing its status checks)
	// lists the client's site alerts that failed with it; those name it as
	// Parent, and were Suppressed when they fired under it (no message or
	// page of their own). Only creation is suppressed: they resolve as usual.
	Gathering  bool         `json:"gathering,omitempty"`
	Children   []ChildAlert `json:"children,omitempty"`
	Parent     string       `json:"parent,omitempty"`
	Suppressed bool         `json:"suppressed,omitempty"`

	Channel   string `json:"channel,omitempty"`    // where its one message lives
	MessageTS string `json:"message_ts,omitempty"` // that message, once posted
	// The previous firing's message, so deliveries still queued for it
	// update that message rather than the current one.
	PrevFiredAt   time.Time `json:"prev_fired_at,omitzero"`
	PrevChannel   string    `json:"prev_channel,omitempty"`
	PrevMessageTS string    `json:"prev_message_ts,omitempty"`
	Version       int64     `json:"version"` // bumped on every save
}

// AlertField is one labelled fact of an alert's message; At, when set,
// is shown as a date instead of Text.
type AlertField struct {
	Label string    `json:"label"`
	Text  string    `json:"text,omitempty"`
	At    time.Time `json:"at,omitzero"`
}

// DedupKey is the stable incident key of the alert at PagerDuty.
func (a *Alert) DedupKey() string { return "opsbot/" + a.Key }

// Who is the client as people know it.
func (a *Alert) Who() string {
	if a.ClientName != "" {
		return a.ClientName
	}
	return a.Client
}

// Failing reports whether the last observation failed.
func (a *Alert) Failing() bool { return a.Failures > 0 }

// Errors returned by the person-driven transitions.
var (
	ErrAlertNotFiring = errors.New("the alert is not firing")
	ErrAlreadyAcked   = errors.New("the alert is already acknowledged")
)

func (th Thresholds) norm() Thresholds {
	return Thresholds{FailAfter: max(th.FailAfter, 1), RecoverAfter: max(th.RecoverAfter, 1)}
}

// active reports whether the alert is announced and open.
func (a *Alert) active() bool { return a.Status == AlertFiring || a.Status == AlertAcknowledged }

// Active reports whether the alert is announced and open (firing or acknowledged).
func (a *Alert) Active() bool { return a.active() }

// Observe applies one check: ok or failing with errText, at time at.
// silenced says whether a silence matches the subject now.
func (a *Alert) Observe(ok bool, errText string, at time.Time, th Thresholds, silenced bool) Transition {
	th = th.norm()
	a.LastChecked = at
	if a.Status == "" {
		a.Status = AlertOK
	}
	if !ok {
		if a.Failures == 0 && !a.active() {
			a.FailingSince = at // a new failing run; a firing alert keeps its start
		}
		a.Failures++
		a.Successes = 0
		a.RecoveringFrom = time.Time{}
		a.LastError = errText
		if a.active() || a.Failures < th.FailAfter {
			return NoChange
		}
		if silenced {
			a.Muted = true
			return NoChange
		}
		a.fire(at)
		return Fired
	}
	if a.Successes == 0 {
		a.RecoveringFrom = at
	}
	a.Successes++
	a.Failures = 0 // failures must be consecutive: one success breaks the run
	if a.Successes < th.RecoverAfter {
		return NoChange
	}
	a.Muted = false
	if !a.active() {
		return NoChange
	}
	a.Status, a.ResolvedAt, a.ResolvedBy = AlertResolved, at, ""
	a.Gathering = false
	return Recovered
}

// fire opens a new firing at at: a new message, a new page.
func (a *Alert) fire(at time.Time) {
	a.Muted = false
	if !a.FiredAt.IsZero() {
		a.PrevFiredAt, a.PrevChannel, a.PrevMessageTS = a.FiredAt, a.Channel, a.MessageTS
	}
	a.Status, a.FiredAt = AlertFiring, at
	a.AckedAt, a.AckedBy, a.ResolvedAt, a.ResolvedBy = time.Time{}, "", time.Time{}, ""
	a.Escalated, a.EscalationPages = 0, nil
	a.SilencedBy, a.SilencedUntil, a.ResolvedFailing, a.Stale = "", time.Time{}, false, false
	a.Gathering, a.Children, a.Parent, a.Suppressed = false, nil, "", false
	a.MessageTS, a.Channel = "", "" // a new firing gets a new message
}

// Downtime is how long the last failing run lasted: from the first failing
// observation to the first passing one (or to now while still failing).
func (a *Alert) Downtime(now time.Time) time.Duration {
	if a.FailingSince.IsZero() {
		return 0
	}
	end := now
	if !a.RecoveringFrom.IsZero() && a.RecoveringFrom.After(a.FailingSince) {
		end = a.RecoveringFrom
	}
	return max(end.Sub(a.FailingSince), 0)
}

// Ack records that a person took the alert on.
func (a *Alert) Ack(by string, at time.Time) (Transition, error) {
	switch a.Status {
	case AlertFiring:
		a.Status, a.AckedBy, a.AckedAt = AlertAcknowledged, by, at
		return Acknowledge, nil
	case AlertAcknowledged:
		return NoChange, fmt.Errorf("%w by %s", ErrAlreadyAcked, a.AckedBy)
	}
	return NoChange, ErrAlertNotFiring
}

// SilenceBy records that a person silenced the open alert until until
// from its message; a firing alert is acknowledged by them too (someone
// has it). The silence itself is a Silence in the store.
func (a *Alert) SilenceBy(by string, until, at time.Time) (Transition, error) {
	if !a.active() {
		return NoChange, ErrAlertNotFiring
	}
	if a.Status == AlertFiring {
		a.Status, a.AckedBy, a.AckedAt = AlertAcknowledged, by, at
	}
	a.SilencedBy, a.SilencedUntil = by, until
	return Silenced, nil
}

// ResolveBy closes the alert by hand. If the subject is still failing it
// must cross the failure threshold again to fire anew.
func (a *Alert) ResolveBy(by string, at time.Time) (Transition, error) {
	if !a.active() {
		return NoChange, ErrAlertNotFiring
	}
	a.Status, a.ResolvedBy, a.ResolvedAt = AlertResolved, by, at
	a.Gathering = false
	a.ResolvedFailing = a.Failures > 0
	a.Failures = 0
	return Resolve, nil
}
