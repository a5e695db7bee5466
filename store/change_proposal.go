package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DNSPlan is the Route 53 record a cut-over will change.
type DNSPlan struct {
	ZoneID    string   `json:"zone_id"`
	Name      string   `json:"name"`
	Type      string   `json:"type"` // A, AAAA, CNAME...
	NewValues []string `json:"new_values"`
}

// InZone reports whether the plan's record lies in the zone named
// zoneName ("acme.example." or "acme.example"): the apex or a name under it,
// compared case-insensitively.
func (d DNSPlan) InZone(zoneName string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")) }
	name, zone := norm(d.Name), norm(zoneName)
	return zone != "" && (name == zone || strings.HasSuffix(name, "."+zone))
}

// CostMeasure is opsbot's own figure of a client's monthly cost (the cost
// job's Cost Explorer forecast) and when it was fetched.
type CostMeasure struct {
	Monthly Money     `json:"monthly"`
	At      time.Time `json:"at"`
}

// Proposal is support's plan for a change. By, At, Version and Required are
// set by ChangeRequest.Propose.
//
// The cost basis: the proposer states CurrentMonthly; the server sets
// Measured from its own data, never from the form. Propose keeps the stated
// figure in StatedMonthly and makes CurrentMonthly the measured one when
// there is one, so the difference, and with it the approval rule, comes
// from measured values. Stating another figure needs BasisReason.
type Proposal struct {
	Plan            string       `json:"plan"`
	Magnitude       Magnitude    `json:"magnitude"`
	CurrentMonthly  Money        `json:"current_monthly"`
	ProposedMonthly Money        `json:"proposed_monthly"`
	Measured        *CostMeasure `json:"measured,omitempty"`
	StatedMonthly   Money        `json:"stated_monthly,omitempty"`
	BasisReason     string       `json:"basis_reason,omitempty"`
	RollbackPlan    string       `json:"rollback_plan,omitempty"`
	DNS             *DNSPlan     `json:"dns,omitempty"`
	WindowStart     time.Time    `json:"window_start,omitzero"`
	WindowEnd       time.Time    `json:"window_end,omitzero"`
	By              string       `json:"by"`
	At              time.Time    `json:"at"`
	Version         int          `json:"version"` // 1 for the first proposal, bumped by every edit
	// Required are the roles that must each approve, computed by Propose
	// (never nil once computed; a record from before the rule has none).
	Required []string `json:"required"`
}

// Delta is the change of the monthly cost (positive: it goes up).
func (p Proposal) Delta() Money { return p.ProposedMonthly - p.CurrentMonthly }

// Unmeasured reports whether opsbot had no figure of its own, so the
// current cost is only what the proposer stated.
func (p Proposal) Unmeasured() bool { return p.Measured == nil }

// Overridden reports whether the proposer stated a current cost other than
// the measured one (with BasisReason).
func (p Proposal) Overridden() bool {
	return p.Measured != nil && p.StatedMonthly != p.Measured.Monthly
}

// Approval is one person's approval (or, as ChangeRequest.Rejection, their
// rejection with the reason in Comment) of one version of a proposal.
type Approval struct {
	By              string    `json:"by"`
	Role            string    `json:"role"` // "finance" or "stakeholder"
	At              time.Time `json:"at"`   // when the approver saw the proposal; zero: now
	ProposalVersion int       `json:"proposal_version"`
	Comment         string    `json:"comment,omitempty"`
}

// ApprovalRule is who must approve p: the configured approvers (default
// stakeholder and finance) when the monthly cost goes up from the basis,
// and finance whatever the difference when the basis is not measured or
// was overridden. An empty result: notification only.
func ApprovalRule(p Proposal, approvers []string) []string {
	if len(approvers) == 0 {
		approvers = DefaultApprovers()
	}
	req := []string{}
	if p.ProposedMonthly > p.CurrentMonthly {
		req = append(req, approvers...)
	}
	if (p.Unmeasured() || p.Overridden()) && !slices.Contains(req, ApproverFinance) {
		req = append(req, ApproverFinance)
	}
	return req
}

// RequiredApprovers are the roles that must approve the current proposal
// (none without one). A proposal stored before the rule was computed needs
// the default approvers when its cost goes up.
func (c *ChangeRequest) RequiredApprovers() []string {
	switch p := c.Proposal; {
	case p == nil:
		return nil
	case p.Required != nil:
		return p.Required
	case p.ProposedMonthly > p.CurrentMonthly:
		return DefaultApprovers()
	}
	return nil
}

// NeedsApproval reports whether the current proposal must be approved, not
// only notified.
func (c *ChangeRequest) NeedsApproval() bool { return len(c.RequiredApprovers()) > 0 }

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
	if err := checkText("reason for the stated cost", p.BasisReason, maxChangeText, false, false); err != nil {
		return err
	}
	if p.Magnitude != MagnitudeMinor && p.Magnitude != MagnitudeMajor {
		return invalid("magnitude must be minor or major, not %q", p.Magnitude)
	}
	costs := []Money{p.CurrentMonthly, p.ProposedMonthly}
	if p.Measured != nil {
		costs = append(costs, p.Measured.Monthly)
	}
	for _, m := range costs {
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

// ErrBasisReason refuses a stated current cost that differs from the
// measured one without a reason.
var ErrBasisReason = fmt.Errorf("%w: a current monthly cost other than opsbot's measured figure needs a reason", ErrInvalidChange)

// Propose records support's proposal, or an edit of it: p.CurrentMonthly is
// the stated current cost and p.Measured opsbot's own figure (nil: none).
// The basis becomes the measured figure when there is one; the approvers
// required follow ApprovalRule with the configured approvers. Every edit
// bumps the version and voids the approvals given so far. A proposal that
// needs no approval is approved at once (finance and stakeholders are only
// notified).
func (c *ChangeRequest) Propose(p Proposal, approvers []string, by string, at time.Time) error {
	from := []ChangeState{ChangeInvestigating, ChangeProposed, ChangeAwaitingApproval, ChangeApproved}
	if !slices.Contains(from, c.State) {
		return &StateError{Action: "propose a change for", State: c.State}
	}
	p.StatedMonthly, p.BasisReason = p.CurrentMonthly, strings.TrimSpace(p.BasisReason)
	if m := p.Measured; m != nil {
		if p.StatedMonthly != m.Monthly && p.BasisReason == "" {
			return ErrBasisReason
		}
		p.Measured = &CostMeasure{Monthly: m.Monthly, At: m.At}
		p.CurrentMonthly = m.Monthly
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
	p.Required = ApprovalRule(p, approvers)
	action, note := "change.propose", fmt.Sprintf("proposal v%d (%s): %s", p.Version, p.Magnitude, FormatDelta(p.CurrentMonthly, p.ProposedMonthly))
	if p.Version > 1 {
		action = "change.edit"
	}
	switch {
	case p.Unmeasured():
		note += "; current cost stated, not measured"
	case p.Overridden():
		note += fmt.Sprintf("; stated current cost %s instead of the measured %s", p.StatedMonthly, p.Measured.Monthly)
	}
	if n := len(c.Approvals); n > 0 {
		note += fmt.Sprintf("; %d approval(s) voided", n)
	}
	c.Proposal, c.Approvals = &p, nil
	prev := c.State
	c.State = ChangeProposed
	c.record(ChangeEvent{Action: action, By: by, At: at, From: prev, To: ChangeProposed, Note: note, Reason: p.BasisReason})
	if len(p.Required) == 0 {
		c.State = ChangeApproved
		c.record(ChangeEvent{Action: "change.notify_only", By: by, At: at, From: ChangeProposed, To: ChangeApproved,
			Note: "no cost increase on a measured basis: notification only"})
		return nil
	}
	c.State = ChangeAwaitingApproval
	why := "the monthly cost goes up"
	if p.ProposedMonthly <= p.CurrentMonthly {
		why = "the current cost is not measured"
		if p.Overridden() {
			why = "the current cost differs from the measured figure"
		}
	}
	c.record(ChangeEvent{Action: "change.await_approval", By: by, At: at, From: ChangeProposed, To: ChangeAwaitingApproval,
		Note: why + ": approval required from " + strings.Join(p.Required, " and ")})
	return nil
}
