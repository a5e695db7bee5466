package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

// TestChangeEventsNameTheirAuditAction: every step the machine records
// names its audit action, so the store can write it to the audit log.
func TestChangeEventsNameTheirAuditAction(t *testing.T) {
	for _, s := range store.ChangeStates {
		c := crIn(t, s)
		for _, e := range c.History {
			if !strings.HasPrefix(e.Action, "change.") {
				t.Fatalf("%s: event %+v has no audit action", s, e)
			}
		}
	}
	c := crIn(t, store.ChangeRejected)
	if last := c.History[len(c.History)-1]; last.Action != "change.reject" || last.Reason != "too dear" || last.From != store.ChangeAwaitingApproval {
		t.Fatalf("rejection event = %+v", last)
	}
}

func TestChangeRejectAndExits(t *testing.T) {
	c := crIn(t, store.ChangeAwaitingApproval)
	if err := c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "  "}, crAt(3)); !errors.Is(err, store.ErrReasonRequired) {
		t.Fatalf("reject without reason: %v", err)
	}
	if err := c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "over budget"}, crAt(3)); err != nil {
		t.Fatal(err)
	}
	if c.State != store.ChangeRejected || c.Rejection == nil || c.Rejection.Comment != "over budget" || c.Outcome() != "rejected" || c.Reason() != "over budget" {
		t.Fatalf("rejected: %+v", c)
	}
	c = crIn(t, store.ChangeVerified)
	if err := c.RollBack(crSupport, "", crAt(12)); !errors.Is(err, store.ErrReasonRequired) {
		t.Fatalf("roll back without reason: %v", err)
	}
	if err := c.RollBack(crSupport, "checkout broken", crAt(12)); err != nil || c.Outcome() != "rolled back" || c.Reason() != "checkout broken" {
		t.Fatalf("roll back: %v, %q, %q", err, c.Outcome(), c.Reason())
	}
	c = crIn(t, store.ChangeScheduled)
	if err := c.Cancel(crSupport, "", crAt(12)); !errors.Is(err, store.ErrReasonRequired) {
		t.Fatalf("cancel without reason: %v", err)
	}
	if err := c.Cancel(crSupport, "client withdrew", crAt(12)); err != nil || c.Outcome() != "cancelled" {
		t.Fatalf("cancel: %v, %q", err, c.Outcome())
	}
}

func TestNewChangeRequestValidates(t *testing.T) {
	long := strings.Repeat("x", 151)
	for _, tc := range []struct{ name, id, client, title, problem, issue, by string }{
		{"no id", "", "acme", "t", "p", "", "U1"},
		{"no client", "CR-1", "", "t", "p", "", "U1"},
		{"no title", "CR-1", "acme", " ", "p", "", "U1"},
		{"no problem", "CR-1", "acme", "t", "", "", "U1"},
		{"no requester", "CR-1", "acme", "t", "p", "", ""},
		{"long title", "CR-1", "acme", long, "p", "", "U1"},
		{"multi-line title", "CR-1", "acme", "a\nb", "p", "", "U1"},
		{"long problem", "CR-1", "acme", "t", strings.Repeat("p", 3001), "", "U1"},
		{"huge issue", "CR-1", "acme", "t", "p", strings.Repeat("i", 5000), "U1"},
	} {
		if _, err := store.NewChangeRequest(tc.id, tc.client, tc.title, tc.problem, tc.issue, tc.by, crT0); !errors.Is(err, store.ErrInvalidChange) {
			t.Errorf("%s: err %v, want ErrInvalidChange", tc.name, err)
		}
	}
	c := newCR(t)
	if c.State != store.ChangeRequested || len(c.History) != 1 || c.History[0].By != crRequester {
		t.Fatalf("new request = %+v", c)
	}
}

func TestProposeValidates(t *testing.T) {
	mod := func(f func(p *store.Proposal)) store.Proposal { p := raise(); f(&p); return p }
	for name, p := range map[string]store.Proposal{
		"no plan":            mod(func(p *store.Proposal) { p.Plan = "" }),
		"bad magnitude":      mod(func(p *store.Proposal) { p.Magnitude = "huge" }),
		"negative cost":      mod(func(p *store.Proposal) { p.CurrentMonthly = -1 }),
		"negative proposed":  mod(func(p *store.Proposal) { p.ProposedMonthly = -100 }),
		"end before start":   mod(func(p *store.Proposal) { p.WindowEnd = p.WindowStart.Add(-time.Hour) }),
		"end equals start":   mod(func(p *store.Proposal) { p.WindowEnd = p.WindowStart }),
		"half a window":      mod(func(p *store.Proposal) { p.WindowEnd = time.Time{} }),
		"major, no window":   mod(func(p *store.Proposal) { p.WindowStart, p.WindowEnd = time.Time{}, time.Time{} }),
		"dns without values": mod(func(p *store.Proposal) { p.DNS.NewValues = nil }),
		"dns without zone":   mod(func(p *store.Proposal) { p.DNS.ZoneID = "" }),
	} {
		c := crIn(t, store.ChangeInvestigating)
		if err := c.Propose(p, nil, crSupport, crAt(2)); !errors.Is(err, store.ErrInvalidChange) {
			t.Errorf("%s: err %v, want ErrInvalidChange", name, err)
		}
		if c.State != store.ChangeInvestigating || c.Proposal != nil {
			t.Errorf("%s: refused proposal changed the request", name)
		}
	}
	// A minor change may go without a window.
	c := crIn(t, store.ChangeInvestigating)
	if err := c.Propose(mod(func(p *store.Proposal) {
		p.Magnitude, p.WindowStart, p.WindowEnd = store.MagnitudeMinor, time.Time{}, time.Time{}
	}), nil, crSupport, crAt(2)); err != nil {
		t.Fatal(err)
	}
}

func TestMoneyAndFormatDelta(t *testing.T) {
	for _, tc := range []struct {
		m    store.Money
		want string
	}{{0, "$0.00"}, {5, "$0.05"}, {123450, "$1,234.50"}, {100000000, "$1,000,000.00"}, {-4000, "-$40.00"}, {99999, "$999.99"}} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("Money(%d) = %q, want %q", int64(tc.m), got, tc.want)
		}
	}
	for _, tc := range []struct {
		cur, proposed store.Money
		want          string
	}{
		{66000, 78000, "+$120.00/month (+18 %)"},
		{40000, 36000, "−$40.00/month (−10 %)"},
		{0, 5000, "+$50.00/month (from $0)"},
		{50000, 50000, "$0.00/month (no change)"},
		{1000000, 1000100, "+$1.00/month (+<1 %)"},
		{10000, 20000, "+$100.00/month (+100 %)"},
		{123456, 0, "−$1,234.56/month (−100 %)"},
	} {
		if got := store.FormatDelta(tc.cur, tc.proposed); got != tc.want {
			t.Errorf("FormatDelta(%s, %s) = %q, want %q", tc.cur, tc.proposed, got, tc.want)
		}
	}
}
