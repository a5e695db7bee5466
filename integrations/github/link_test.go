package github

import (
	"errors"
	"strings"
	"testing"
)

var (
	ghe   = LinkRules{EnterpriseHosts: []string{"GHE.Example.com"}}
	pulls = LinkRules{AllowPulls: true}
)

func TestParseIssueLinkAccepts(t *testing.T) {
	acme42 := IssueRef{Host: "github.com", Owner: "acme", Repo: "web", Number: 42}
	pr7 := IssueRef{Host: "github.com", Owner: "acme", Repo: "web", Number: 7, PullRequest: true}
	tests := []struct {
		name  string
		in    string
		rules LinkRules
		want  IssueRef
	}{
		{"plain", "https://github.com/acme/web/issues/42", LinkRules{}, acme42},
		{"spaces around", "  https://github.com/acme/web/issues/42\n", LinkRules{}, acme42},
		{"trailing slash", "https://github.com/acme/web/issues/42/", LinkRules{}, acme42},
		{"query", "https://github.com/acme/web/issues/42?foo=bar&x=1", LinkRules{}, acme42},
		{"comment fragment", "https://github.com/acme/web/issues/42#issuecomment-99", LinkRules{}, acme42},
		{"event fragment", "https://github.com/acme/web/issues/42#event-123", LinkRules{}, acme42},
		{"www host", "https://www.github.com/acme/web/issues/42", LinkRules{}, acme42},
		{"uppercase host", "https://GitHub.COM/acme/web/issues/42", LinkRules{}, acme42},
		{"uppercase scheme", "HTTPS://github.com/acme/web/issues/42", LinkRules{}, acme42},
		{"http upgraded", "http://github.com/acme/web/issues/42", LinkRules{}, acme42},
		{"default port", "https://github.com:443/acme/web/issues/42", LinkRules{}, acme42},
		{".git suffix", "https://github.com/acme/web.git/issues/42", LinkRules{}, acme42},
		{"slack wrapped", "<https://github.com/acme/web/issues/42>", LinkRules{}, acme42},
		{"slack label", "<https://github.com/acme/web/issues/42|acme/web#42>", LinkRules{}, acme42},
		{"slack label with pipe", "<https://github.com/acme/web/issues/42|a|b>", LinkRules{}, acme42},
		{"slack amp-escaped query", "<https://github.com/acme/web/issues/42?a=1&amp;b=2|x>", LinkRules{}, acme42},
		{"pull", "https://github.com/acme/web/pull/7", pulls, pr7},
		{"pull files", "https://github.com/acme/web/pull/7/files", pulls, pr7},
		{"pull commits slash", "https://github.com/acme/web/pull/7/commits/", pulls, pr7},
		{"enterprise", "https://ghe.example.com/acme/web/issues/42", ghe, IssueRef{Host: "ghe.example.com", Owner: "acme", Repo: "web", Number: 42}},
		{"enterprise upper", "<https://GHE.EXAMPLE.COM/acme/web/issues/42|x>", ghe, IssueRef{Host: "ghe.example.com", Owner: "acme", Repo: "web", Number: 42}},
		{"enterprise port", "https://ghe.example.com:8443/a/b/issues/1", LinkRules{EnterpriseHosts: []string{"ghe.example.com:8443"}}, IssueRef{Host: "ghe.example.com:8443", Owner: "a", Repo: "b", Number: 1}},
		{"github with enterprise rules", "https://github.com/acme/web/issues/42", ghe, acme42},
		{"repo dots", "https://github.com/Acme-1/my.repo_x-y/issues/1", LinkRules{}, IssueRef{Host: "github.com", Owner: "Acme-1", Repo: "my.repo_x-y", Number: 1}},
		{"owner 39 chars", "https://github.com/" + strings.Repeat("a", 39) + "/r/issues/1", LinkRules{}, IssueRef{Host: "github.com", Owner: strings.Repeat("a", 39), Repo: "r", Number: 1}},
		{"legacy double hyphen owner", "https://github.com/a--b-/r/issues/1", LinkRules{}, IssueRef{Host: "github.com", Owner: "a--b-", Repo: "r", Number: 1}},
		{"max int32", "https://github.com/a/b/issues/2147483647", LinkRules{}, IssueRef{Host: "github.com", Owner: "a", Repo: "b", Number: 2147483647}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIssueLink(tt.in, tt.rules)
			if err != nil {
				t.Fatalf("ParseIssueLink(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseIssueLink(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseIssueLinkRejects(t *testing.T) {
	tests := []struct {
		name, in string
		rules    LinkRules
		reason   string // substring of LinkError.Reason
	}{
		{"evil host", "http://evil.example/o/r/issues/1", LinkRules{}, "only links to github.com are accepted"},
		{"evil host https", "https://evil.example/acme/web/issues/1", ghe, "only links to github.com or ghe.example.com are accepted"},
		{"suffix host", "https://github.com.evil.example/a/b/issues/1", LinkRules{}, "only links to"},
		{"prefix host", "https://evilgithub.com/a/b/issues/1", LinkRules{}, "only links to"},
		{"sub host", "https://api.github.com/repos/a/b/issues/1", LinkRules{}, "only links to"},
		{"trailing dot host", "https://github.com./a/b/issues/1", LinkRules{}, "only links to"},
		{"enterprise not configured", "https://ghe.example.com/acme/web/issues/42", LinkRules{}, "only links to"},
		{"javascript", "javascript:", LinkRules{}, "must start with https://"},
		{"javascript alert", "javascript:alert(1)//github.com/a/b/issues/1", LinkRules{}, "must start with https://"},
		{"file", "file:///etc/passwd", LinkRules{}, "must start with https://"},
		{"ftp", "ftp://github.com/a/b/issues/1", LinkRules{}, "must start with https://"},
		{"no scheme", "github.com/o/../r", LinkRules{}, "must start with https://"},
		{"no scheme issue", "github.com/acme/web/issues/42", LinkRules{}, "must start with https://"},
		{"dotdot repo", "https://github.com/acme/../issues/1", LinkRules{}, "repository name"},
		{"dotdot segment", "https://github.com/o/../r/issues/1", LinkRules{}, "does not point to an issue"},
		{"encoded dotdot", "https://github.com/o/%2e%2e/issues/1", LinkRules{}, "repository name"},
		{"encoded slash", "https://github.com/o/a%2Fb/issues/1", LinkRules{}, "repository name"},
		{"dot repo", "https://github.com/o/./issues/1", LinkRules{}, "repository name"},
		{"dot git only", "https://github.com/o/.git/issues/1", LinkRules{}, "repository name"},
		{"negative", "https://github.com/o/r/issues/-1", LinkRules{}, "positive whole number"},
		{"zero", "https://github.com/acme/web/issues/0", LinkRules{}, "positive whole number"},
		{"leading zero", "https://github.com/acme/web/issues/042", LinkRules{}, "positive whole number"},
		{"plus sign", "https://github.com/acme/web/issues/+4", LinkRules{}, "positive whole number"},
		{"huge", "https://github.com/o/r/issues/99999999999999999999", LinkRules{}, "positive whole number"},
		{"over int32", "https://github.com/o/r/issues/2147483648", LinkRules{}, "too large"},
		{"not a number", "https://github.com/o/r/issues/abc", LinkRules{}, "positive whole number"},
		{"empty number", "https://github.com/o/r/issues/", LinkRules{}, "positive whole number"},
		{"5KB", "https://github.com/acme/web/issues/42?" + strings.Repeat("x", 5000), LinkRules{}, "too long"},
		{"5KB text", strings.Repeat("lorem ipsum ", 430), LinkRules{}, "too long"},
		{"empty", "   ", LinkRules{}, "no link"},
		{"userinfo", "https://user@github.com/a/b/issues/1", LinkRules{}, "user name or password"},
		{"userinfo password", "https://u:p@github.com/a/b/issues/1", LinkRules{}, "user name or password"},
		{"other port", "https://github.com:8443/a/b/issues/1", LinkRules{}, "only links to"},
		{"empty port", "https://github.com:/a/b/issues/1", LinkRules{}, "only links to"},
		{"pull not allowed", "https://github.com/acme/web/pull/7", LinkRules{}, "pull requests are not accepted"},
		{"pull unknown tab", "https://github.com/acme/web/pull/7/evil", pulls, "does not point to an issue"},
		{"issue extra segment", "https://github.com/acme/web/issues/42/files", LinkRules{}, "does not point to an issue"},
		{"pulls plural", "https://github.com/acme/web/pulls/7", pulls, "does not point to an issue"},
		{"repo page", "https://github.com/acme/web", LinkRules{}, "does not point to an issue"},
		{"double slash", "https://github.com//acme/web/issues/1", LinkRules{}, "does not point to an issue"},
		{"two trailing slashes", "https://github.com/acme/web/issues/1//", LinkRules{}, "does not point to an issue"},
		{"leading hyphen owner", "https://github.com/-acme/web/issues/1", LinkRules{}, "owner name"},
		{"owner 40 chars", "https://github.com/" + strings.Repeat("a", 40) + "/r/issues/1", LinkRules{}, "owner name"},
		{"owner underscore", "https://github.com/ac_me/web/issues/1", LinkRules{}, "owner name"},
		{"repo 101 chars", "https://github.com/a/" + strings.Repeat("r", 101) + "/issues/1", LinkRules{}, "repository name"},
		{"repo space", "https://github.com/a/my repo/issues/1", LinkRules{}, "repository name"},
		{"unicode owner", "https://github.com/äcme/web/issues/1", LinkRules{}, "owner name"},
		{"not a url", "<not a url>", LinkRules{}, "must start with https://"},
		{"control char", "https://github.com/a/b/issues/1\x00", LinkRules{}, "not a valid URL"},
		{"opaque", "https:github.com/a/b/issues/1", LinkRules{}, "no host"},
		{"enterprise wrong port", "https://ghe.example.com:8443/a/b/issues/1", ghe, "only links to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIssueLink(tt.in, tt.rules)
			var le *LinkError
			if !errors.As(err, &le) {
				t.Fatalf("ParseIssueLink(%q) = %+v, %v; want a *LinkError", tt.in, got, err)
			}
			if !strings.Contains(le.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", le.Reason, tt.reason)
			}
			if got != (IssueRef{}) {
				t.Errorf("ref = %+v, want zero", got)
			}
			if len(le.Reason) > 200 {
				t.Errorf("reason is %d bytes; it must not echo the input", len(le.Reason))
			}
		})
	}
}

func TestIssueRefStringAndURL(t *testing.T) {
	tests := []struct {
		ref          IssueRef
		str, wantURL string
	}{
		{IssueRef{Host: "github.com", Owner: "acme", Repo: "web", Number: 42}, "acme/web#42", "https://github.com/acme/web/issues/42"},
		{IssueRef{Owner: "acme", Repo: "web", Number: 7, PullRequest: true}, "acme/web#7", "https://github.com/acme/web/pull/7"},
		{IssueRef{Host: "ghe.example.com:8443", Owner: "a", Repo: "b", Number: 1}, "a/b#1", "https://ghe.example.com:8443/a/b/issues/1"},
	}
	for _, tt := range tests {
		if got := tt.ref.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.ref.URL(); got != tt.wantURL {
			t.Errorf("URL() = %q, want %q", got, tt.wantURL)
		}
	}
}
