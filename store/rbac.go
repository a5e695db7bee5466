package store

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Role is a named set of permissions (PRODUCT.md, "People and roles").
type Role string

// The roles. A user with none may run only the public verbs (help, whoami).
const (
	Admin       Role = "admin"       // Lead Support Engineer
	Support     Role = "support"     // Support / Infrastructure Monitoring Team
	Engineer    Role = "engineer"    // developers
	Finance     Role = "finance"     // finance team
	Stakeholder Role = "stakeholder" // client contact, scoped to named clients
	Security    Role = "security"    // security personnel
)

// Roles lists every role in display order.
var Roles = []Role{Admin, Support, Engineer, Finance, Stakeholder, Security}

// Permission is one thing a person may do. Routes name the permission they
// need; the gate checks it on every command, button and modal submission.
type Permission string

// Permissions. Public ones are granted to everyone, even without a role.
const (
	PermPublic          Permission = "public" // help, whoami
	PermRoleManage      Permission = "role.manage"
	PermAuditRead       Permission = "audit.read"
	PermStatusView      Permission = "status.view"
	PermOncallView      Permission = "oncall.view"
	PermSilenceManage   Permission = "silence.manage"
	PermIncidentManage  Permission = "incident.manage" // acknowledge, resolve
	PermServersView     Permission = "servers.view"
	PermCostView        Permission = "cost.view"
	PermCostRefresh     Permission = "cost.refresh"
	PermThresholdList   Permission = "threshold.list"
	PermThresholdSet    Permission = "threshold.set"
	PermChangeOpen      Permission = "change.open"
	PermChangesView     Permission = "changes.view"
	PermChangeRun       Permission = "change.run" // investigate, propose, schedule, cut over, roll back
	PermChangeApprove   Permission = "change.approve"
	PermFreezeView      Permission = "freeze.view"
	PermChangelogView   Permission = "changelog.view"
	PermChangelogExport Permission = "changelog.export"
	PermScanRun         Permission = "scan.run"
	PermFindingsView    Permission = "findings.view"
	PermFindingsAccept  Permission = "findings.accept" // risk acceptance, false positives
	PermChecklistView   Permission = "checklist.view"
	PermChecklistTick   Permission = "checklist.tick"
	PermChecklistSecure Permission = "checklist.security" // security items of checklists
	PermLaunchSignoff   Permission = "launch.signoff"
	PermShieldView      Permission = "shield.view"   // Shield coverage verdicts
	PermTrainingOwn     Permission = "training.own"  // one's own security-training status
	PermTrainingTeam    Permission = "training.team" // everyone's status; record training done elsewhere
)

// allRoles is what every role (but not "no role") may do: UX.md "all roles".
var allRoles = []Permission{PermStatusView, PermOncallView, PermChangesView, PermFreezeView, PermTrainingOwn}

// rolePermissions is the RBAC matrix, from PRODUCT.md and UX.md. Admin holds
// every permission and is not listed.
var rolePermissions = map[Role][]Permission{
	Support: {PermSilenceManage, PermIncidentManage, PermServersView, PermCostView, PermCostRefresh,
		PermThresholdList, PermChangeOpen, PermChangeRun, PermChangelogView, PermScanRun,
		PermFindingsView, PermChecklistView, PermChecklistTick, PermShieldView},
	Engineer:    {PermChangeOpen, PermChecklistView},
	Finance:     {PermCostView, PermChangeApprove, PermChangelogView, PermChangelogExport},
	Stakeholder: {PermServersView, PermCostView, PermChangeApprove, PermFindingsView, PermChecklistView},
	Security:    {PermScanRun, PermFindingsView, PermFindingsAccept, PermChecklistView, PermChecklistSecure, PermShieldView, PermTrainingTeam},
}

// Has reports whether role r carries permission p (ignoring client scope).
func (r Role) Has(p Permission) bool {
	switch {
	case p == PermPublic, r == Admin:
		return true
	case r == "" || !r.Valid():
		return false
	}
	return slices.Contains(allRoles, p) || slices.Contains(rolePermissions[r], p)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Grant is a role held by a user, scoped to one client for stakeholders.
type Grant struct {
	Role   Role
	Client string // only for stakeholder: the client key
}

var clientKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Grant validation errors; the commands layer turns them into friendly text.
var (
	ErrUnknownRole      = errors.New("unknown role")
	ErrScopeRequired    = errors.New("the stakeholder role needs a client")
	ErrScopeNotAllowed  = errors.New("only the stakeholder role is scoped to a client")
	ErrInvalidClientKey = errors.New("invalid client key")
)

// Validate checks the grant's shape (not whether the client exists).
func (g Grant) Validate() error {
	switch {
	case !g.Role.Valid():
		return fmt.Errorf("%w %q", ErrUnknownRole, g.Role)
	case g.Role == Stakeholder && g.Client == "":
		return ErrScopeRequired
	case g.Role != Stakeholder && g.Client != "":
		return ErrScopeNotAllowed
	case g.Client != "" && !clientKey.MatchString(g.Client):
		return fmt.Errorf("%w %q", ErrInvalidClientKey, g.Client)
	}
	return nil
}

// String renders "stakeholder (acme)" or "admin".
func (g Grant) String() string {
	if g.Client == "" {
		return string(g.Role)
	}
	return string(g.Role) + " (" + g.Client + ")"
}

// SortGrants orders grants by role display order, then client.
func SortGrants(gs []Grant) {
	slices.SortFunc(gs, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(slices.Index(Roles, a.Role), slices.Index(Roles, b.Role)),
			cmp.Compare(a.Client, b.Client))
	})
}

// Principal is a user with the grants in force at the moment of the action.
type Principal struct {
	UserID string
	Grants []Grant
}

// Can reports whether any grant carries p, whatever its client scope.
// Use CanFor when the action concerns one client.
func (p Principal) Can(perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) {
			return true
		}
	}
	return false
}

// CanFor reports whether a grant carries perm and covers client: unscoped
// grants cover every client, a stakeholder grant only its own.
func (p Principal) CanFor(perm Permission, client string) bool {
	if perm == PermPublic {
		return true
	}
	for _, g := range p.Grants {
		if g.Role.Has(perm) && (g.Client == "" || g.Client == client) {
			return true
		}
	}
	return false
}

// Scope tells which clients perm reaches: all of them, or only those listed.
func (p Principal) Scope(perm Permission) (all bool, clients []string) {
	for _, g := range p.Grants {
		if !g.Role.Has(perm) {
			continue
		}
		if g.Client == "" {
			return true, nil
		}
		clients = append(clients, g.Client)
	}
	slices.Sort(clients)
	return false, slices.Compact(clients)
}

// HasRole reports whether the principal holds role r (any scope).
func (p Principal) HasRole(r Role) bool {
	return slices.ContainsFunc(p.Grants, func(g Grant) bool { return g.Role == r })
}
