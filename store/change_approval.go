package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ApprovalOutcome says what an approval did, so a reply never claims more
// than happened.
type ApprovalOutcome int

// Approval outcomes (the zero value goes with an error).
const (
	// ApprovalRecorded: counted; other roles must still approve.
	ApprovalRecorded ApprovalOutcome = iota + 1
	// ApprovalCompleted: counted, and it completed the set: approved.
	ApprovalCompleted
	// ApprovalRepeat: this person already approved this version; nothing changed.
	ApprovalRepeat
	// ApprovalRoleTaken: someone else already approved in this role; nothing changed.
	ApprovalRoleTaken
)

// Changed reports whether the approval was recorded.
func (o ApprovalOutcome) Changed() bool { return o == ApprovalRecorded || o == ApprovalCompleted }

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

// Approve records a's approval of the current proposal. The roles that
// must each approve are the proposal's (RequiredApprovers); ttl is how
// long an approval stays valid (0: forever). Approvals older than ttl are
// dropped first. A repeat by the same person, or an approval in a role
// already satisfied by someone else, changes nothing (ApprovalRepeat,
// ApprovalRoleTaken): one person cannot stand for two roles.
func (c *ChangeRequest) Approve(a Approval, ttl time.Duration, now time.Time) (ApprovalOutcome, error) {
	if a.At.IsZero() {
		a.At = now
	}
	if c.Proposal != nil && c.State == ChangeApproved && a.ProposalVersion == c.Proposal.Version &&
		slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.By == a.By }) {
		return ApprovalRepeat, nil // a double click after the set completed
	}
	if c.State != ChangeAwaitingApproval || c.Proposal == nil {
		return 0, &StateError{Action: "approve", State: c.State}
	}
	required := c.RequiredApprovers()
	switch {
	case strings.TrimSpace(a.By) == "":
		return 0, invalid("who is approving is required")
	case !slices.Contains(required, a.Role):
		return 0, fmt.Errorf("%w (%q; required: %s)", ErrNotApprover, a.Role, strings.Join(required, ", "))
	}
	if err := checkText("comment", a.Comment, maxChangeText, false, false); err != nil {
		return 0, err
	}
	if err := c.fourEyes(a.By); err != nil {
		return 0, err
	}
	if a.ProposalVersion != c.Proposal.Version {
		return 0, fmt.Errorf("%w (you saw version %d, the current one is %d)", ErrStaleProposal, a.ProposalVersion, c.Proposal.Version)
	}
	if expired(a.At, ttl, now) {
		return 0, ErrApprovalExpired
	}
	c.dropExpired(ttl, now)
	if slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.By == a.By }) {
		return ApprovalRepeat, nil
	}
	if slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.Role == a.Role }) {
		return ApprovalRoleTaken, nil
	}
	c.Approvals = append(c.Approvals, a)
	note := "approved as " + a.Role
	if a.Comment != "" {
		note += ": " + a.Comment
	}
	c.note("change.approve", a.By, now, note, a.Comment)
	for _, r := range required {
		if !slices.ContainsFunc(c.Approvals, func(x Approval) bool { return x.Role == r }) {
			return ApprovalRecorded, nil
		}
	}
	c.State = ChangeApproved
	c.record(ChangeEvent{Action: "change.approved", By: a.By, At: now, From: ChangeAwaitingApproval, To: ChangeApproved,
		Note: "every required approval given"})
	return ApprovalCompleted, nil
}

// dropExpired removes approvals older than ttl, noting each in History.
func (c *ChangeRequest) dropExpired(ttl time.Duration, now time.Time) {
	kept := c.Approvals[:0]
	for _, x := range c.Approvals {
		if expired(x.At, ttl, now) {
			c.note("change.approval_expired", "", now, fmt.Sprintf("approval by %s as %s expired", x.By, x.Role), "")
			continue
		}
		kept = append(kept, x)
	}
	c.Approvals = kept
	if len(c.Approvals) == 0 {
		c.Approvals = nil
	}
}

// Reject turns the proposal down; a.Comment is the reason, required, and
// a.Role must be one the proposal needs. The request ends (rejected). The
// requester and the proposer may not reject (they cancel instead), and a
// rejection is bound to the version seen.
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
	if required := c.RequiredApprovers(); !slices.Contains(required, a.Role) {
		return fmt.Errorf("%w (%q; required: %s)", ErrNotApprover, a.Role, strings.Join(required, ", "))
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
	c.record(ChangeEvent{Action: "change.reject", By: a.By, At: now, From: ChangeAwaitingApproval, To: ChangeRejected,
		Note: "rejected as " + a.Role + ": " + a.Comment, Reason: a.Comment})
	return nil
}
