package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

var crT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func crAt(i int) time.Time { return crT0.Add(time.Duration(i) * time.Hour) }

const (
	crRequester   = "UREQ"
	crSupport     = "USUP"
	crStakeholder = "USTAKE"
	crFinance     = "UFIN"
)

func newCR(t *testing.T) *store.ChangeRequest {
	t.Helper()
	c, err := store.NewChangeRequest("CR-7", "acme", "Site slow at peak", "Pages time out at 9am; cannot replicate locally", "acme/web#42", crRequester, crT0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// raise is a proposal that raises the monthly cost by $120 (+18 %).
func raise() store.Proposal {
	return store.Proposal{
		Plan: "Move the web tier to m6i.large behind a new ALB", Magnitude: store.MagnitudeMajor,
		CurrentMonthly: 66000, ProposedMonthly: 78000, RollbackPlan: "Point www back at the old ALB",
		DNS:         &store.DNSPlan{ZoneID: "Z123", Name: "www.acme.example.", Type: "CNAME", NewValues: []string{"new-alb.example."}},
		WindowStart: crAt(48), WindowEnd: crAt(50),
	}
}

func approval(by, role string, version int, at time.Time) store.Approval {
	return store.Approval{By: by, Role: role, At: at, ProposalVersion: version}
}

// crIn builds a request in state s through the machine's own methods.
func crIn(t *testing.T, s store.ChangeState) *store.ChangeRequest {
	t.Helper()
	c := newCR(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reaching %s: %v", s, err)
		}
	}
	path := []struct {
		state store.ChangeState
		do    func() error
	}{
		{store.ChangeInvestigating, func() error { return c.Investigate(crSupport, crAt(1)) }},
		{store.ChangeAwaitingApproval, func() error { return c.Propose(raise(), nil, crSupport, crAt(2)) }},
		{store.ChangeApproved, func() error {
			if _, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(3)), 0, crAt(3)); err != nil {
				return err
			}
			_, err := c.Approve(approval(crFinance, "finance", 1, crAt(4)), 0, crAt(4))
			return err
		}},
		{store.ChangeScheduled, func() error { return c.Schedule(crSupport, crAt(5)) }},
		{store.ChangeProvisioning, func() error { return c.Provision(crSupport, crAt(6)) }},
		{store.ChangeSmokeTesting, func() error {
			if err := c.SmokeTest(crSupport, crAt(7)); err != nil {
				return err
			}
			return c.Waive(crSupport, "checked by hand", crAt(7))
		}},
		{store.ChangeCutOver, func() error { return c.CutOver(crSupport, crAt(8)) }},
		{store.ChangeVerified, func() error { return c.Verify(crSupport, crAt(9)) }},
		{store.ChangeRetired, func() error { return c.Retire(crSupport, crAt(10)) }},
		{store.ChangeClosed, func() error { return c.Close(crSupport, crAt(11)) }},
	}
	switch s {
	case store.ChangeRequested:
		return c
	case store.ChangeProposed:
		// Propose passes through proposed; a stored record may rest there.
		c = crIn(t, store.ChangeAwaitingApproval)
		c.State = store.ChangeProposed
		return c
	case store.ChangeRejected:
		c = crIn(t, store.ChangeAwaitingApproval)
		must(c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "too dear"}, crAt(5)))
		return c
	case store.ChangeRolledBack:
		c = crIn(t, store.ChangeCutOver)
		must(c.RollBack(crSupport, "5xx after cut-over", crAt(12)))
		return c
	case store.ChangeCancelled:
		c = crIn(t, store.ChangeInvestigating)
		must(c.Cancel(crRequester, "fixed by a deploy", crAt(12)))
		return c
	}
	for _, p := range path {
		must(p.do())
		if c.State != p.state {
			t.Fatalf("reaching %s: state %s, want %s", s, c.State, p.state)
		}
		if p.state == s {
			return c
		}
	}
	t.Fatalf("no path to %s", s)
	return nil
}

func TestChangeHappyPath(t *testing.T) {
	c := crIn(t, store.ChangeClosed)
	var got []store.ChangeState
	for _, e := range c.History {
		if e.From != e.To {
			got = append(got, e.To)
		}
	}
	want := []store.ChangeState{
		store.ChangeRequested, store.ChangeInvestigating, store.ChangeProposed, store.ChangeAwaitingApproval,
		store.ChangeApproved, store.ChangeScheduled, store.ChangeProvisioning, store.ChangeSmokeTesting,
		store.ChangeCutOver, store.ChangeVerified, store.ChangeRetired, store.ChangeClosed,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("path = %v\nwant   %v", got, want)
	}
	if len(c.Approvals) != 2 || c.Outcome() != "done" || !c.State.Terminal() {
		t.Fatalf("closed request: approvals %+v outcome %q", c.Approvals, c.Outcome())
	}
	if !c.EnteredAt(store.ChangeApproved).Equal(crAt(4)) || !c.EnteredAt(store.ChangeCutOver).Equal(crAt(8)) {
		t.Fatalf("EnteredAt approved %v, cut over %v", c.EnteredAt(store.ChangeApproved), c.EnteredAt(store.ChangeCutOver))
	}
	for i, e := range c.History {
		if e.At.IsZero() || (e.By == "" && !strings.Contains(e.Note, "expired")) {
			t.Fatalf("history[%d] = %+v: every event has a time and an actor", i, e)
		}
	}
	if c.Proposal.By != crSupport || c.Proposal.Version != 1 || !c.Proposal.At.Equal(crAt(2)) {
		t.Fatalf("proposal stamp = %+v", c.Proposal)
	}
}

// TestChangeActionStateMatrix tries every action in every state: allowed
// ones move the request, the others are refused with the reason and
// change nothing.
func TestChangeActionStateMatrix(t *testing.T) {
	open := []store.ChangeState{
		store.ChangeRequested, store.ChangeInvestigating, store.ChangeProposed, store.ChangeAwaitingApproval,
		store.ChangeApproved, store.ChangeScheduled, store.ChangeProvisioning, store.ChangeSmokeTesting,
	}
	actions := []struct {
		name, verb string
		from       []store.ChangeState
		to         store.ChangeState
		do         func(c *store.ChangeRequest) error
	}{
		{"investigate", "investigate", []store.ChangeState{store.ChangeRequested}, store.ChangeInvestigating,
			func(c *store.ChangeRequest) error { return c.Investigate(crSupport, crAt(20)) }},
		{"propose", "propose a change for", []store.ChangeState{store.ChangeInvestigating, store.ChangeProposed, store.ChangeAwaitingApproval, store.ChangeApproved}, store.ChangeAwaitingApproval,
			func(c *store.ChangeRequest) error { return c.Propose(raise(), nil, crSupport, crAt(20)) }},
		{"approve", "approve", []store.ChangeState{store.ChangeAwaitingApproval}, store.ChangeAwaitingApproval,
			func(c *store.ChangeRequest) error {
				v := 1
				if c.Proposal != nil {
					v = c.Proposal.Version
				}
				_, err := c.Approve(approval("UOTHER", "finance", v, crAt(20)), 0, crAt(20))
				return err
			}},
		{"reject", "reject", []store.ChangeState{store.ChangeAwaitingApproval}, store.ChangeRejected,
			func(c *store.ChangeRequest) error {
				v := 1
				if c.Proposal != nil {
					v = c.Proposal.Version
				}
				return c.Reject(store.Approval{By: "UOTHER", Role: "finance", ProposalVersion: v, Comment: "no"}, crAt(20))
			}},
		{"schedule", "schedule", []store.ChangeState{store.ChangeApproved}, store.ChangeScheduled,
			func(c *store.ChangeRequest) error { return c.Schedule(crSupport, crAt(20)) }},
		{"provision", "provision", []store.ChangeState{store.ChangeScheduled}, store.ChangeProvisioning,
			func(c *store.ChangeRequest) error { return c.Provision(crSupport, crAt(20)) }},
		{"smoke test", "smoke test", []store.ChangeState{store.ChangeProvisioning}, store.ChangeSmokeTesting,
			func(c *store.ChangeRequest) error { return c.SmokeTest(crSupport, crAt(20)) }},
		{"cut over", "cut over", []store.ChangeState{store.ChangeSmokeTesting}, store.ChangeCutOver,
			func(c *store.ChangeRequest) error { return c.CutOver(crSupport, crAt(20)) }},
		{"verify", "verify", []store.ChangeState{store.ChangeCutOver}, store.ChangeVerified,
			func(c *store.ChangeRequest) error { return c.Verify(crSupport, crAt(20)) }},
		{"retire", "retire the old infrastructure of", []store.ChangeState{store.ChangeVerified}, store.ChangeRetired,
			func(c *store.ChangeRequest) error { return c.Retire(crSupport, crAt(20)) }},
		{"close", "close", []store.ChangeState{store.ChangeRetired}, store.ChangeClosed,
			func(c *store.ChangeRequest) error { return c.Close(crSupport, crAt(20)) }},
		{"roll back", "roll back", []store.ChangeState{store.ChangeCutOver, store.ChangeVerified}, store.ChangeRolledBack,
			func(c *store.ChangeRequest) error { return c.RollBack(crSupport, "errors", crAt(20)) }},
		{"cancel", "cancel", open, store.ChangeCancelled,
			func(c *store.ChangeRequest) error { return c.Cancel(crSupport, "not needed", crAt(20)) }},
	}
	for _, a := range actions {
		for _, s := range store.ChangeStates {
			t.Run(a.name+"/"+string(s), func(t *testing.T) {
				c := crIn(t, s)
				before := len(c.History)
				err := a.do(c)
				if slices.Contains(a.from, s) {
					if err != nil {
						t.Fatalf("%s in %s refused: %v", a.name, s, err)
					}
					if c.State != a.to || len(c.History) <= before {
						t.Fatalf("%s in %s: state %s (want %s), history %d → %d", a.name, s, c.State, a.to, before, len(c.History))
					}
					return
				}
				if !errors.Is(err, store.ErrWrongState) {
					t.Fatalf("%s in %s: err %v, want ErrWrongState", a.name, s, err)
				}
				if want := "cannot " + a.verb + " a request that is " + s.Label(); err.Error() != want {
					t.Fatalf("message %q, want %q", err, want)
				}
				if c.State != s || len(c.History) != before {
					t.Fatalf("refused %s changed the request: %s, history %d → %d", a.name, c.State, before, len(c.History))
				}
			})
		}
	}
}

func TestChangeFourEyes(t *testing.T) {
	c := crIn(t, store.ChangeAwaitingApproval)
	for _, by := range []string{crRequester, crSupport} {
		if _, err := c.Approve(approval(by, "stakeholder", 1, crAt(3)), 0, crAt(3)); !errors.Is(err, store.ErrFourEyes) {
			t.Fatalf("approval by %s: %v, want ErrFourEyes", by, err)
		}
		if err := c.Reject(store.Approval{By: by, Role: "finance", ProposalVersion: 1, Comment: "no"}, crAt(3)); !errors.Is(err, store.ErrFourEyes) {
			t.Fatalf("rejection by %s: %v, want ErrFourEyes", by, err)
		}
	}
	if len(c.Approvals) != 0 || c.State != store.ChangeAwaitingApproval {
		t.Fatalf("refused approvals changed the request: %+v", c)
	}
	// A role the configuration does not require is refused too.
	if _, err := c.Approve(approval("UENG", "engineer", 1, crAt(3)), 0, crAt(3)); !errors.Is(err, store.ErrNotApprover) {
		t.Fatalf("engineer approval: %v", err)
	}
}

func TestChangeStaleProposalAfterEdit(t *testing.T) {
	c := crIn(t, store.ChangeAwaitingApproval)
	if adv, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(3)), 0, crAt(3)); err != nil || adv != store.ApprovalRecorded {
		t.Fatalf("first approval = %v, %v", adv, err)
	}
	// Support edits the proposal: the stakeholder's approval is void.
	edit := raise()
	edit.ProposedMonthly = 90000
	if err := c.Propose(edit, nil, crSupport, crAt(4)); err != nil {
		t.Fatal(err)
	}
	if c.Proposal.Version != 2 || len(c.Approvals) != 0 || c.State != store.ChangeAwaitingApproval {
		t.Fatalf("after edit: version %d, approvals %+v, state %s", c.Proposal.Version, c.Approvals, c.State)
	}
	if !strings.Contains(c.History[len(c.History)-2].Note, "1 approval(s) voided") {
		t.Fatalf("edit note = %q", c.History[len(c.History)-2].Note)
	}
	// Finance approves what it saw: version 1. Refused.
	if _, err := c.Approve(approval(crFinance, "finance", 1, crAt(5)), 0, crAt(5)); !errors.Is(err, store.ErrStaleProposal) {
		t.Fatalf("stale approval: %v", err)
	}
	if err := c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "no"}, crAt(5)); !errors.Is(err, store.ErrStaleProposal) {
		t.Fatalf("stale rejection: %v", err)
	}
	// Both approve version 2.
	if adv, err := c.Approve(approval(crFinance, "finance", 2, crAt(5)), 0, crAt(5)); err != nil || adv != store.ApprovalRecorded {
		t.Fatalf("finance v2 = %v, %v", adv, err)
	}
	if adv, err := c.Approve(approval(crStakeholder, "stakeholder", 2, crAt(6)), 0, crAt(6)); err != nil || adv != store.ApprovalCompleted {
		t.Fatalf("stakeholder v2 = %v, %v", adv, err)
	}
	// Editing an approved proposal asks again.
	if err := c.Propose(raise(), nil, crSupport, crAt(7)); err != nil || c.State != store.ChangeAwaitingApproval || len(c.Approvals) != 0 || c.Proposal.Version != 3 {
		t.Fatalf("edit after approval: %v, %s, %+v", err, c.State, c.Approvals)
	}
}

func TestChangeApprovalExpiry(t *testing.T) {
	ttl := 24 * time.Hour
	c := crIn(t, store.ChangeAwaitingApproval)
	// An approval whose modal was opened more than ttl ago is refused.
	if _, err := c.Approve(approval(crFinance, "finance", 1, crAt(3)), ttl, crAt(3).Add(ttl+time.Second)); !errors.Is(err, store.ErrApprovalExpired) {
		t.Fatalf("expired on arrival: %v", err)
	}
	if adv, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(3)), ttl, crAt(3)); err != nil || adv != store.ApprovalRecorded {
		t.Fatalf("stakeholder = %v, %v", adv, err)
	}
	// Two days later the stakeholder's approval has expired: finance alone
	// does not complete the set.
	late := crAt(3).Add(2 * ttl)
	if adv, err := c.Approve(approval(crFinance, "finance", 1, late), ttl, late); err != nil || adv != store.ApprovalRecorded {
		t.Fatalf("finance after expiry = %v, %v", adv, err)
	}
	if c.State != store.ChangeAwaitingApproval || len(c.Approvals) != 1 || c.Approvals[0].By != crFinance {
		t.Fatalf("after expiry: %s, %+v", c.State, c.Approvals)
	}
	if !slices.ContainsFunc(c.History, func(e store.ChangeEvent) bool { return strings.Contains(e.Note, "USTAKE as stakeholder expired") }) {
		t.Fatalf("expiry not in history: %+v", c.History)
	}
	if adv, err := c.Approve(approval(crStakeholder, "stakeholder", 1, late), ttl, late.Add(time.Minute)); err != nil || adv != store.ApprovalCompleted {
		t.Fatalf("stakeholder again = %v, %v", adv, err)
	}
}

func TestChangeDuplicateApprovals(t *testing.T) {
	c := crIn(t, store.ChangeAwaitingApproval)
	if got, err := c.Approve(approval(crFinance, "finance", 1, crAt(3)), 0, crAt(3)); err != nil || got != store.ApprovalRecorded {
		t.Fatalf("finance = %v, %v", got, err)
	}
	n := len(c.History)
	// Same person again, same role by another person, same person in
	// another role: no-ops, each named for what it is.
	for _, tc := range []struct {
		a    store.Approval
		want store.ApprovalOutcome
	}{
		{approval(crFinance, "finance", 1, crAt(4)), store.ApprovalRepeat},
		{approval("UFIN2", "finance", 1, crAt(4)), store.ApprovalRoleTaken},
		{approval(crFinance, "stakeholder", 1, crAt(4)), store.ApprovalRepeat},
	} {
		if got, err := c.Approve(tc.a, 0, crAt(4)); err != nil || got != tc.want || got.Changed() {
			t.Fatalf("duplicate %+v = %v, %v; want %v", tc.a, got, err, tc.want)
		}
	}
	if len(c.Approvals) != 1 || len(c.History) != n || c.State != store.ChangeAwaitingApproval {
		t.Fatalf("duplicates changed the request: %+v", c.Approvals)
	}
	if got, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(5)), 0, crAt(5)); err != nil || got != store.ApprovalCompleted || !got.Changed() {
		t.Fatalf("stakeholder = %v, %v", got, err)
	}
	// A double click after the set completed is a no-op, not an error.
	if got, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(5)), 0, crAt(6)); err != nil || got != store.ApprovalRepeat {
		t.Fatalf("double click = %v, %v", got, err)
	}
}

func TestChangeConfiguredApprovers(t *testing.T) {
	c := crIn(t, store.ChangeInvestigating)
	p := raise()
	p.Measured = &store.CostMeasure{Monthly: p.CurrentMonthly, At: crAt(1)}
	if err := c.Propose(p, []string{"finance"}, crSupport, crAt(2)); err != nil {
		t.Fatal(err)
	}
	if got := c.RequiredApprovers(); !slices.Equal(got, []string{"finance"}) {
		t.Fatalf("required = %v", got)
	}
	if _, err := c.Approve(approval(crStakeholder, "stakeholder", 1, crAt(3)), 0, crAt(3)); !errors.Is(err, store.ErrNotApprover) {
		t.Fatalf("stakeholder under a finance-only configuration: %v", err)
	}
	got, err := c.Approve(approval(crFinance, "finance", 1, crAt(3)), 0, crAt(3))
	if err != nil || got != store.ApprovalCompleted || c.State != store.ChangeApproved {
		t.Fatalf("finance-only configuration = %v, %v, %s", got, err, c.State)
	}
}
