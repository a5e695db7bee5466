package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// FindingState is where a scanner's finding stands for opsbot:
//
//	new ──(seen by the next scan)──▶ open
//	 │                                │
//	 └──(patched, or absent from a completed scan)──▶ fixed ──(seen again)──▶ reopened ──▶ open
//
// Alerts fire on the transitions into new and reopened (and on an
// acceptance expiring while open), never on a scan that changes nothing.
type FindingState string

// Finding states.
const (
	FindingNew      FindingState = "new"
	FindingOpen     FindingState = "open"
	FindingFixed    FindingState = "fixed"
	FindingReopened FindingState = "reopened"
)

// FindingAlertKey is the alert key of one finding of one client (its
// PagerDuty dedup key is "opsbot/" + it).
func FindingAlertKey(client, id string) string { return "finding/" + client + "/" + id }

// Open reports whether the finding still needs fixing.
func (s FindingState) Open() bool { return s == FindingNew || s == FindingOpen || s == FindingReopened }

// Vendor statuses that decide a finding's state (the scanner's words).
const (
	vendorPatched       = "patched"
	vendorAcceptedRisk  = "accepted_risk"
	vendorFalsePositive = "false_positive"
)

// Finding is one finding of one client as opsbot keeps it: what the scanner
// last said about it, and its lifecycle. No request or response body is
// kept: Request is "METHOD URL" only, for staff.
type Finding struct {
	ID             string       `json:"-"` // the scanner's uuid, or FindingKey's hash (the record's hash field)
	Client         string       `json:"-"`
	Profile        string       `json:"p,omitempty"`
	Title          string       `json:"t"`
	Severity       string       `json:"s"`
	CWE            int          `json:"cwe,omitempty"`
	OWASP          string       `json:"o,omitempty"`
	Host           string       `json:"h,omitempty"`
	Location       string       `json:"l,omitempty"`
	Link           string       `json:"u,omitempty"`
	Request        string       `json:"rq,omitempty"`
	ResponseStatus int          `json:"rs,omitempty"`
	VendorStatus   string       `json:"v,omitempty"`
	State          FindingState `json:"st"`
	FirstSeen      time.Time    `json:"f"`
	LastSeen       time.Time    `json:"ls"`
	FixedAt        time.Time    `json:"x,omitzero"`
	ReopenedAt     time.Time    `json:"r,omitzero"`
	// Alerted: the alert machinery was told the finding is open (and not
	// since that it is fixed), so a later scan need not tell it again.
	Alerted bool `json:"a,omitempty"`
}

// AcceptedAtVendor reports whether the scanner itself has the finding as an
// accepted risk or a false positive (set in its dashboard): it stays quiet.
func (f Finding) AcceptedAtVendor() bool {
	return f.VendorStatus == vendorAcceptedRisk || f.VendorStatus == vendorFalsePositive
}

// FindingReport is one finding as a scan listed it.
type FindingReport struct {
	VendorID       string // the scanner's uuid; "" when it gave none
	Profile        string
	Title          string
	Severity       string
	Status         string // the scanner's status: active, patched, accepted_risk, false_positive
	CWE            int
	OWASP          string
	Asset          string
	Host           string
	Location       string
	Link           string
	Request        string
	ResponseStatus int
	Created        time.Time // when the scanner first found it
}

// FindingKey is a report's stable ID: the scanner's uuid, else a hash of
// asset, title, location and CWE ("h" and 31 hex characters).
func FindingKey(r FindingReport) string {
	if id := strings.ToLower(strings.TrimSpace(r.VendorID)); id != "" {
		return id
	}
	sum := sha256.Sum256([]byte(r.Asset + "\x00" + r.Title + "\x00" + r.Location + "\x00" + strconv.Itoa(r.CWE)))
	return "h" + hex.EncodeToString(sum[:])[:31]
}

// FindingChange is one finding's transition in a scan; From is "" for a
// finding seen for the first time.
type FindingChange struct {
	From, To FindingState
	Finding  Finding
}

// FindingSummary counts what a scan changed.
type FindingSummary struct {
	At        time.Time      `json:"at"`
	New       int            `json:"new"`
	Reopened  int            `json:"reopened"`
	StillOpen int            `json:"still_open"`
	Fixed     int            `json:"fixed"`
	Open      map[string]int `json:"open"` // open findings by severity after the scan
}

// ScanResult is a scan applied to a client's findings.
type ScanResult struct {
	All     map[string]Finding // every finding of the client after the scan, by ID
	Touched map[string]bool    // the IDs whose record changed (to be saved)
	Changes []FindingChange    // transitions into new, reopened and fixed
	Summary FindingSummary
}

// ApplyScan applies a scan's reports to a client's findings (prev, by ID):
// complete names the profiles whose scan completed, so their findings no
// longer listed are fixed (a stopped or failed scan proves nothing). A
// finding first seen already patched is not kept. prev is not modified.
func ApplyScan(prev map[string]Finding, reports []FindingReport, complete map[string]bool, at time.Time) ScanResult {
	res := ScanResult{All: make(map[string]Finding, len(prev)+len(reports)/4), Touched: map[string]bool{},
		Summary: FindingSummary{At: at, Open: map[string]int{}}}
	sum := &res.Summary
	for _, r := range reports {
		id := FindingKey(r)
		if res.Touched[id] {
			continue
		}
		f, known := prev[id]
		patched := r.Status == vendorPatched
		if !known && patched {
			continue
		}
		before := f.State
		f.ID, f.Profile, f.Title, f.Severity, f.CWE, f.OWASP = id, r.Profile, r.Title, r.Severity, r.CWE, r.OWASP
		f.Host, f.Location, f.Link, f.Request, f.ResponseStatus, f.VendorStatus = r.Host, r.Location, r.Link, r.Request, r.ResponseStatus, r.Status
		f.LastSeen = at
		switch {
		case !known:
			f.State, f.FirstSeen = FindingNew, at
			if !r.Created.IsZero() && r.Created.Before(at) {
				f.FirstSeen = r.Created
			}
			sum.New++
		case before.Open() && patched:
			f.State, f.FixedAt = FindingFixed, at
			sum.Fixed++
		case before.Open():
			f.State = FindingOpen
			sum.StillOpen++
		case !patched: // fixed before, listed as active again
			f.State, f.ReopenedAt, f.FixedAt = FindingReopened, at, time.Time{}
			sum.Reopened++
		}
		res.All[id], res.Touched[id] = f, true
		if f.State != before && f.State != FindingOpen {
			res.Changes = append(res.Changes, FindingChange{From: before, To: f.State, Finding: f})
		}
	}
	for id, f := range prev {
		if res.Touched[id] {
			continue
		}
		if f.State.Open() && complete[f.Profile] {
			before := f.State
			f.State, f.FixedAt = FindingFixed, at
			sum.Fixed++
			res.Touched[id] = true
			res.Changes = append(res.Changes, FindingChange{From: before, To: FindingFixed, Finding: f})
		}
		res.All[id] = f
	}
	for _, f := range res.All {
		if f.State.Open() {
			sum.Open[f.Severity]++
		}
	}
	return res
}

// Acceptance mutes one open finding until a time: a risk accepted, or a
// false positive. When it ends and the finding is still open, it alerts again.
type Acceptance struct {
	ID            string    `json:"id"`
	Client        string    `json:"client"`
	Until         time.Time `json:"until"`
	Reason        string    `json:"reason"`
	By            string    `json:"by"`
	At            time.Time `json:"at"`
	FalsePositive bool      `json:"false_positive,omitempty"`

	raw string // the stored record, for compare-and-delete
}

// Active reports whether the acceptance still mutes its finding at now.
func (a Acceptance) Active(now time.Time) bool { return now.Before(a.Until) }

// Kind is "false positive" or "risk accepted", for people.
func (a Acceptance) Kind() string {
	if a.FalsePositive {
		return "false positive"
	}
	return "risk accepted"
}
