package store

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ChangeState is where a change request stands (PRODUCT.md capability 4,
// the Infrastructure Modification Process of the modification policy):
//
//	requested → investigating → proposed → awaiting_approval → approved → scheduled
//	  → provisioning → smoke_testing → cut_over → verified → retired → closed
//
// with the exits rejected (from awaiting_approval), rolled_back (from
// cut_over or verified: DNS goes back to the kept records) and cancelled
// (from any open state before cut_over). A proposal whose monthly cost does
// not go up needs no approval: it passes through proposed to approved.
// Editing the proposal (from investigating, awaiting_approval or approved)
// voids every approval given so far.
type ChangeState string

// Change request states.
const (
	ChangeRequested        ChangeState = "requested"
	ChangeInvestigating    ChangeState = "investigating"
	ChangeProposed         ChangeState = "proposed"
	ChangeAwaitingApproval ChangeState = "awaiting_approval"
	ChangeApproved         ChangeState = "approved"
	ChangeRejected         ChangeState = "rejected"
	ChangeScheduled        ChangeState = "scheduled"
	ChangeProvisioning     ChangeState = "provisioning"
	ChangeSmokeTesting     ChangeState = "smoke_testing"
	ChangeCutOver          ChangeState = "cut_over"
	ChangeVerified         ChangeState = "verified"
	ChangeRetired          ChangeState = "retired"
	ChangeClosed           ChangeState = "closed"
	ChangeRolledBack       ChangeState = "rolled_back"
	ChangeCancelled        ChangeState = "cancelled"
)

// ChangeStates lists every state in lifecycle order.
var ChangeStates = []ChangeState{
	ChangeRequested, ChangeInvestigating, ChangeProposed, ChangeAwaitingApproval, ChangeApproved,
	ChangeRejected, ChangeScheduled, ChangeProvisioning, ChangeSmokeTesting, ChangeCutOver,
	ChangeVerified, ChangeRetired, ChangeClosed, ChangeRolledBack, ChangeCancelled,
}

// Label is the state for people: "awaiting approval", "smoke testing".
func (s ChangeState) Label() string {
	if s == ChangeRetired {
		return "old infrastructure retired"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// Terminal reports whether the request has ended (closed, rejected, rolled
// back or cancelled): nothing may change it any more.
func (s ChangeState) Terminal() bool {
	switch s {
	case ChangeClosed, ChangeRejected, ChangeRolledBack, ChangeCancelled:
		return true
	}
	return false
}

// Magnitude says how big a change is; a major one freezes deployments
// during its window.
type Magnitude string

// Magnitudes.
const (
	MagnitudeMinor Magnitude = "minor"
	MagnitudeMajor Magnitude = "major"
)

// Approver roles a change may require (Approval.Role).
const (
	ApproverStakeholder = string(Stakeholder)
	ApproverFinance     = string(Finance)
)

// DefaultApprovers are the roles that must approve a cost increase when
// the configuration names none: a stakeholder of the client and finance.
func DefaultApprovers() []string { return []string{ApproverStakeholder, ApproverFinance} }

// Money is an amount in US cents.
type Money int64

// String formats m as "$1,234.50" ("-$40.00" when negative).
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m) // -MinInt64 wraps to itself, which is right as uint64
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign + "$")
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	fmt.Fprintf(&b, ".%02d", u%100)
	return b.String()
}

// FormatDelta shows the change of a monthly cost in money and percent:
// "+$120.00/month (+18 %)", "−$40.00/month (−10 %)", "+$50.00/month (from
// $0)", "$0.00/month (no change)". The percentage is rounded to a whole
// number; a change under half a percent shows as "<1 %".
func FormatDelta(cur, proposed Money) string {
	d := proposed - cur
	if d == 0 {
		return "$0.00/month (no change)"
	}
	sign, abs := "+", d
	if d < 0 {
		sign, abs = "−", -d
	}
	amount := sign + abs.String() + "/month"
	switch {
	case cur == 0:
		return amount + " (from $0)"
	case cur < 0:
		return amount
	}
	pct := math.Round(math.Abs(float64(d)) * 100 / float64(cur))
	if pct == 0 {
		return amount + " (" + sign + "<1 %)"
	}
	return amount + " (" + sign + strconv.FormatFloat(pct, 'f', 0, 64) + " %)"
}

// DNSPlan is the Route 53 record a cut-over will change.
type DNSPlan struct {
	ZoneID    string   `json:"zone_id"`
	Name      string   `json:"name"`
	Type      string   `json:"type"` // A, AAAA, CNAME...
	NewValues []string `json:"new_values"`
}

// Proposal is support's plan for a change. By, At and Version are set by
// ChangeRequest.Propose.
type Proposal struct {
	Plan            string    `json:"plan"`
	Magnitude       Magnitude `json:"magnitude"`
	CurrentMonthly  Money     `json:"current_monthly"`
	ProposedMonthly Money     `json:"proposed_monthly"`
	RollbackPlan    string    `json:"rollback_plan,omitempty"`
	DNS             *DNSPlan  `json:"dns,omitempty"`
	WindowStart     time.Time `json:"window_start,omitzero"`
	WindowEnd       time.Time `json:"window_end,omitzero"`
	By              string    `json:"by"`
	At              time.Time `json:"at"`
	Version         int       `json:"version"` // 1 for the first proposal, bumped by every edit
}

// Delta is the change of the monthly cost (positive: it goes up).
func (p Proposal) Delta() Money { return p.ProposedMonthly - p.CurrentMonthly }

// Approval is one person's approval (or, as ChangeRequest.Rejection, their
// rejection with the reason in Comment) of one version of a proposal.
type Approval struct {
	By              string    `json:"by"`
	Role            string    `json:"role"` // "finance" or "stakeholder"
	At              time.Time `json:"at"`   // when the approver saw the proposal; zero: now
	ProposalVersion int       `json:"proposal_version"`
	Comment         string    `json:"comment,omitempty"`
}

// ChangeEvent is one line of a request's history (its Slack thread).
type ChangeEvent struct {
	At   time.Time   `json:"at"`
	By   string      `json:"by"`
	From ChangeState `json:"from,omitempty"` // empty for the creation
	To   ChangeState `json:"to"`
	Note string      `json:"note,omitempty"`
}

// ChangeRequest is one request to investigate and change a client's
// infrastructure. It is changed only through its methods, which refuse an
// action that does not fit the current state and record every step in
// History.
type ChangeRequest struct {
	ID          string        `json:"id"` // "CR-7"
	Client      string        `json:"client"`
	Title       string        `json:"title"`
	Problem     string        `json:"problem"`
	Issue       string        `json:"issue,omitempty"` // "acme/web#42"
	RequestedBy string        `json:"requested_by"`
	State       ChangeState   `json:"state"`
	Proposal    *Proposal     `json:"proposal,omitempty"`
	Approvals   []Approval    `json:"approvals,omitempty"` // valid for the current proposal version
	Rejection   *Approval     `json:"rejection,omitempty"`
	History     []ChangeEvent `json:"history"`
	// Smoke checks of the new infrastructure, their last results and an
	// admin's waiver (see change_cutover.go).
	SmokeChecks  []SmokeCheck  `json:"smoke_checks,omitempty"`
	SmokeResults []SmokeResult `json:"smoke_results,omitempty"`
	SmokeWaiver  *Waiver       `json:"smoke_waiver,omitempty"`
	// DNS is the cut-over's record keeping: the records before the
	// cut-over, kept to restore them exactly.
	DNS       *DNSState `json:"dns,omitempty"`
	Channel   string    `json:"channel,omitempty"`    // where its one message lives
	MessageTS string    `json:"message_ts,omitempty"` // that message, once posted
	Version   int64     `json:"version"`              // bumped on every save
	CreatedAt time.Time `json:"created_at"`
}

// Errors of the change request machine. Messages are fit to show to people.
var (
	ErrWrongState      = errors.New("the action does not fit the request's state")
	ErrFourEyes        = errors.New("four eyes: the requester or the proposer of a change cannot approve or reject it")
	ErrStaleProposal   = errors.New("the proposal changed since you saw it; review the new version")
	ErrReasonRequired  = errors.New("a reason is required")
	ErrApprovalExpired = errors.New("the approval expired; open the request again and review the proposal")
	ErrNotApprover     = errors.New("this change does not need an approval in that role")
	ErrInvalidChange   = errors.New("invalid change request")
)

// StateError refuses an action in the wrong state; it matches ErrWrongState.
type StateError struct {
	Action string
	State  ChangeState
}

func (e *StateError) Error() string {
	return "cannot " + e.Action + " a request that is " + e.State.Label()
}

// Unwrap makes errors.Is(err, ErrWrongState) true.
func (e *StateError) Unwrap() error { return ErrWrongState }

// Field limits (Slack modal inputs are at most 3000 characters).
const (
	maxChangeLine = 150
	maxChangeText = 3000
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidChange, fmt.Sprintf(format, args...))
}

// checkText validates a required (or optional) field: length and, for a
// single line, no control characters.
func checkText(name, v string, maxLen int, required, line bool) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return invalid("%s is required", name)
	case !utf8.ValidString(v):
		return invalid("%s is not valid text", name)
	case utf8.RuneCountInString(v) > maxLen:
		return invalid("%s is longer than %d characters", name, maxLen)
	}
	if line && strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalid("%s must be one line", name)
	}
	return nil
}

// NewChangeRequest opens a request in state requested.
func NewChangeRequest(id, client, title, problem, issue, by string, at time.Time) (*ChangeRequest, error) {
	for _, f := range []struct {
		name, v        string
		max            int
		required, line bool
	}{
		{"id", id, 32, true, true},
		{"client", client, 64, true, true},
		{"title", title, maxChangeLine, true, true},
		{"problem", problem, maxChangeText, true, false},
		{"issue", issue, 300, false, true},
		{"requester", by, 64, true, true},
	} {
		if err := checkText(f.name, f.v, f.max, f.required, f.line); err != nil {
			return nil, err
		}
	}
	c := &ChangeRequest{
		ID: strings.TrimSpace(id), Client: strings.TrimSpace(client), Title: strings.TrimSpace(title),
		Problem: strings.TrimSpace(problem), Issue: strings.TrimSpace(issue), RequestedBy: by,
		State: ChangeRequested, CreatedAt: at,
	}
	c.record(by, at, "", ChangeRequested, "requested")
	return c, nil
}

func (c *ChangeRequest) record(by string, at time.Time, from, to ChangeState, note string) {
	c.History = append(c.History, ChangeEvent{At: at, By: by, From: from, To: to, Note: note})
}

// move checks that the state is one of from and goes to to.
func (c *ChangeRequest) move(action string, from []ChangeState, to ChangeState, by string, at time.Time, note string) error {
	if !slices.Contains(from, c.State) {
		return &StateError{Action: action, State: c.State}
	}
	if strings.TrimSpace(by) == "" {
		return invalid("who is acting is required")
	}
	prev := c.State
	c.State = to
	c.record(by, at, prev, to, note)
	return nil
}

// Investigate starts the investigation of a requested change.
func (c *ChangeRequest) Investigate(by string, at time.Time) error {
	return c.move("investigate", []ChangeState{ChangeRequested}, ChangeInvestigating, by, at, "")
}

// NeedsApproval reports whether the current proposal raises the monthly
// cost, so approval (not only notification) is required.
func (c *ChangeRequest) NeedsApproval() bool {
	return c.Proposal != nil && c.Proposal.ProposedMonthly > c.Proposal.CurrentMonthly
}

// maxMoney bounds costs so that sums and percentages cannot overflow
// ($100 billion a month).
const maxMoney Money = 10_000_000_000_000

func validateProposal(p Proposal) error {
	if err := checkText("plan", p.Plan, maxChangeText, true, false); err != nil {
		return err
	}
	if err := checkText("rollback plan", p.RollbackPlan, maxChangeText, false, false); err != nil {
		return err
	}
	if p.Magnitude != MagnitudeMinor && p.Magnitude != MagnitudeMajor {
		return invalid("magnitude must be minor or major, not %q", p.Magnitude)
	}
	for _, m := range []Money{p.CurrentMonthly, p.ProposedMonthly} {
		if m < 0 || m > maxMoney {
			return invalid("a monthly cost must be between $0 and %s, not %s", maxMoney, m)
		}
	}
	switch {
	case p.WindowStart.IsZero() != p.WindowEnd.IsZero():
		return invalid("the window needs both a start and an end")
	case !p.WindowStart.IsZero() && !p.WindowEnd.After(p.WindowStart):
		return invalid("the window must end after it starts")
	case p.WindowStart.IsZero() && p.Magnitude == MagnitudeMajor:
		return invalid("a major change needs a window")
	}
	if d := p.DNS; d != nil {
		for _, f := range []struct{ name, v string }{{"hosted zone", d.ZoneID}, {"record name", d.Name}, {"record type", d.Type}} {
			if err := checkText(f.name, f.v, 255, true, true); err != nil {
				return err
			}
		}
		if len(d.NewValues) == 0 || len(d.NewValues) > 100 {
			return invalid("the DNS plan needs between 1 and 100 new values")
		}
		for _, v := range d.NewValues {
			if err := checkText("record value", v, 4000, true, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// Propose records support's proposal, or an edit of it. Every edit bumps
// the version and voids the approvals given so far. A proposal that raises
// the monthly cost waits for approval; otherwise it is approved at once
// (finance and stakeholders are only notified).
func (c *ChangeRequest) Propose(p Proposal, by string, at time.Time) error {
	from := []ChangeState{ChangeInvestigating, ChangeProposed, ChangeAwaitingApproval, ChangeApproved}
	if !slices.Contains(from, c.State) {
		return &StateError{Action: "propose a change for", State: c.State}
	}
	if err := validateProposal(p); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return invalid("who is acting is required")
	}
	p.By, p.At, p.Version = by, at, 1
	if c.Proposal != nil {
		p.Version = c.Proposal.Version + 1
	}
	if p.DNS != nil {
		d := *p.DNS
		d.NewValues = slices.Clone(d.NewValues)
		p.DNS = &d
	}
	note := fmt.Sprintf("proposal v%d (%s): %s", p.Version, p.Magnitude, FormatDelta(p.CurrentMonthly, p.ProposedMonthly))
	if n := len(c.Approvals); n > 0 {
		note += fmt.Sprintf("; %d approval(s) voided", n)
	}
	c.Proposal, c.Approvals = &p, nil
	prev := c.State
	c.State = ChangeProposed
	c.record(by, at, prev, ChangeProposed, note)
	if c.NeedsApproval() {
		c.State = ChangeAwaitingApproval
		c.record(by, at, ChangeProposed, ChangeAwaitingApproval, "the monthly cost goes up: approval required")
	} else {
		c.State = ChangeApproved
		c.record(by, at, ChangeProposed, ChangeApproved, "no cost increase: notification only")
	}
	return nil
}

// expired reports whether an approval given at at is too old at now.
func expired(at time.Time, ttl time.Duration, now time.Time) bool {
	return ttl > 0 && now.Sub(at) > ttl
}

// fourEyes refuses the requester and the proposer.
func (c *ChangeRequest) fourEyes(by string) error {
	if by == c.RequestedBy || (c.Proposal != nil && by == c.Proposal.By) {
		return ErrFourEyes
	}
	return nil
}

// Approve records a's approval of the current proposal. required names the
// roles that must each approve (DefaultApprovers when empty); ttl is how
// long an approval stays valid (0: forever). Approvals older than ttl are
// dropped first. advanced is true when this approval completed the set and
// the request moved to approved. A repeat by the same person, or an
// approval in a role already satisfied, changes nothing (false, nil): one
// person cannot stand for two roles.
func (c *ChangeRequest) Approve(a Approval, required []string, ttl time.Duration, now time.Time) (advanced bool, err error) {
	if a.At.IsZero() {
		a.At = now
	}
	if c.Proposal != nil && c.State == ChangeApproved && a.ProposalVersion == c.Proposal.Version &&
		slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.By == a.By }) {
		return false, nil // a double click after the set completed
	}
	if c.State != ChangeAwaitingApproval || c.Proposal == nil {
		return false, &StateError{Action: "approve", State: c.State}
	}
	if len(required) == 0 {
		required = DefaultApprovers()
	}
	switch {
	case strings.TrimSpace(a.By) == "":
		return false, invalid("who is approving is required")
	case !slices.Contains(required, a.Role):
		return false, fmt.Errorf("%w (%q; required: %s)", ErrNotApprover, a.Role, strings.Join(required, ", "))
	}
	if err := checkText("comment", a.Comment, maxChangeText, false, false); err != nil {
		return false, err
	}
	if err := c.fourEyes(a.By); err != nil {
		return false, err
	}
	if a.ProposalVersion != c.Proposal.Version {
		return false, fmt.Errorf("%w (you saw version %d, the current one is %d)", ErrStaleProposal, a.ProposalVersion, c.Proposal.Version)
	}
	if expired(a.At, ttl, now) {
		return false, ErrApprovalExpired
	}
	c.dropExpired(ttl, now)
	if slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.By == a.By || x.Role == a.Role }) {
		return false, nil
	}
	c.Approvals = append(c.Approvals, a)
	note := "approved as " + a.Role
	if a.Comment != "" {
		note += ": " + a.Comment
	}
	c.record(a.By, now, c.State, c.State, note)
	for _, r := range required {
		if !slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.Role == r }) {
			return false, nil
		}
	}
	c.State = ChangeApproved
	c.record(a.By, now, ChangeAwaitingApproval, ChangeApproved, "every required approval given")
	return true, nil
}

// dropExpired removes approvals older than ttl, noting each in History.
func (c *ChangeRequest) dropExpired(ttl time.Duration, now time.Time) {
	kept := c.Approvals[:0]
	for _, x := range c.Approvals {
		if expired(x.At, ttl, now) {
			c.record("", now, c.State, c.State, fmt.Sprintf("approval by %s as %s expired", x.By, x.Role))
			continue
		}
		kept = append(kept, x)
	}
	c.Approvals = kept
	if len(c.Approvals) == 0 {
		c.Approvals = nil
	}
}

// Reject turns the proposal down; a.Comment is the reason, required. The
// request ends (rejected). The requester and the proposer may not reject
// (they cancel instead), and a rejection is bound to the version seen.
func (c *ChangeRequest) Reject(a Approval, now time.Time) error {
	if a.At.IsZero() {
		a.At = now
	}
	if c.State != ChangeAwaitingApproval || c.Proposal == nil {
		return &StateError{Action: "reject", State: c.State}
	}
	if strings.TrimSpace(a.By) == "" {
		return invalid("who is rejecting is required")
	}
	if strings.TrimSpace(a.Comment) == "" {
		return ErrReasonRequired
	}
	if err := checkText("reason", a.Comment, maxChangeText, true, false); err != nil {
		return err
	}
	if err := c.fourEyes(a.By); err != nil {
		return err
	}
	if a.ProposalVersion != c.Proposal.Version {
		return fmt.Errorf("%w (you saw version %d, the current one is %d)", ErrStaleProposal, a.ProposalVersion, c.Proposal.Version)
	}
	a.Comment = strings.TrimSpace(a.Comment)
	c.Rejection = &a
	c.State = ChangeRejected
	c.record(a.By, now, ChangeAwaitingApproval, ChangeRejected, "rejected as "+a.Role+": "+a.Comment)
	return nil
}

// Schedule books an approved change for its window.
func (c *ChangeRequest) Schedule(by string, at time.Time) error {
	return c.move("schedule", []ChangeState{ChangeApproved}, ChangeScheduled, by, at, "")
}

// Provision starts building the new infrastructure in parallel.
func (c *ChangeRequest) Provision(by string, at time.Time) error {
	return c.move("provision", []ChangeState{ChangeScheduled}, ChangeProvisioning, by, at, "")
}

// SmokeTest starts smoke testing the new infrastructure.
func (c *ChangeRequest) SmokeTest(by string, at time.Time) error {
	return c.move("smoke test", []ChangeState{ChangeProvisioning}, ChangeSmokeTesting, by, at, "")
}

// CutOver records that DNS now points at the new infrastructure. It is
// refused unless the smoke checks passed or were waived (CutOverAllowed).
func (c *ChangeRequest) CutOver(by string, at time.Time) error {
	if c.State == ChangeSmokeTesting {
		if err := c.CutOverAllowed(); err != nil {
			return err
		}
	}
	return c.move("cut over", []ChangeState{ChangeSmokeTesting}, ChangeCutOver, by, at, "")
}

// Verify confirms the new infrastructure serves the site well.
func (c *ChangeRequest) Verify(by string, at time.Time) error {
	return c.move("verify", []ChangeState{ChangeCutOver}, ChangeVerified, by, at, "")
}

// Retire records that the old infrastructure was retired.
func (c *ChangeRequest) Retire(by string, at time.Time) error {
	return c.move("retire the old infrastructure of", []ChangeState{ChangeVerified}, ChangeRetired, by, at, "")
}

// Close ends a completed change (outcome "done").
func (c *ChangeRequest) Close(by string, at time.Time) error {
	return c.move("close", []ChangeState{ChangeRetired}, ChangeClosed, by, at, "")
}

// RollBack records that DNS went back to the old infrastructure, after the
// cut-over and before the old infrastructure is retired.
func (c *ChangeRequest) RollBack(by, reason string, at time.Time) error {
	return c.exit("roll back", []ChangeState{ChangeCutOver, ChangeVerified}, ChangeRolledBack, by, reason, at)
}

// Cancel abandons a request that has not been cut over (after the
// cut-over, roll back instead).
func (c *ChangeRequest) Cancel(by, reason string, at time.Time) error {
	return c.exit("cancel", []ChangeState{
		ChangeRequested, ChangeInvestigating, ChangeProposed, ChangeAwaitingApproval,
		ChangeApproved, ChangeScheduled, ChangeProvisioning, ChangeSmokeTesting,
	}, ChangeCancelled, by, reason, at)
}

func (c *ChangeRequest) exit(action string, from []ChangeState, to ChangeState, by, reason string, at time.Time) error {
	if !slices.Contains(from, c.State) {
		return &StateError{Action: action, State: c.State}
	}
	if strings.TrimSpace(reason) == "" {
		return ErrReasonRequired
	}
	if err := checkText("reason", reason, maxChangeText, true, false); err != nil {
		return err
	}
	return c.move(action, from, to, by, at, strings.TrimSpace(reason))
}

// Outcome names how a finished request ended, for the change log: "done",
// "rolled back", "rejected" or "cancelled"; "" while it is open.
func (c *ChangeRequest) Outcome() string {
	switch c.State {
	case ChangeClosed:
		return "done"
	case ChangeRolledBack, ChangeRejected, ChangeCancelled:
		return c.State.Label()
	}
	return ""
}

// Reason is why the request ended early (rejection, roll back,
// cancellation), "" otherwise.
func (c *ChangeRequest) Reason() string {
	switch c.State {
	case ChangeRejected:
		if c.Rejection != nil {
			return c.Rejection.Comment
		}
	case ChangeRolledBack, ChangeCancelled:
		if n := len(c.History); n > 0 {
			return c.History[n-1].Note
		}
	}
	return ""
}

// EnteredAt is when the request last entered state s (zero if never).
func (c *ChangeRequest) EnteredAt(s ChangeState) time.Time {
	for i := len(c.History) - 1; i >= 0; i-- {
		if e := c.History[i]; e.To == s && e.From != s {
			return e.At
		}
	}
	return time.Time{}
}
