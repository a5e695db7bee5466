package integrations

import (
	"errors"
	"strings"
	"time"
)

// ScanProfile is one target a web-application scanner is configured to scan
// (a Detectify scan profile).
type ScanProfile struct {
	Token    string // the scanner's ID of the profile
	Name     string
	Endpoint string // the host name scanned, e.g. "shop.acme.example"
	Verified bool   // the domain's ownership is verified: only then can it be scanned
	Latest   ScanOutcome
}

// ScanOutcome is how a profile's most recent finished scan ended.
type ScanOutcome struct {
	Started time.Time
	Ended   time.Time
	Status  string // the scanner's word: "completed", "stopped", "failed" ...; "" when never scanned
}

// Completed reports whether the scan ran to its end, so a finding it no
// longer reports can be taken as fixed.
func (o ScanOutcome) Completed() bool { return o.Status == "completed" }

// ScanStatus is a profile's scan as the scanner reports it while it runs.
type ScanStatus struct {
	Profile string
	Running bool   // false: no scan is running on the profile (it ended, or never started)
	Phase   string // the scanner's word for the step it is in ("crawling", "scanning" ...)
	State   string // the scanner's word for the scan's state ("queued", "running" ...)
	Created time.Time
}

// Severity levels of a finding, as scanners name them.
const (
	FindingCritical = "critical"
	FindingHigh     = "high"
	FindingMedium   = "medium"
	FindingLow      = "low"
	FindingInfo     = "information"
)

// FindingSeverities lists the severities worst first.
var FindingSeverities = []string{FindingCritical, FindingHigh, FindingMedium, FindingLow, FindingInfo}

// Vendor statuses of a finding.
const (
	FindingActive        = "active"
	FindingPatched       = "patched"
	FindingAcceptedRisk  = "accepted_risk"
	FindingFalsePositive = "false_positive"
)

// Finding is one vulnerability a scanner reports on one location.
type Finding struct {
	ID       string // the scanner's stable ID (Detectify's uuid); "" when it gave none
	Title    string
	Severity string // one of FindingSeverities (anything else reads as information)
	Status   string // FindingActive, FindingPatched, ...
	CWE      int    // 0 when unknown
	OWASP    string // "A03:2021 Injection"; "" when unknown
	Asset    string // the root asset (domain) it was found on
	Host     string
	Location string // the URL it was found at
	Link     string // the scanner's page about it
	// Request is the request that showed it, as "METHOD URL" (no headers
	// or body); ResponseStatus the status it got. For staff only.
	Request        string
	ResponseStatus int
	Created        time.Time
	Updated        time.Time
}

// ErrScanRunning means a scan is already running on the profile (only one
// runs at a time per profile).
var ErrScanRunning = errors.New("a scan is already running on this profile")

// ErrNotVerified means the profile's domain is not verified, so the scanner
// refuses to scan it.
var ErrNotVerified = errors.New("the domain is not verified")

// ErrBadRequest marks a request the vendor refused as malformed (e.g. an
// unknown or invalid token): retrying will not help.
var ErrBadRequest = errors.New("refused as invalid")

// ScanRefusedError says why no profile of a client could be scanned, per
// profile, in words. Nothing was recorded.
type ScanRefusedError struct {
	Client  string
	Reasons map[string]string // profile token → why, in words
	// NotVerified lists the profiles refused because their domain is not
	// verified (ErrNotVerified).
	NotVerified []string
}

func (e *ScanRefusedError) Error() string {
	parts := make([]string, 0, len(e.Reasons))
	for tok, why := range e.Reasons {
		parts = append(parts, tok+": "+why)
	}
	return "scan of " + e.Client + " refused: " + strings.Join(parts, "; ")
}
