package github

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseIssueLink(f *testing.F) {
	seeds := []string{
		"https://github.com/acme/web/issues/42",
		"<https://github.com/acme/web/issues/42|acme/web#42>",
		"<https://ghe.example.com/acme/web/pull/7/files>",
		"https://github.com/acme/web/issues/42#issuecomment-99",
		"https://github.com/acme/web.git/issues/42/?q=1",
		"https://www.GitHub.com:443/a-b/c.d/pull/2147483647/",
		"http://evil.example/o/r/issues/1",
		"javascript:",
		"github.com/o/../r",
		"https://github.com/o/r/issues/-1",
		"https://github.com/o/r/issues/99999999999999999999",
		"https://user@github.com/a/b/issues/1",
		"https://github.com/%2e%2e/b/issues/1",
		"<|>", "<>", "<", ">", "|", "https://[::1]:443/a/b/issues/1", "https://github.com:/a/b/issues/1",
		strings.Repeat("x", 5*1024),
		"https://github.com/a/b/issues/1?" + strings.Repeat("%", 5*1024),
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, allowPulls bool) {
		rules := LinkRules{EnterpriseHosts: []string{"GHE.example.com", "ghe2.example.com:8443"}, AllowPulls: allowPulls}
		ref, err := ParseIssueLink(in, rules)
		if err != nil {
			var le *LinkError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LinkError", err)
			}
			if ref != (IssueRef{}) {
				t.Fatalf("error with a non-zero ref %+v", ref)
			}
			return
		}
		if ref.Number < 1 || ref.Owner == "" || ref.Repo == "" || ref.Host == "" {
			t.Fatalf("accepted an incomplete ref %+v from %q", ref, in)
		}
		switch ref.Host {
		case "github.com", "ghe.example.com", "ghe2.example.com:8443":
		default:
			t.Fatalf("accepted host %q from %q", ref.Host, in)
		}
		if ref.PullRequest && !allowPulls {
			t.Fatalf("accepted a pull link %q with pulls off", in)
		}
		if strings.ContainsAny(ref.Owner+ref.Repo, "/%?#@:\\ ") || ref.Repo == "." || ref.Repo == ".." {
			t.Fatalf("unsafe owner/repo in %+v from %q", ref, in)
		}
		again, err := ParseIssueLink(ref.URL(), rules)
		if err != nil || again != ref {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", ref.URL(), again, err, ref)
		}
	})
}
