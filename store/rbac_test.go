package store

import "testing"

func TestRoleMatrix(t *testing.T) {
	// Every cell of PRODUCT.md's roles table that must be denied, and a few
	// that must be allowed. A change to the matrix must change this test.
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{Admin, PermRoleManage, true},
		{Admin, PermLaunchSignoff, true},
		{Support, PermRoleManage, false},
		{Support, PermAuditRead, false},
		{Support, PermThresholdSet, false},
		{Support, PermThresholdList, true},
		{Support, PermChangeApprove, false},
		{Support, PermIncidentManage, true},
		{Support, PermLaunchSignoff, false},
		{Engineer, PermCostView, false},
		{Engineer, PermChangeOpen, true},
		{Engineer, PermChangeRun, false},
		{Engineer, PermChangeApprove, false},
		{Engineer, PermStatusView, true},
		{Finance, PermChangeApprove, true},
		{Finance, PermChangelogExport, true},
		{Finance, PermServersView, false},
		{Finance, PermChangeOpen, false},
		{Stakeholder, PermChangeApprove, true},
		{Stakeholder, PermChangelogView, false},
		{Stakeholder, PermSilenceManage, false},
		{Security, PermScanRun, true},
		{Security, PermFindingsAccept, true},
		{Support, PermFindingsAccept, false},
		{Support, PermScanRun, true},
		{Stakeholder, PermFindingsView, true},
		{Stakeholder, PermFindingsAccept, false},
		{Stakeholder, PermScanRun, false},
		{Engineer, PermFindingsView, false},
		{Security, PermCostView, false},
		{Security, PermChecklistTick, false},
		{"", PermStatusView, false},
		{"", PermPublic, true},
		{"root", PermStatusView, false},
	}
	for _, tt := range tests {
		if got := tt.role.Has(tt.perm); got != tt.want {
			t.Errorf("%q.Has(%s) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

func TestPrincipalScope(t *testing.T) {
	p := Principal{UserID: "U1", Grants: []Grant{{Role: Stakeholder, Client: "acme"}, {Role: Stakeholder, Client: "beta"}}}
	if !p.CanFor(PermCostView, "acme") || p.CanFor(PermCostView, "gamma") {
		t.Fatal("stakeholder scope not applied")
	}
	if all, clients := p.Scope(PermCostView); all || len(clients) != 2 || clients[0] != "acme" {
		t.Fatalf("Scope = %v %v", all, clients)
	}
	if p.Can(PermChangelogView) {
		t.Fatal("stakeholder can view changelog")
	}
	none := Principal{UserID: "U2"}
	if none.Can(PermStatusView) || !none.Can(PermPublic) {
		t.Fatal("no-role principal: deny by default except public")
	}
	sup := Principal{Grants: []Grant{{Role: Support}}}
	if all, _ := sup.Scope(PermCostView); !all {
		t.Fatal("unscoped grant should cover all clients")
	}
}
