// Package github reads GitHub issues and comments on them (REST API via
// github.com/google/go-github/v62), and validates the issue links users
// paste (ParseIssueLink).
//
// The client only ever talks to the configured API base: a link's host only
// decides whether the link is allowed, it never becomes a request URL.
//
// Errors: 404/410 wrap integrations.ErrNotFound; 401 and a 403 that is not a
// rate limit wrap integrations.ErrUnauthorized; rate limits (403/429), 5xx
// and network failures are *integrations.RetryableError with the delay
// GitHub asked for. The token never appears in an error or a log line.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"
)

// DefaultAPIURL is github.com's REST API base.
const DefaultAPIURL = "https://api.github.com/"

// MaxCommentLen is the longest comment body Comment sends, in characters;
// longer bodies are cut and end in "…".
const MaxCommentLen = 65000

// Config says where the GitHub API is and how to authenticate to it.
type Config struct {
	// APIURL is the REST API base; default DefaultAPIURL. GitHub Enterprise
	// Server: "https://ghe.example.com/api/v3/"; GHE.com: "https://api.SUB.ghe.com/".
	APIURL string
	// Token is a personal access or installation token (a secret). Empty
	// means unauthenticated calls.
	Token string
}

// String shows the config without the token.
func (c Config) String() string {
	return fmt.Sprintf("github.Config{APIURL: %q, Token: %s}", c.APIURL, redacted(c.Token))
}

// LogValue keeps the token out of log lines.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("api_url", c.APIURL), slog.String("token", redacted(c.Token)))
}

func redacted(s string) string {
	if s == "" {
		return "(none)"
	}
	return "(redacted)"
}

// Client talks to one GitHub (or GitHub Enterprise) API. It is safe for
// concurrent use. After a primary rate limit go-github refuses further calls
// locally until the reset time; those calls also return a RetryableError.
type Client struct {
	gh  *gh.Client
	log *slog.Logger
	now func() time.Time
}

// New builds a Client. hc may be nil (a client with a 30 s timeout is used);
// it is copied, never modified. Redirects are followed only for GET and only
// on the API host. log may be nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) (*Client, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	base, err := url.Parse(cfg.APIURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("github: APIURL must be an http(s) URL like %s", DefaultAPIURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	own := *hc
	own.CheckRedirect = sameHostRedirects(base.Host, hc.CheckRedirect)
	g := gh.NewClient(&own)
	if cfg.Token != "" {
		g = g.WithAuthToken(cfg.Token)
	}
	g.BaseURL = base
	g.UserAgent = "opsbot"
	return &Client{gh: g, log: log.With("integration", "github"), now: time.Now}, nil
}

// sameHostRedirects refuses redirects that change host or method; the
// redirect response itself is then returned (and reported as an error).
func sameHostRedirects(host string, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != host || via[0].Method != http.MethodGet || len(via) >= 5 {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// Issue is an issue or pull request as GitHub shows it.
type Issue struct {
	Ref       IssueRef // the ref asked for; PullRequest set when GitHub says it is one
	Title     string
	Body      string
	State     string // "open" or "closed"
	Author    string // login
	HTMLURL   string
	Labels    []string
	CreatedAt time.Time
}

// Issue fetches one issue (GET /repos/{owner}/{repo}/issues/{n};
// https://docs.github.com/rest/issues/issues#get-an-issue). ref.Host is not
// used: the request goes to the configured API base.
func (c *Client) Issue(ctx context.Context, ref IssueRef) (Issue, error) {
	op := "github: get issue " + ref.String()
	if err := checkRef(ref); err != nil {
		return Issue{}, fmt.Errorf("%s: %w", op, err)
	}
	is, resp, err := c.gh.Issues.Get(ctx, ref.Owner, ref.Repo, ref.Number)
	if err != nil {
		return Issue{}, c.fail(ctx, op, resp, err)
	}
	c.log.DebugContext(ctx, "github issue fetched", "issue", ref.String())
	out := Issue{
		Ref:     ref,
		Title:   is.GetTitle(),
		Body:    is.GetBody(),
		State:   is.GetState(),
		Author:  is.GetUser().GetLogin(),
		HTMLURL: is.GetHTMLURL(),
	}
	out.Ref.PullRequest = is.IsPullRequest()
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	if t := is.GetCreatedAt(); !t.IsZero() {
		out.CreatedAt = t.Time
	}
	return out, nil
}

// Comment is a comment opsbot wrote: its ID (to edit it later) and web URL.
type Comment struct {
	ID      int64
	HTMLURL string
}

// Comment posts markdown as a comment on the issue (POST
// /repos/{owner}/{repo}/issues/{n}/comments;
// https://docs.github.com/rest/issues/comments#create-an-issue-comment).
// Bodies over MaxCommentLen are cut.
func (c *Client) Comment(ctx context.Context, ref IssueRef, markdown string) (Comment, error) {
	op := "github: comment on " + ref.String()
	body, err := commentBody(ref, markdown)
	if err != nil {
		return Comment{}, fmt.Errorf("%s: %w", op, err)
	}
	cm, resp, err := c.gh.Issues.CreateComment(ctx, ref.Owner, ref.Repo, ref.Number, &gh.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, c.fail(ctx, op, resp, err)
	}
	c.log.InfoContext(ctx, "github comment posted", "issue", ref.String(), "comment_id", cm.GetID())
	return Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL()}, nil
}

// EditComment replaces the body of comment id in ref's repository (PATCH
// /repos/{owner}/{repo}/issues/comments/{id};
// https://docs.github.com/rest/issues/comments#update-an-issue-comment),
// so one status comment follows a request instead of one per step. A
// comment deleted on GitHub (404) wraps integrations.ErrNotFound.
func (c *Client) EditComment(ctx context.Context, ref IssueRef, id int64, markdown string) (Comment, error) {
	op := fmt.Sprintf("github: edit comment %d on %s", id, ref)
	body, err := commentBody(ref, markdown)
	if err == nil && id <= 0 {
		err = errors.New("no comment ID")
	}
	if err != nil {
		return Comment{}, fmt.Errorf("%s: %w", op, err)
	}
	cm, resp, err := c.gh.Issues.EditComment(ctx, ref.Owner, ref.Repo, id, &gh.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, c.fail(ctx, op, resp, err)
	}
	c.log.InfoContext(ctx, "github comment edited", "issue", ref.String(), "comment_id", cm.GetID())
	return Comment{ID: cm.GetID(), HTMLURL: cm.GetHTMLURL()}, nil
}

// commentBody checks ref and markdown and cuts the body to MaxCommentLen.
func commentBody(ref IssueRef, markdown string) (string, error) {
	if err := checkRef(ref); err != nil {
		return "", err
	}
	if strings.TrimSpace(markdown) == "" {
		return "", errors.New("empty comment")
	}
	return capRunes(markdown, MaxCommentLen), nil
}

// checkRef applies the link rules to a ref built by hand, so nothing
// unvalidated reaches go-github's unescaped path.
func checkRef(ref IssueRef) error {
	_, err := validateRef(ref.Owner, ref.Repo, strconv.Itoa(ref.Number))
	return err
}

// capRunes cuts s to at most n runes, ending in "…" when cut.
func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// fail maps a go-github error to the integrations error contract and logs it.
func (c *Client) fail(ctx context.Context, op string, resp *gh.Response, err error) error {
	mapped := mapError(op, resp, err, c.now())
	c.log.WarnContext(ctx, "github call failed", "op", op, "error", mapped.Error())
	return mapped
}

// errorsAs is errors.As with the target allocated, for brevity.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
