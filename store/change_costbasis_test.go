package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
)

func TestChangeNoCostIncreaseOnMeasuredBasisSkipsApproval(t *testing.T) {
	for _, proposed := range []store.Money{66000, 26000} {
		c := crIn(t, store.ChangeInvestigating)
		p := raise()
		p.ProposedMonthly = proposed
		p.Measured = &store.CostMeasure{Monthly: 66000, At: crAt(1)}
		if err := c.Propose(p, nil, crSupport, crAt(2)); err != nil {
			t.Fatal(err)
		}
		if c.NeedsApproval() || c.State != store.ChangeApproved {
			t.Fatalf("proposed %s: needs approval %v, state %s", proposed, c.NeedsApproval(), c.State)
		}
		if note := c.History[len(c.History)-1].Note; !strings.Contains(note, "notification only") {
			t.Fatalf("note %q", note)
		}
		if err := c.Schedule(crSupport, crAt(3)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChangeCostBasis: the approval rule comes from the measured figure,
// whatever the proposer typed; a typed figure other than the measured one
// needs a reason, and it or the lack of a measured figure brings finance in
// whatever the difference.
func TestChangeCostBasis(t *testing.T) {
	measured := func(m store.Money) *store.CostMeasure { return &store.CostMeasure{Monthly: m, At: crAt(1)} }
	tests := []struct {
		name          string
		stated        store.Money
		measured      *store.CostMeasure
		proposed      store.Money
		reason        string
		approvers     []string
		wantErr       error
		wantBasis     store.Money
		wantRequired  []string
		wantState     store.ChangeState
		wantNoteParts []string
	}{
		{name: "typed decrease, nothing measured: finance must approve",
			stated: 9_999_900, proposed: 500_000,
			wantBasis: 9_999_900, wantRequired: []string{"finance"}, wantState: store.ChangeAwaitingApproval,
			wantNoteParts: []string{"not measured"}},
		{name: "typed increase, nothing measured: the approvers, finance among them",
			stated: 60_000, proposed: 72_000, approvers: []string{"stakeholder"},
			wantBasis: 60_000, wantRequired: []string{"stakeholder", "finance"}, wantState: store.ChangeAwaitingApproval},
		{name: "measured 100, typed 99,999 with a reason: an increase all the same",
			stated: 9_999_900, measured: measured(10_000), proposed: 500_000, reason: "the bill includes reserved instances",
			wantBasis: 10_000, wantRequired: []string{"stakeholder", "finance"}, wantState: store.ChangeAwaitingApproval,
			wantNoteParts: []string{"stated current cost $99,999.00 instead of the measured $100.00"}},
		{name: "measured 100, typed 99,999 without a reason: refused",
			stated: 9_999_900, measured: measured(10_000), proposed: 500_000, wantErr: store.ErrBasisReason},
		{name: "measured 100, typed 100: an increase to 5,000",
			stated: 10_000, measured: measured(10_000), proposed: 500_000,
			wantBasis: 10_000, wantRequired: []string{"stakeholder", "finance"}, wantState: store.ChangeAwaitingApproval},
		{name: "measured, a decrease, typed the same: notification only",
			stated: 10_000, measured: measured(10_000), proposed: 5_000,
			wantBasis: 10_000, wantRequired: []string{}, wantState: store.ChangeApproved},
		{name: "measured, a decrease, typed another figure with a reason: finance",
			stated: 20_000, measured: measured(10_000), proposed: 5_000, reason: "a credit is due",
			wantBasis: 10_000, wantRequired: []string{"finance"}, wantState: store.ChangeAwaitingApproval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := crIn(t, store.ChangeInvestigating)
			p := raise()
			p.CurrentMonthly, p.ProposedMonthly, p.Measured, p.BasisReason = tt.stated, tt.proposed, tt.measured, tt.reason
			before := len(c.History)
			err := c.Propose(p, tt.approvers, crSupport, crAt(2))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || c.Proposal != nil || len(c.History) != before {
					t.Fatalf("err %v (want %v), proposal %+v", err, tt.wantErr, c.Proposal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.Proposal
			if got.CurrentMonthly != tt.wantBasis || got.StatedMonthly != tt.stated || !slices.Equal(got.Required, tt.wantRequired) || c.State != tt.wantState {
				t.Fatalf("basis %s (want %s), stated %s, required %v (want %v), state %s (want %s)",
					got.CurrentMonthly, tt.wantBasis, got.StatedMonthly, got.Required, tt.wantRequired, c.State, tt.wantState)
			}
			for _, part := range tt.wantNoteParts {
				if !slices.ContainsFunc(c.History[before:], func(e store.ChangeEvent) bool { return strings.Contains(e.Note, part) }) {
					t.Fatalf("history lacks %q: %+v", part, c.History[before:])
				}
			}
		})
	}
}
