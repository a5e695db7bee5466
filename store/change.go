package store

import (
	"errors"
	"fmt"
	"slices"
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

// ChangeEvent is one line of a request's history (its Slack thread) and
// of the audit log: the store writes an audit entry for every event in the
// same transaction that saves it.
type ChangeEvent struct {
	At     time.Time   `json:"at"`
	By     string      `json:"by"`               // "" for opsbot's own steps (an approval expiring)
	Action string      `json:"action,omitempty"` // the audit action, e.g. "change.approve"
	From   ChangeState `json:"from,omitempty"`   // empty for the creation
	To     ChangeState `json:"to"`
	Note   string      `json:"note,omitempty"`
	Reason string      `json:"reason,omitempty"` // the reason a person gave (reject, cancel, waive, roll back)
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
	DNS       *DNSState    `json:"dns,omitempty"`
	Step      *RunningStep `json:"step,omitempty"`       // a long step in progress (change_step.go)
	Channel   string       `json:"channel,omitempty"`    // where its one message lives
	MessageTS string       `json:"message_ts,omitempty"` // that message, once posted
	Version   int64        `json:"version"`              // bumped on every save
	CreatedAt time.Time    `json:"created_at"`
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
	c.record(ChangeEvent{Action: "change.open", By: by, At: at, To: ChangeRequested, Note: "requested"})
	return c, nil
}

// record appends e to the history.
func (c *ChangeRequest) record(e ChangeEvent) {
	c.History = append(c.History, e)
}

// note records a step that leaves the state as it is.
func (c *ChangeRequest) note(action, by string, at time.Time, note, reason string) {
	c.record(ChangeEvent{Action: action, By: by, At: at, From: c.State, To: c.State, Note: note, Reason: reason})
}

// changeStep is one move of the machine: what it is called for people (in a
// refusal) and in the audit log, where it may start, where it goes.
type changeStep struct {
	verb   string // "investigate": "cannot investigate a request that is ..."
	action string // "change.investigate"
	from   []ChangeState
	to     ChangeState
}

// move checks that the state is one of st.from and goes to st.to.
func (c *ChangeRequest) move(st changeStep, by string, at time.Time, note, reason string) error {
	if !slices.Contains(st.from, c.State) {
		return &StateError{Action: st.verb, State: c.State}
	}
	if err := c.idle(); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return invalid("who is acting is required")
	}
	prev := c.State
	c.State = st.to
	c.record(ChangeEvent{Action: st.action, By: by, At: at, From: prev, To: st.to, Note: note, Reason: reason})
	return nil
}

// Investigate starts the investigation of a requested change.
func (c *ChangeRequest) Investigate(by string, at time.Time) error {
	return c.move(changeStep{"investigate", "change.investigate", []ChangeState{ChangeRequested}, ChangeInvestigating}, by, at, "", "")
}

// Schedule books an approved change for its window.
func (c *ChangeRequest) Schedule(by string, at time.Time) error {
	return c.move(changeStep{"schedule", "change.schedule", []ChangeState{ChangeApproved}, ChangeScheduled}, by, at, "", "")
}

// Provision starts building the new infrastructure in parallel.
func (c *ChangeRequest) Provision(by string, at time.Time) error {
	return c.move(changeStep{"provision", "change.provision", []ChangeState{ChangeScheduled}, ChangeProvisioning}, by, at, "", "")
}

// SmokeTest starts smoke testing the new infrastructure.
func (c *ChangeRequest) SmokeTest(by string, at time.Time) error {
	return c.move(changeStep{"smoke test", "change.smoke_test", []ChangeState{ChangeProvisioning}, ChangeSmokeTesting}, by, at, "", "")
}

// CutOver records that DNS now points at the new infrastructure. It is
// refused unless the smoke checks passed or were waived (CutOverAllowed).
func (c *ChangeRequest) CutOver(by string, at time.Time) error {
	if c.State == ChangeSmokeTesting {
		if err := c.CutOverAllowed(); err != nil {
			return err
		}
	}
	return c.move(changeStep{"cut over", "change.cutover", []ChangeState{ChangeSmokeTesting}, ChangeCutOver}, by, at, "", "")
}

// Verify confirms the new infrastructure serves the site well.
func (c *ChangeRequest) Verify(by string, at time.Time) error {
	return c.move(changeStep{"verify", "change.verify", []ChangeState{ChangeCutOver}, ChangeVerified}, by, at, "", "")
}

// Retire records that the old infrastructure was retired.
func (c *ChangeRequest) Retire(by string, at time.Time) error {
	return c.move(changeStep{"retire the old infrastructure of", "change.retire", []ChangeState{ChangeVerified}, ChangeRetired}, by, at, "", "")
}

// Close ends a completed change (outcome "done").
func (c *ChangeRequest) Close(by string, at time.Time) error {
	return c.move(changeStep{"close", "change.close", []ChangeState{ChangeRetired}, ChangeClosed}, by, at, "", "")
}

// rollBackFrom are the states a roll back starts from: after the cut-over,
// before the old infrastructure is retired.
var rollBackFrom = []ChangeState{ChangeCutOver, ChangeVerified}

// RollBack records that DNS went back to the old infrastructure, after the
// cut-over and before the old infrastructure is retired.
func (c *ChangeRequest) RollBack(by, reason string, at time.Time) error {
	return c.exit(changeStep{"roll back", "change.rollback", rollBackFrom, ChangeRolledBack}, by, reason, at)
}

// Cancel abandons a request that has not been cut over (after the
// cut-over, roll back instead).
func (c *ChangeRequest) Cancel(by, reason string, at time.Time) error {
	return c.exit(changeStep{"cancel", "change.cancel", []ChangeState{
		ChangeRequested, ChangeInvestigating, ChangeProposed, ChangeAwaitingApproval,
		ChangeApproved, ChangeScheduled, ChangeProvisioning, ChangeSmokeTesting,
	}, ChangeCancelled}, by, reason, at)
}

func (c *ChangeRequest) exit(st changeStep, by, reason string, at time.Time) error {
	if !slices.Contains(st.from, c.State) {
		return &StateError{Action: st.verb, State: c.State}
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	if err := checkText("reason", reason, maxChangeText, true, false); err != nil {
		return err
	}
	return c.move(st, by, at, reason, reason)
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
