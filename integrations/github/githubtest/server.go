// Package githubtest is a fake GitHub REST API for tests: an httptest server
// serving GET /repos/{o}/{r}/issues/{n}, POST .../issues/{n}/comments and
// PATCH /repos/{o}/{r}/issues/comments/{id} with GitHub's JSON, Bearer token
// checks, GitHub's error bodies (404 for a comment of another repository,
// 422 for a missing body), repositories with their default branch's
// combined status and check runs (repos.go), scripted failures (rate limit, 5xx) and a record
// of every request. Paths are served at the root and, for Enterprise-style
// bases, under /api/v3/.
package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the token the fake accepts unless Server.Token is changed first.
const Token = "ghp_fakeTokenForTests0123456789abcdef"

// Issue is an issue the fake serves.
type Issue struct {
	Owner, Repo string
	Number      int
	Title, Body string
	State       string // default "open"
	Author      string // default "jdoe"
	Labels      []string
	PullRequest bool
	CreatedAt   time.Time // default 2026-11-18T10:12:01Z
}

// Request is one request the fake received.
type Request struct {
	Method, Path string
	Authorized   bool // carried "Bearer <Token>"
	Body         string
}

type failure struct {
	status int
	header http.Header
	body   string
}

// Comment is a comment as the fake keeps it.
type Comment struct {
	ID      int64
	Body    string
	Edits   int // PATCHes applied to it
	Created time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	Token string // the accepted token; set before the first request

	mu       sync.Mutex
	issues   map[string]Issue
	comments map[string][]*Comment // by issue key, oldest first
	byID     map[int64]string      // comment ID → issue key
	repos    map[string]Repo       // by lower-case owner/name (repos.go)
	fails    []failure
	reqs     []Request
	nextID   int64
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{Token: Token, issues: map[string]Issue{}, comments: map[string][]*Comment{}, byID: map[int64]string{}, nextID: 1234567890}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the base to put in github.Config.APIURL (trailing slash).
func (s *Server) APIURL() string { return s.URL + "/" }

func key(owner, repo string, n int) string {
	return strings.ToLower(owner + "/" + repo + "#" + strconv.Itoa(n))
}

// AddIssue adds (or replaces) an issue.
func (s *Server) AddIssue(is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issues[key(is.Owner, is.Repo, is.Number)] = is
}

// Comments returns the bodies of the comments on an issue as they are now
// (edits applied), oldest first.
func (s *Server) Comments(owner, repo string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.comments[key(owner, repo, n)] {
		out = append(out, c.Body)
	}
	return out
}

// IssueComments returns the comments on an issue with their IDs and edit
// counts, oldest first.
func (s *Server) IssueComments(owner, repo string, n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments[key(owner, repo, n)] {
		out = append(out, *c)
	}
	return out
}

// DeleteComment removes a comment, as a person deleting it on GitHub.
func (s *Server) DeleteComment(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.byID[id]
	delete(s.byID, id)
	cs := s.comments[k]
	for i, c := range cs {
		if c.ID == id {
			s.comments[k] = append(cs[:i:i], cs[i+1:]...)
			return
		}
	}
}

// FailNext makes the next request (after any already queued) get this
// response instead, whatever it asks for.
func (s *Server) FailNext(status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{status, header.Clone(), body})
}

// RateLimitNext queues GitHub's primary rate-limit answer: 403 with
// X-RateLimit-Remaining: 0 and X-RateLimit-Reset at reset.
func (s *Server) RateLimitNext(reset time.Time) {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	s.FailNext(http.StatusForbidden, h, errorBody("API rate limit exceeded for user ID 1.",
		"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting", ""))
}

// ServerErrorNext queues a 5xx with GitHub's error body.
func (s *Server) ServerErrorNext(status int) {
	s.FailNext(status, nil, errorBody(http.StatusText(status), "https://docs.github.com/rest", strconv.Itoa(status)))
}

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func errorBody(msg, doc, status string) string {
	m := map[string]string{"message": msg, "documentation_url": doc}
	if status != "" {
		m["status"] = status
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	auth := r.Header.Get("Authorization") == "Bearer "+s.Token
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Authorized: auth, Body: string(body)})
	var f *failure
	if len(s.fails) > 0 {
		f = &s.fails[0]
		s.fails = s.fails[1:]
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if f != nil {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if !auth {
		writeJSON(w, http.StatusUnauthorized, errorBody("Bad credentials", "https://docs.github.com/rest", "401"))
		return
	}
	s.route(w, r, body)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func notFound(w http.ResponseWriter, doc string) {
	writeJSON(w, http.StatusNotFound, errorBody("Not Found", "https://docs.github.com/rest/issues/"+doc, "404"))
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if s.routeRepo(w, r, seg) {
		return
	}
	if len(seg) < 5 || seg[0] != "repos" || seg[3] != "issues" {
		notFound(w, "issues")
		return
	}
	if seg[4] == "comments" {
		s.commentByID(w, r, seg, body)
		return
	}
	n, err := strconv.Atoi(seg[4])
	if err != nil {
		notFound(w, "issues")
		return
	}
	k := key(seg[1], seg[2], n)
	s.mu.Lock()
	is, ok := s.issues[k]
	s.mu.Unlock()
	switch {
	case len(seg) == 5 && r.Method == http.MethodGet && ok:
		writeJSON(w, http.StatusOK, issueJSON(is))
	case len(seg) == 5 && r.Method == http.MethodGet:
		notFound(w, "issues#get-an-issue")
	case len(seg) == 6 && seg[5] == "comments" && r.Method == http.MethodPost && ok:
		s.comment(w, is, k, body)
	case len(seg) == 6 && seg[5] == "comments" && r.Method == http.MethodPost:
		notFound(w, "comments#create-an-issue-comment")
	default:
		notFound(w, "issues")
	}
}

// commentBody reads {"body": "..."}; ok is false (and the 422 GitHub sends
// is written) when it is missing or empty.
func commentBody(w http.ResponseWriter, body []byte, doc string) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Body == nil || *in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, `{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"missing_field","field":"body"}],"documentation_url":"https://docs.github.com/rest/issues/comments#`+doc+`","status":"422"}`)
		return "", false
	}
	return *in.Body, true
}

func (s *Server) comment(w http.ResponseWriter, is Issue, k string, body []byte) {
	text, ok := commentBody(w, body, "create-an-issue-comment")
	if !ok {
		return
	}
	s.mu.Lock()
	s.nextID++
	c := &Comment{ID: s.nextID, Body: text, Created: time.Now().UTC()}
	s.comments[k] = append(s.comments[k], c)
	s.byID[c.ID] = k
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, commentJSON(is, *c, c.Created))
}

// commentByID serves PATCH /repos/{o}/{r}/issues/comments/{id}
// (https://docs.github.com/rest/issues/comments#update-an-issue-comment):
// 200 with the comment; 404 when the ID is unknown or belongs to another
// repository, as GitHub answers; 422 without a body.
func (s *Server) commentByID(w http.ResponseWriter, r *http.Request, seg []string, body []byte) {
	const doc = "comments#update-an-issue-comment"
	id, err := strconv.ParseInt(seg[len(seg)-1], 10, 64)
	if len(seg) != 6 || err != nil || r.Method != http.MethodPatch {
		notFound(w, doc)
		return
	}
	repo := strings.ToLower(seg[1] + "/" + seg[2] + "#")
	s.mu.Lock()
	k, ok := s.byID[id]
	s.mu.Unlock()
	if !ok || !strings.HasPrefix(k, repo) {
		notFound(w, doc)
		return
	}
	text, ok := commentBody(w, body, "update-an-issue-comment")
	if !ok {
		return
	}
	s.mu.Lock()
	var c Comment
	for _, x := range s.comments[k] {
		if x.ID == id {
			x.Body = text
			x.Edits++
			c = *x
		}
	}
	is := s.issues[k]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, commentJSON(is, c, time.Now().UTC()))
}

func commentJSON(is Issue, c Comment, updated time.Time) string {
	out, _ := json.Marshal(map[string]any{
		"id":         c.ID,
		"node_id":    fmt.Sprintf("IC_kwDO%d", c.ID),
		"url":        fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/comments/%d", is.Owner, is.Repo, c.ID),
		"html_url":   fmt.Sprintf("%s#issuecomment-%d", webURL(is), c.ID),
		"issue_url":  fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/%d", is.Owner, is.Repo, is.Number),
		"body":       c.Body,
		"user":       map[string]any{"login": "opsbot[bot]", "type": "Bot"},
		"created_at": c.Created.Format(time.RFC3339),
		"updated_at": updated.Format(time.RFC3339),
	})
	return string(out)
}

func webURL(is Issue) string {
	kind := "issues"
	if is.PullRequest {
		kind = "pull"
	}
	return fmt.Sprintf("https://github.com/%s/%s/%s/%d", is.Owner, is.Repo, kind, is.Number)
}

func issueJSON(is Issue) string {
	if is.State == "" {
		is.State = "open"
	}
	if is.Author == "" {
		is.Author = "jdoe"
	}
	if is.CreatedAt.IsZero() {
		is.CreatedAt = time.Date(2026, 11, 18, 10, 12, 1, 0, time.UTC)
	}
	labels := []map[string]any{}
	for i, l := range is.Labels {
		labels = append(labels, map[string]any{"id": 208045946 + i, "name": l, "color": "f29513", "default": false})
	}
	api := fmt.Sprintf("https://api.github.com/repos/%s/%s", is.Owner, is.Repo)
	m := map[string]any{
		"id": 2051234567, "node_id": "I_kwDOABCD5c56abcd", "number": is.Number,
		"state": is.State, "state_reason": nil, "locked": false,
		"title": is.Title, "body": is.Body,
		"url":            fmt.Sprintf("%s/issues/%d", api, is.Number),
		"html_url":       webURL(is),
		"repository_url": api,
		"user":           map[string]any{"login": is.Author, "id": 583231, "type": "User", "html_url": "https://github.com/" + is.Author},
		"labels":         labels, "assignee": nil, "assignees": []any{}, "milestone": nil, "comments": 0,
		"created_at": is.CreatedAt.UTC().Format(time.RFC3339), "updated_at": is.CreatedAt.UTC().Format(time.RFC3339),
		"closed_at": nil, "author_association": "MEMBER",
	}
	if is.PullRequest {
		m["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/pulls/%d", api, is.Number), "html_url": webURL(is)}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
