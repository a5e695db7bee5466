package github

import (
	"errors"
	"strings"
	"testing"
)

func TestAllowlist(t *testing.T) {
	a := Allowlist{Repos: []string{"acme/web", "Globex/Shop"}, Orgs: []string{"agency"}}
	for _, tc := range []struct {
		owner, repo string
		want        bool
	}{
		{"acme", "web", true},
		{"ACME", "Web", true},
		{"globex", "shop", true},
		{"agency", "anything", true},
		{"Agency", "infra", true},
		{"acme", "secret", false},
		{"acme-web", "x", false},
		{"agencyx", "infra", false},
		{"evil", "acme", false},
	} {
		ref := IssueRef{Host: "github.com", Owner: tc.owner, Repo: tc.repo, Number: 1}
		if got := a.Allows(ref); got != tc.want {
			t.Errorf("Allows(%s/%s) = %v, want %v", tc.owner, tc.repo, got, tc.want)
		}
		var le *LinkError
		if err := a.Check(ref); (err == nil) != tc.want || (err != nil && (!errors.As(err, &le) || strings.Contains(le.Reason, tc.owner+"/"+tc.repo))) {
			t.Errorf("Check(%s/%s) = %v", tc.owner, tc.repo, err)
		}
	}
	if (Allowlist{}).Allows(acme42) {
		t.Error("an empty allowlist allows a repository")
	}
}
