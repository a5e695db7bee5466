// Package loaderiotest is a fake loader.io API v2 for tests: POST /v2/tests
// (which runs the test at once) and GET /v2/tests/{id}/results/{rid}, with
// the loaderio-auth key checked, loader.io's error bodies
// ({"message":"error","errors":[...]}), the target's verification file
// fetched on every run as loader.io does (missing: 422, no test made), one
// running test per account, results "not_ready" for a set number of
// polls before "ready", and 429 with Retry-After when told to (Throttle).
package loaderiotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Key is the API key the fake accepts.
const Key = "fake-loaderio-key-0123456789"

// Outcome is what a run reports once ready.
type Outcome struct {
	Success, Error, NetworkError int64
	AvgResponseTime              float64
	AvgErrorRate                 float64
}

type run struct {
	testID, resultID string
	polls            int // left before ready
	outcome          Outcome
}

// Server is the fake. Methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	tokens   map[string]string // verified host → its token
	runs     map[string]*run   // by result ID
	next     int
	polls    int
	outcome  Outcome
	created  []map[string]any
	requests []string
	throttle int    // requests left to answer 429
	retry    string // their Retry-After
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{tokens: map[string]string{}, runs: map[string]*run{}, polls: 2,
		outcome: Outcome{Success: 6000, AvgResponseTime: 120}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the base to configure (like https://api.loader.io/v2).
func (s *Server) APIURL() string { return s.URL + "/v2" }

// Verify registers host (host:port) as a verified target with its token.
func (s *Server) Verify(host, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[host] = token
}

// SetOutcome sets what later runs report, after polls "not_ready" answers.
func (s *Server) SetOutcome(o Outcome, polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcome, s.polls = o, polls
}

// Throttle answers the next n requests 429 Too Many Requests with
// Retry-After (seconds) and loader.io's error body: its limits are
// undocumented, so a client must take the 429 as it comes.
func (s *Server) Throttle(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retry = n, retryAfter
}

// Finish ends every running test, as loader.io does once a test's duration
// has passed (whether or not anyone reads its result).
func (s *Server) Finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		r.polls = 0
	}
}

// Created are the bodies of the tests created.
func (s *Server) Created() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// Requests are "METHOD path" of every request.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"message": "error", "errors": []string{msg}})
	_, _ = w.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	throttled, retry := s.throttle > 0, s.retry
	if throttled {
		s.throttle--
	}
	s.mu.Unlock()
	if throttled {
		w.Header().Set("Retry-After", retry)
		fail(w, http.StatusTooManyRequests, "Rate limit exceeded")
		return
	}
	if r.Header.Get("loaderio-auth") != Key {
		fail(w, http.StatusUnauthorized, "Invalid API key")
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && len(seg) == 2 && seg[0] == "v2" && seg[1] == "tests":
		s.create(w, r)
	case r.Method == http.MethodGet && len(seg) == 5 && seg[0] == "v2" && seg[1] == "tests" && seg[3] == "results":
		s.result(w, seg[2], seg[4])
	default:
		fail(w, http.StatusNotFound, "Requested record was not found")
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		fail(w, http.StatusUnprocessableEntity, "Content-Type must be application/json")
		return
	}
	var body struct {
		TestType string `json:"test_type"`
		Total    int    `json:"total"`
		Duration int    `json:"duration"`
		URLs     []struct {
			URL string `json:"url"`
		} `json:"urls"`
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(raw, &body); err != nil {
		fail(w, http.StatusUnprocessableEntity, "invalid JSON")
		return
	}
	switch {
	case !slices.Contains([]string{"per-test", "per-second", "maintain-load"}, body.TestType):
		fail(w, http.StatusUnprocessableEntity, "test_type is invalid")
		return
	case body.Total <= 0 || body.Duration <= 0 || body.Duration > 600 || len(body.URLs) == 0:
		fail(w, http.StatusUnprocessableEntity, "total, duration (1-600) and urls are required")
		return
	}
	u, err := url.Parse(body.URLs[0].URL)
	s.mu.Lock()
	token, verified := "", false
	if err == nil {
		token, verified = s.tokens[u.Host]
	}
	busy := slices.ContainsFunc(mapValues(s.runs), func(r *run) bool { return r.polls > 0 })
	s.mu.Unlock()
	switch {
	case !verified:
		fail(w, http.StatusUnprocessableEntity, "The target host is not verified")
		return
	case busy:
		fail(w, http.StatusUnprocessableEntity, "Only one test may run at a time on this plan")
		return
	case !serves(u, token):
		// loader.io re-checks the verification file on every run.
		fail(w, http.StatusUnprocessableEntity, "Verification failed: "+token+".txt was not found on "+u.Host)
		return
	}
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	s.mu.Lock()
	s.next++
	rn := &run{testID: fmt.Sprintf("f133e9e3691e405eefd3e1b7c351cb%02x", s.next), resultID: fmt.Sprintf("08627345e5aa0f89f95851a69a4cb0%02x", s.next),
		polls: s.polls, outcome: s.outcome}
	s.runs[rn.resultID] = rn
	s.created = append(s.created, generic)
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"message": "success", "test_id": rn.testID, "result_id": rn.resultID, "status": "running"})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func mapValues(m map[string]*run) []*run {
	out := make([]*run, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func serves(u *url.URL, token string) bool {
	resp, err := http.Get(u.Scheme + "://" + u.Host + "/" + token + ".txt")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b), token)
}

func (s *Server) result(w http.ResponseWriter, testID, resultID string) {
	s.mu.Lock()
	rn, ok := s.runs[resultID]
	if !ok || rn.testID != testID {
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "Requested record was not found")
		return
	}
	out := map[string]any{"result_id": rn.resultID, "started_at": "2026-11-20T10:10:08Z", "status": "not_ready"}
	if rn.polls > 0 {
		rn.polls--
	} else {
		o := rn.outcome
		out["status"] = "ready"
		out["public_results_url"] = "https://loader.io/reports/" + rn.testID + "/results/" + rn.resultID
		out["success"], out["error"], out["timeout_error"], out["network_error"] = o.Success, o.Error, 0, o.NetworkError
		out["avg_response_time"], out["avg_error_rate"] = o.AvgResponseTime, o.AvgErrorRate
		out["data_sent"], out["data_received"] = 8340708316, 419790234
	}
	s.mu.Unlock()
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
