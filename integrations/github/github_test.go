package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/github/githubtest"
)

var acme42 = IssueRef{Host: "github.com", Owner: "acme", Repo: "web", Number: 42}

// syncBuffer is a log sink safe for the race detector.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// newClient returns a fresh client (go-github keeps rate-limit state) and its log.
func newClient(t *testing.T, cfg Config) (*Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{mu: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg, &http.Client{Timeout: 5 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

func fakeWithIssue(t *testing.T) *githubtest.Server {
	fake := githubtest.New(t)
	fake.AddIssue(githubtest.Issue{Owner: "acme", Repo: "web", Number: 42, Title: "Resize RDS to db.m6g.large",
		Body: "Client acme needs more DB headroom.", Labels: []string{"infra", "urgent"}})
	fake.AddIssue(githubtest.Issue{Owner: "acme", Repo: "web", Number: 7, Title: "Bump", PullRequest: true, State: "closed", Author: "ann"})
	return fake
}

func TestIssue(t *testing.T) {
	fake := fakeWithIssue(t)
	for _, base := range []string{fake.APIURL(), fake.URL + "/api/v3/", fake.URL + "/api/v3"} {
		c, _ := newClient(t, Config{APIURL: base, Token: githubtest.Token})
		got, err := c.Issue(context.Background(), acme42)
		if err != nil {
			t.Fatalf("%s: Issue: %v", base, err)
		}
		want := Issue{Ref: acme42, Title: "Resize RDS to db.m6g.large", Body: "Client acme needs more DB headroom.",
			State: "open", Author: "jdoe", HTMLURL: "https://github.com/acme/web/issues/42", Labels: []string{"infra", "urgent"},
			CreatedAt: time.Date(2026, 11, 18, 10, 12, 1, 0, time.UTC)}
		if fmt.Sprint(got) != fmt.Sprint(want) || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("%s: Issue = %+v, want %+v", base, got, want)
		}
	}
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	pr, err := c.Issue(context.Background(), IssueRef{Host: "github.com", Owner: "acme", Repo: "web", Number: 7})
	if err != nil || !pr.Ref.PullRequest || pr.State != "closed" || pr.Author != "ann" {
		t.Errorf("pull request = %+v, %v; want PullRequest, closed, ann", pr, err)
	}
	reqs := fake.Requests()
	for _, r := range reqs {
		if !r.Authorized || r.Method != http.MethodGet {
			t.Errorf("request %+v: want an authorized GET", r)
		}
	}
	if got, want := reqs[0].Path, "/repos/acme/web/issues/42"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	if got, want := reqs[1].Path, "/api/v3/repos/acme/web/issues/42"; got != want {
		t.Errorf("enterprise path = %q, want %q", got, want)
	}
}

func TestComment(t *testing.T) {
	fake := fakeWithIssue(t)
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	cm, err := c.Comment(context.Background(), acme42, "Change request **CR-7** moved to *approved*")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cm.HTMLURL, "https://github.com/acme/web/issues/42#issuecomment-") || cm.ID == 0 {
		t.Errorf("comment = %+v", cm)
	}
	long := strings.Repeat("é", MaxCommentLen+10)
	if _, err := c.Comment(context.Background(), acme42, long); err != nil {
		t.Fatal(err)
	}
	got := fake.Comments("acme", "web", 42)
	if len(got) != 2 || got[0] != "Change request **CR-7** moved to *approved*" {
		t.Fatalf("comments = %.80q", got)
	}
	if n := utf8.RuneCountInString(got[1]); n != MaxCommentLen || !strings.HasSuffix(got[1], "…") {
		t.Errorf("long comment: %d runes, want %d ending in …", n, MaxCommentLen)
	}
	if _, err := c.Comment(context.Background(), acme42, "  "); err == nil {
		t.Error("empty comment: want an error")
	}
}

// TestEditComment: one status comment edited in place (PATCH), refused for
// another repository's comment and for a deleted one with ErrNotFound, and
// for an empty body before any request.
func TestEditComment(t *testing.T) {
	fake := fakeWithIssue(t)
	fake.AddIssue(githubtest.Issue{Owner: "globex", Repo: "shop", Number: 1, Title: "x"})
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	ctx := context.Background()
	first, err := c.Comment(ctx, acme42, "**CR-7**: requested")
	if err != nil {
		t.Fatal(err)
	}
	edited, err := c.EditComment(ctx, acme42, first.ID, "**CR-7**: approved")
	if err != nil || edited.ID != first.ID || edited.HTMLURL != first.HTMLURL {
		t.Fatalf("EditComment = %+v, %v; want the same comment", edited, err)
	}
	got := fake.IssueComments("acme", "web", 42)
	if len(got) != 1 || got[0].Body != "**CR-7**: approved" || got[0].Edits != 1 {
		t.Fatalf("comments after the edit = %+v", got)
	}
	last := fake.Requests()[len(fake.Requests())-1]
	if last.Method != http.MethodPatch || last.Path != fmt.Sprintf("/repos/acme/web/issues/comments/%d", first.ID) || !last.Authorized {
		t.Fatalf("edit request = %+v", last)
	}
	// The same ID through another repository: GitHub answers 404.
	other := IssueRef{Host: "github.com", Owner: "globex", Repo: "shop", Number: 1}
	if _, err := c.EditComment(ctx, other, first.ID, "hijack"); !errors.Is(err, integrations.ErrNotFound) {
		t.Fatalf("edit through another repository: %v, want ErrNotFound", err)
	}
	fake.DeleteComment(first.ID)
	if _, err := c.EditComment(ctx, acme42, first.ID, "**CR-7**: scheduled"); !errors.Is(err, integrations.ErrNotFound) {
		t.Fatalf("edit of a deleted comment: %v, want ErrNotFound", err)
	}
	n := len(fake.Requests())
	for _, tc := range []struct {
		id   int64
		body string
	}{{first.ID, " "}, {0, "x"}} {
		if _, err := c.EditComment(ctx, acme42, tc.id, tc.body); err == nil {
			t.Errorf("EditComment(%d, %q) accepted", tc.id, tc.body)
		}
	}
	if len(fake.Requests()) != n {
		t.Fatal("a refused edit reached GitHub")
	}
	// The fake answers a missing body as GitHub does (422), and an unknown
	// comment with 404.
	second, err := c.Comment(ctx, acme42, "**CR-8**: requested")
	if err != nil {
		t.Fatal(err)
	}
	if code := patchStatus(t, fake, second.ID, `{}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("PATCH without a body: %d, want 422", code)
	}
	if code := patchStatus(t, fake, second.ID+1000, `{"body":"x"}`); code != http.StatusNotFound {
		t.Fatalf("PATCH of an unknown comment: %d, want 404", code)
	}
}

// patchStatus sends a raw PATCH to the fake (what go-github cannot send).
func patchStatus(t *testing.T, fake *githubtest.Server, id int64, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%srepos/acme/web/issues/comments/%d", fake.APIURL(), id), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+githubtest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestErrors(t *testing.T) {
	reset := time.Now().Add(120 * time.Second)
	tests := []struct {
		name       string
		setup      func(*githubtest.Server)
		token      string
		ref        IssueRef
		comment    bool
		wantIs     error
		retry      bool
		wantCode   int
		minD, maxD time.Duration
	}{
		{name: "404 unknown issue", ref: IssueRef{Owner: "acme", Repo: "web", Number: 9}, wantIs: integrations.ErrNotFound},
		{name: "404 comment", ref: IssueRef{Owner: "acme", Repo: "nope", Number: 1}, comment: true, wantIs: integrations.ErrNotFound},
		{name: "410 gone", setup: func(s *githubtest.Server) { s.FailNext(410, nil, `{"message":"Issues are disabled for this repo"}`) }, wantIs: integrations.ErrNotFound},
		{name: "401 bad token", token: "ghp_wrongSecretToken999", wantIs: integrations.ErrUnauthorized},
		{name: "401 comment", token: "ghp_wrongSecretToken999", comment: true, wantIs: integrations.ErrUnauthorized},
		{name: "403 forbidden", setup: func(s *githubtest.Server) {
			s.FailNext(403, nil, `{"message":"Resource not accessible by integration"}`)
		}, wantIs: integrations.ErrUnauthorized},
		{name: "403 primary rate limit", setup: func(s *githubtest.Server) { s.RateLimitNext(reset) }, retry: true, wantCode: 403, minD: 115 * time.Second, maxD: 121 * time.Second},
		{name: "403 rate limit on comment", setup: func(s *githubtest.Server) { s.RateLimitNext(reset) }, comment: true, retry: true, wantCode: 403, minD: 115 * time.Second, maxD: 121 * time.Second},
		{name: "403 secondary rate limit", setup: func(s *githubtest.Server) {
			s.FailNext(403, http.Header{"Retry-After": {"60"}}, `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		}, retry: true, wantCode: 403, minD: 60 * time.Second, maxD: 60 * time.Second},
		{name: "429 retry-after", setup: func(s *githubtest.Server) {
			s.FailNext(429, http.Header{"Retry-After": {"30"}}, `{"message":"Too Many Requests"}`)
		}, retry: true, wantCode: 429, minD: 30 * time.Second, maxD: 30 * time.Second},
		{name: "429 reset header", setup: func(s *githubtest.Server) {
			s.FailNext(429, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(reset.Unix())}}, `{"message":"API rate limit exceeded"}`)
		}, retry: true, wantCode: 429, minD: 115 * time.Second, maxD: 121 * time.Second},
		{name: "500", setup: func(s *githubtest.Server) { s.ServerErrorNext(500) }, retry: true, wantCode: 500},
		{name: "502 comment", setup: func(s *githubtest.Server) { s.ServerErrorNext(502) }, comment: true, retry: true, wantCode: 502},
		{name: "422 final", setup: func(s *githubtest.Server) { s.FailNext(422, nil, `{"message":"Validation Failed"}`) }, comment: true},
		{name: "bad JSON final", setup: func(s *githubtest.Server) { s.FailNext(200, nil, `{"title":`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakeWithIssue(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			token := githubtest.Token
			if tt.token != "" {
				token = tt.token
			}
			c, logs := newClient(t, Config{APIURL: fake.APIURL(), Token: token})
			ref := tt.ref
			if ref == (IssueRef{}) {
				ref = acme42
			}
			var err error
			if tt.comment {
				_, err = c.Comment(context.Background(), ref, "hello")
			} else {
				_, err = c.Issue(context.Background(), ref)
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.wantIs)
			}
			retry, delay := integrations.IsRetryable(err)
			if retry != tt.retry {
				t.Fatalf("IsRetryable(%v) = %v, want %v", err, retry, tt.retry)
			}
			var re *integrations.RetryableError
			if retry && errors.As(err, &re) && re.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d", re.StatusCode, tt.wantCode)
			}
			if delay < tt.minD || delay > tt.maxD {
				t.Errorf("delay = %v, want %v..%v", delay, tt.minD, tt.maxD)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()} {
				if strings.Contains(s, token) {
					t.Errorf("token leaked: %s", s)
				}
			}
			if !strings.Contains(logs.String(), "github call failed") {
				t.Errorf("failure not logged: %s", logs)
			}
		})
	}
}

// After a primary rate limit go-github refuses calls locally; that must
// still be a RetryableError with the delay, and must not hit the network.
func TestRateLimitShortCircuit(t *testing.T) {
	fake := fakeWithIssue(t)
	fake.RateLimitNext(time.Now().Add(time.Hour))
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	if _, err := c.Issue(context.Background(), acme42); err == nil {
		t.Fatal("want the rate limit")
	}
	_, err := c.Comment(context.Background(), acme42, "hello")
	retry, delay := integrations.IsRetryable(err)
	if !retry || delay < 59*time.Minute || delay > time.Hour {
		t.Errorf("second call: %v (retry %v, delay %v), want retryable ~1h", err, retry, delay)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (second refused locally)", n)
	}
}

func TestNetworkAndContextErrors(t *testing.T) {
	fake := githubtest.New(t)
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Issue(ctx, acme42); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	} else if retry, _ := integrations.IsRetryable(err); retry {
		t.Errorf("cancelled: %v must not be retryable", err)
	}
	fake.Close()
	_, err := c.Issue(context.Background(), acme42)
	var re *integrations.RetryableError
	if !errors.As(err, &re) || re.StatusCode != 0 {
		t.Errorf("server down: %v, want RetryableError with status 0", err)
	}
}

func TestNewAndConfig(t *testing.T) {
	for _, bad := range []string{"ftp://x/", "://", "https://u:p@api.github.com/", "api.github.com", "https://api.github.com/?a=1"} {
		if _, err := New(Config{APIURL: bad}, nil, nil); err == nil {
			t.Errorf("New(APIURL %q): want an error", bad)
		}
	}
	if _, err := New(Config{}, nil, nil); err != nil {
		t.Errorf("New(default): %v", err)
	}
	cfg := Config{APIURL: DefaultAPIURL, Token: githubtest.Token}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "github", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %s", cfg, cfg), buf.String()} {
		if strings.Contains(s, githubtest.Token) {
			t.Errorf("token shown: %s", s)
		}
	}
}
