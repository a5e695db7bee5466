package github

import (
	"slices"
	"strings"
)

// Allowlist names the repositories whose issues opsbot may read and
// comment on with its token: the listed repositories ("owner/name") and
// every repository of the listed owners (organisations). Deny by default:
// an empty list allows nothing, so a private repository that happens to be
// readable with the token is never shown to whoever pastes its link.
// Names compare case-insensitively, as GitHub's do.
type Allowlist struct {
	Repos []string
	Orgs  []string
}

// Allows reports whether ref's repository is listed or belongs to a listed owner.
func (a Allowlist) Allows(ref IssueRef) bool {
	owner, repo := strings.ToLower(ref.Owner), strings.ToLower(ref.Owner+"/"+ref.Repo)
	match := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), v) })
	}
	return match(a.Repos, repo) || match(a.Orgs, owner)
}

// Check is Allows as an error a person can read (a *LinkError that does
// not repeat the link).
func (a Allowlist) Check(ref IssueRef) error {
	if a.Allows(ref) {
		return nil
	}
	return &LinkError{Reason: "that repository is not one of a client's repositories (clients.<key>.repos) nor in an organisation opsbot may read (integrations.github.allowed_orgs)"}
}
