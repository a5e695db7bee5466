package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SmokeCheck is one check support lists for the new infrastructure: a GET
// of URL (optionally with another Host header, to reach the new servers
// before DNS points at them) expecting a status and, optionally, a keyword.
type SmokeCheck struct {
	URL          string `json:"url"`
	Host         string `json:"host,omitempty"`
	ExpectStatus int    `json:"expect_status"` // default 200
	Keyword      string `json:"keyword,omitempty"`
}

// SmokeResult is the outcome of one SmokeCheck.
type SmokeResult struct {
	URL    string    `json:"url"`
	OK     bool      `json:"ok"`
	Status int       `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"` // why it failed, in words
	At     time.Time `json:"at"`
}

// Waiver is an admin's decision to cut over without passing smoke checks.
type Waiver struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// DNSState is what the cut-over did to DNS. Kept holds the record sets as
// they were before the cut-over, in the DNS integration's own encoding, so
// a rollback restores them byte for byte; it is written before the first
// change is sent and never overwritten while the request is open.
type DNSState struct {
	Kept       json.RawMessage `json:"kept,omitempty"`
	ChangeID   string          `json:"change_id,omitempty"`  // the provider's ID of the cut-over change
	Failure    string          `json:"failure,omitempty"`    // the last failed attempt, in words
	RestoredAt time.Time       `json:"restored_at,omitzero"` // the last restore of Kept
}

// Errors of smoke checks and the cut-over.
var (
	ErrSmokeNotPassed = errors.New("the smoke checks have not all passed: run them again, or an admin waives them with a reason")
	ErrNothingKept    = errors.New("no DNS records were kept for this request, so there is nothing to restore")
)

// MaxSmokeChecks bounds the list (one modal field, one message).
const MaxSmokeChecks = 20

// SetSmokeChecks records the checks to run and, from provisioning, starts
// smoke testing. New checks clear earlier results and any waiver.
func (c *ChangeRequest) SetSmokeChecks(checks []SmokeCheck, by string, at time.Time) error {
	if c.State != ChangeProvisioning && c.State != ChangeSmokeTesting {
		return &StateError{Action: "set smoke checks for", State: c.State}
	}
	if err := c.idle(); err != nil {
		return err
	}
	if len(checks) == 0 || len(checks) > MaxSmokeChecks {
		return invalid("list between 1 and %d smoke checks", MaxSmokeChecks)
	}
	for i, ch := range checks {
		u, err := url.Parse(ch.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("smoke check %d: %q is not an http(s) URL", i+1, ch.URL)
		}
		if err := checkText("host", ch.Host, 253, false, true); err != nil {
			return err
		}
		if err := checkText("keyword", ch.Keyword, 200, false, true); err != nil {
			return err
		}
		if ch.ExpectStatus == 0 {
			checks[i].ExpectStatus = 200
		} else if ch.ExpectStatus < 100 || ch.ExpectStatus > 599 {
			return invalid("smoke check %d: status %d is not an HTTP status", i+1, ch.ExpectStatus)
		}
	}
	c.SmokeChecks, c.SmokeResults, c.SmokeWaiver = checks, nil, nil
	note := fmt.Sprintf("%d smoke check(s) listed", len(checks))
	if c.State == ChangeProvisioning {
		return c.move(changeStep{"smoke test", "change.smoke_checks", []ChangeState{ChangeProvisioning}, ChangeSmokeTesting}, by, at, note, "")
	}
	c.note("change.smoke_checks", by, at, note, "")
	return nil
}

// RecordSmoke stores the results of a run of the smoke checks.
func (c *ChangeRequest) RecordSmoke(results []SmokeResult, by string, at time.Time) error {
	if c.State != ChangeSmokeTesting {
		return &StateError{Action: "record smoke results for", State: c.State}
	}
	c.SmokeResults = results
	passed := 0
	for _, r := range results {
		if r.OK {
			passed++
		}
	}
	c.note("change.smoke_run", by, at, fmt.Sprintf("smoke checks: %d of %d passed", passed, len(results)), "")
	return nil
}

// SmokePassed reports whether every listed check passed in the last run.
func (c *ChangeRequest) SmokePassed() bool {
	if len(c.SmokeChecks) == 0 || len(c.SmokeResults) != len(c.SmokeChecks) {
		return false
	}
	for i, r := range c.SmokeResults {
		if !r.OK || r.URL != c.SmokeChecks[i].URL {
			return false
		}
	}
	return true
}

// Waive lets the cut-over go ahead without passing smoke checks. Who may
// waive (an admin) is the caller's to check; the reason is required.
func (c *ChangeRequest) Waive(by, reason string, at time.Time) error {
	if c.State != ChangeSmokeTesting {
		return &StateError{Action: "waive the smoke checks of", State: c.State}
	}
	if err := c.idle(); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	if err := checkText("reason", reason, maxChangeText, true, false); err != nil {
		return err
	}
	c.SmokeWaiver = &Waiver{By: by, Reason: reason, At: at}
	c.note("change.waive", by, at, "smoke checks waived: "+reason, reason)
	return nil
}

// CutOverAllowed says whether DNS may be switched: smoke checks passed or waived.
func (c *ChangeRequest) CutOverAllowed() error {
	if c.SmokeWaiver != nil || c.SmokePassed() {
		return nil
	}
	return ErrSmokeNotPassed
}

// KeepDNS records the records as they are before the cut-over, and that
// the cut-over starts (its audit entry is written before DNS is touched).
// The first kept set stays: a retried cut-over must not keep records it
// changed.
func (c *ChangeRequest) KeepDNS(kept []byte, by string, at time.Time) error {
	if c.State != ChangeSmokeTesting {
		return &StateError{Action: "cut over", State: c.State}
	}
	if err := c.CutOverAllowed(); err != nil {
		return err
	}
	if c.DNS == nil {
		c.DNS = &DNSState{}
	}
	note := "cut-over started"
	if len(c.DNS.Kept) == 0 {
		c.DNS.Kept = append(json.RawMessage(nil), kept...)
		note += "; DNS records kept for rollback"
	}
	if c.Proposal != nil && c.Proposal.DNS != nil {
		d := c.Proposal.DNS
		note += fmt.Sprintf(": %s %s → %s in zone %s", d.Name, d.Type, strings.Join(d.NewValues, ", "), d.ZoneID)
	}
	c.note("change.cutover_begin", by, at, note, "")
	c.DNS.Failure = ""
	return nil
}

// CutOverFailed notes a failed cut-over attempt; the request stays in smoke
// testing with its kept records, so it can be retried or restored.
func (c *ChangeRequest) CutOverFailed(by, why string, at time.Time) {
	if c.DNS == nil {
		c.DNS = &DNSState{}
	}
	c.DNS.Failure = why
	c.note("change.cutover_failed", by, at, "cut-over failed: "+why, "")
}

// CutOverDone records the switch: state cut_over, with the provider's change ID.
func (c *ChangeRequest) CutOverDone(changeID, by string, at time.Time) error {
	if c.DNS == nil || len(c.DNS.Kept) == 0 {
		return ErrNothingKept
	}
	if err := c.CutOver(by, at); err != nil {
		return err
	}
	c.DNS.ChangeID, c.DNS.Failure = changeID, ""
	return nil
}

// BeginRestore notes that the kept records are about to be put back,
// after a failed cut-over (rollback false, in smoke testing) or as a
// rollback (after the cut-over), so the audit entry precedes the change.
func (c *ChangeRequest) BeginRestore(rollback bool, by string, at time.Time) error {
	action, verb, ok := "change.restore_begin", "restore the DNS of", c.State == ChangeSmokeTesting
	if rollback {
		action, verb, ok = "change.rollback_begin", "roll back", slices.Contains(rollBackFrom, c.State)
	}
	if !ok {
		return &StateError{Action: verb, State: c.State}
	}
	if strings.TrimSpace(by) == "" {
		return invalid("who is acting is required")
	}
	c.note(action, by, at, "restoring the DNS records kept before the cut-over", "")
	return nil
}

// RestoreFailed notes that putting the kept records back failed.
func (c *ChangeRequest) RestoreFailed(by, why string, at time.Time) {
	c.note("change.restore_failed", by, at, "restoring DNS failed: "+why, "")
}

// DNSRestored notes that the kept records were put back (after a failed
// cut-over, or as part of a rollback).
func (c *ChangeRequest) DNSRestored(by string, at time.Time) {
	if c.DNS == nil {
		return
	}
	c.DNS.RestoredAt, c.DNS.Failure = at, ""
	if c.State == ChangeSmokeTesting {
		c.note("change.restore", by, at, "DNS records restored", "")
	}
}
