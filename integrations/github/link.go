package github

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// maxLinkLen is the longest input ParseIssueLink looks at, in bytes.
const maxLinkLen = 2048

// linkExample is shown in parse errors so the user sees the right form.
const linkExample = "https://github.com/acme/web/issues/42"

var (
	ownerRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	repoRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	numberRE = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

// pullTabs are the extra path segments a pull request link may carry
// (https://github.com/acme/web/pull/7/files); they are ignored.
var pullTabs = map[string]bool{"files": true, "commits": true, "checks": true}

// IssueRef names one issue (or pull request) on one GitHub host.
type IssueRef struct {
	Host        string // lower-case web host: "github.com" or a configured Enterprise host (with ":port" if not 443)
	Owner       string
	Repo        string
	Number      int
	PullRequest bool // the link was /pull/N (the issues API serves both)
}

// String is the short form, "acme/web#42".
func (r IssueRef) String() string {
	return r.Owner + "/" + r.Repo + "#" + strconv.Itoa(r.Number)
}

// URL is the canonical https web URL of the issue or pull request.
func (r IssueRef) URL() string {
	kind := "issues"
	if r.PullRequest {
		kind = "pull"
	}
	host := r.Host
	if host == "" {
		host = "github.com"
	}
	return "https://" + host + "/" + r.Owner + "/" + r.Repo + "/" + kind + "/" + strconv.Itoa(r.Number)
}

// LinkRules say which links ParseIssueLink accepts.
type LinkRules struct {
	// EnterpriseHosts are GitHub Enterprise web hosts, e.g. "ghe.example.com"
	// (add ":port" for a non-default port). Compared case-insensitively.
	// github.com and www.github.com are always allowed.
	EnterpriseHosts []string
	// AllowPulls accepts /pull/N links as well as /issues/N.
	AllowPulls bool
}

// LinkError says why a link was refused. Reason is safe to show the user:
// it never repeats the input.
type LinkError struct{ Reason string }

func (e *LinkError) Error() string { return "github link: " + e.Reason }

func linkErr(reason string) error {
	return &LinkError{Reason: reason + " (expected a link like " + linkExample + ")"}
}

// ParseIssueLink validates a GitHub issue link, raw or as Slack sends it
// (<url> or <url|label>), and returns what it names. It accepts only
// http(s)://HOST/OWNER/REPO/issues/N (or /pull/N when rules.AllowPulls, with
// an optional files/commits/checks segment), an optional trailing slash,
// query and fragment, where HOST is github.com, www.github.com or one of
// rules.EnterpriseHosts. Userinfo, non-default ports, other schemes, inputs
// over 2048 bytes, bad owner or repo names and numbers outside 1..2^31-1 are
// refused with a *LinkError. It does no I/O and never panics.
func ParseIssueLink(text string, rules LinkRules) (IssueRef, error) {
	s := strings.TrimSpace(text)
	if len(s) > maxLinkLen {
		return IssueRef{}, linkErr("the link is too long")
	}
	if s == "" {
		return IssueRef{}, linkErr("no link given")
	}
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") && len(s) >= 2 {
		s = s[1 : len(s)-1]
		if i := strings.IndexByte(s, '|'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return IssueRef{}, linkErr("that is not a valid URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return IssueRef{}, linkErr("the link must start with https://")
	}
	if u.Opaque != "" || u.Host == "" {
		return IssueRef{}, linkErr("the link has no host")
	}
	if u.User != nil {
		return IssueRef{}, linkErr("links with a user name or password are not accepted")
	}
	host, ok := allowedHost(u, scheme, rules)
	if !ok {
		return IssueRef{}, linkErr("only links to " + hostList(rules) + " are accepted")
	}
	ref, err := parsePath(u.EscapedPath(), rules.AllowPulls)
	if err != nil {
		return IssueRef{}, err
	}
	ref.Host = host
	return ref, nil
}

// allowedHost returns the canonical host key of u when it is allowed.
func allowedHost(u *url.URL, scheme string, rules LinkRules) (string, bool) {
	name := strings.ToLower(u.Hostname())
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", false // "github.com:" — an empty port
	}
	if port != "" && port != defaultPort(scheme) {
		name += ":" + port
	} else if name == "www.github.com" {
		name = "github.com"
	}
	if name == "github.com" {
		return name, true
	}
	for _, h := range rules.EnterpriseHosts {
		if normHost(h) == name && name != "" {
			return name, true
		}
	}
	return "", false
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// normHost lower-cases a configured host and drops a default https port.
func normHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.TrimSuffix(h, ":443")
}

func hostList(rules LinkRules) string {
	hosts := []string{"github.com"}
	for _, h := range rules.EnterpriseHosts {
		if h = normHost(h); h != "" && h != "github.com" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 1 {
		return hosts[0]
	}
	return strings.Join(hosts[:len(hosts)-1], ", ") + " or " + hosts[len(hosts)-1]
}

// parsePath checks /OWNER/REPO/issues|pull/N[/tab][/] segment by segment.
// It works on the escaped path, so any percent-encoding fails the name rules.
func parsePath(p string, allowPulls bool) (IssueRef, error) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) > 4 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // one trailing slash
	}
	if len(segs) < 4 || !strings.HasPrefix(p, "/") {
		return IssueRef{}, linkErr("the link does not point to an issue")
	}
	kind := segs[2]
	switch {
	case kind == "issues" && len(segs) == 4:
	case kind == "pull" && !allowPulls:
		return IssueRef{}, linkErr("links to pull requests are not accepted here")
	case kind == "pull" && (len(segs) == 4 || len(segs) == 5 && pullTabs[segs[4]]):
	default:
		return IssueRef{}, linkErr("the link does not point to an issue")
	}
	ref, err := validateRef(segs[0], segs[1], segs[3])
	ref.PullRequest = kind == "pull"
	return ref, err
}

// validateRef checks owner, repo and number by GitHub's naming rules (a
// trailing ".git" is dropped from repo) and returns them as a ref without a
// host. The client applies the same rules before any request, because
// go-github puts owner and repo into the URL path unescaped.
func validateRef(owner, repo, number string) (IssueRef, error) {
	if !ownerRE.MatchString(owner) {
		return IssueRef{}, linkErr("the owner name is not valid")
	}
	repo = strings.TrimSuffix(repo, ".git")
	if !repoRE.MatchString(repo) || repo == "." || repo == ".." {
		return IssueRef{}, linkErr("the repository name is not valid")
	}
	if !numberRE.MatchString(number) {
		return IssueRef{}, linkErr("the issue number must be a positive whole number")
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n > math.MaxInt32 {
		return IssueRef{}, linkErr("the issue number is too large")
	}
	return IssueRef{Owner: owner, Repo: repo, Number: int(n)}, nil
}
