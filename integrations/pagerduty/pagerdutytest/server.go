// Package pagerdutytest is an in-process fake of PagerDuty that speaks the
// real wire format of both hosts on one httptest server: the Events API v2
// (POST /v2/enqueue) and the REST API v2 subset opsbot uses (GET/PUT
// /incidents, POST /incidents/{id}/snooze, GET /users, GET /oncalls). Point both pagerduty.Config URLs at
// Server.URL. Events drive an incident state machine: a trigger opens (or
// dedups onto) an incident per dedup_key; acknowledge/resolve events and REST
// PUT /incidents change it.
package pagerdutytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the REST API token the fake accepts until SetToken changes it.
const Token = "pagerdutytest-rest-token"

// Response is a canned reply for FailEnqueue / FailREST. Body defaults to
// PagerDuty's body for Status; RetryAfter > 0 sets a Retry-After header (seconds).
type Response struct {
	Status     int
	Body       string
	RetryAfter time.Duration
}

// Request is one HTTP request the fake received, on either host.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	URL string

	mu          sync.Mutex
	token       string
	changed     chan struct{} // closed and replaced on every recorded event
	requests    []Request
	events      []Event
	enqueueFail []Response
	restFail    []Response
	incidents   []*Incident
	users       []User
	oncalls     []OnCall
	now         func() time.Time
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{token: Token, changed: make(chan struct{}), now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/enqueue", s.enqueue)
	mux.HandleFunc("GET /incidents", s.rest(s.listIncidents))
	mux.HandleFunc("PUT /incidents", s.rest(s.manageIncidents))
	mux.HandleFunc("POST /incidents/{id}/snooze", s.rest(s.snooze))
	mux.HandleFunc("GET /users", s.rest(s.listUsers))
	mux.HandleFunc("GET /oncalls", s.rest(s.listOnCalls))
	mux.HandleFunc("/", s.rest(func(w http.ResponseWriter, _ *http.Request) {
		restError(w, http.StatusNotFound, "Not Found", 2100)
	}))
	srv := httptest.NewServer(s.record(mux))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetToken changes the REST token the fake accepts.
func (s *Server) SetToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = tok
}

// SetNow sets the fake's clock (incident timestamps). Default time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// FailREST queues canned responses for the next REST calls (any path);
// afterwards the fake answers normally.
func (s *Server) FailREST(responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restFail = append(s.restFail, responses...)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path,
			RawQuery: r.URL.RawQuery, Header: r.Header.Clone()})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// rest wraps a REST handler with canned failures and the token check.
func (s *Server) rest(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var canned *Response
		if len(s.restFail) > 0 {
			canned = &s.restFail[0]
			s.restFail = s.restFail[1:]
		}
		tok := s.token
		s.mu.Unlock()
		if canned != nil {
			writeCanned(w, *canned, restBody)
			return
		}
		if r.Header.Get("Authorization") != "Token token="+tok {
			restError(w, http.StatusUnauthorized, "Authentication failed", 2006)
			return
		}
		h(w, r)
	}
}

func restBody(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return `{"error":{"message":"Rate Limit Exceeded","code":2020}}`
	case http.StatusNotFound:
		return `{"error":{"message":"Not Found","code":2100}}`
	case http.StatusUnauthorized:
		return `{"error":{"message":"Authentication failed","code":2006}}`
	case http.StatusForbidden:
		return `{"error":{"message":"Access Denied","code":2010}}`
	case http.StatusBadRequest:
		return `{"error":{"message":"Invalid Input Provided","code":2001}}`
	}
	return `{"error":{"message":"Internal Server Error","code":2000}}`
}

func writeCanned(w http.ResponseWriter, c Response, defaultBody func(int) string) {
	body := c.Body
	if body == "" {
		body = defaultBody(c.Status)
	}
	if c.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(c.RetryAfter.Round(time.Second)/time.Second)))
	}
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(c.Status)
	_, _ = fmt.Fprint(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// restError writes PagerDuty's REST error shape.
func restError(w http.ResponseWriter, status int, msg string, code int, errs ...string) {
	e := map[string]any{"message": msg, "code": code}
	if len(errs) > 0 {
		e["errors"] = errs
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// page applies limit/offset to n items and returns [lo, hi) plus the list
// envelope fields PagerDuty sends (total only when total=true).
func page(r *http.Request, n int) (lo, hi int, env map[string]any) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	limit = min(limit, 100)
	off, _ := strconv.Atoi(q.Get("offset"))
	lo = min(max(off, 0), n)
	hi = min(lo+limit, n)
	env = map[string]any{"limit": limit, "offset": lo, "more": hi < n, "total": nil}
	if q.Get("total") == "true" {
		env["total"] = n
	}
	return lo, hi, env
}
