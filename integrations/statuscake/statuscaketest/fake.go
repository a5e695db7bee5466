// Package statuscaketest is a fake StatusCake API v1 for tests. It serves the
// real paths and JSON shapes (GET /v1/uptime, /v1/uptime/{id},
// /v1/uptime/{id}/periods, /v1/uptime/{id}/history) so that statuscake-go runs for real against it,
// with both pagination styles: page/limit + metadata for the test list, and
// before/after/limit + links.next (newest first) for periods.
package statuscaketest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Token is the API token the fake accepts ("Authorization: Bearer " + Token).
const Token = "sc-fake-token-7f3a9c"

// Test is an uptime test as the fake stores it.
type Test struct {
	ID         string // assigned by AddTest when empty
	Name       string
	WebsiteURL string
	Status     string // "up" or "down"; default "up"
	Paused     bool
	Uptime     float64
	Tags       []string
	LastTested time.Time // last_tested_at; omitted when zero
}

type period struct {
	status     string
	start, end time.Time
}

// Server is the fake. Its exported fields may be set before the first request.
type Server struct {
	*httptest.Server
	// MaxLimit caps the page size like the API's limit (1–100); lower it to
	// force several pages.
	MaxLimit int

	mu       sync.Mutex
	tests    []*Test
	periods  map[string][]period
	runs     map[string][]Run
	fails    []failure
	requests map[string]int // by path
	total    int
}

type failure struct {
	status int
	header http.Header
	body   string
}

// New starts a fake and closes it when t ends.
func New(t testing.TB) *Server {
	s := &Server{MaxLimit: 100, periods: map[string][]period{}, runs: map[string][]Run{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/uptime", s.list)
	mux.HandleFunc("GET /v1/uptime/{id}", s.get)
	mux.HandleFunc("GET /v1/uptime/{id}/periods", s.listPeriods)
	mux.HandleFunc("GET /v1/uptime/{id}/history", s.listHistory)
	s.Server = httptest.NewServer(s.guard(mux))
	t.Cleanup(s.Close)
	return s
}

// AddTest stores an uptime test and returns its ID.
func (s *Server) AddTest(t Test) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == "" {
		t.ID = strconv.Itoa(6421337 + len(s.tests))
	}
	if t.Status == "" {
		t.Status = "up"
	}
	s.tests = append(s.tests, &t)
	return t.ID
}

// SetStatus sets a test's current status, "up" or "down".
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tests {
		if t.ID == id {
			t.Status = status
		}
	}
}

// AddPeriod records a period of test id; a zero end means it is running.
func (s *Server) AddPeriod(id, status string, start, end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.periods[id] = append(s.periods[id], period{status, start, end})
}

// FailNext makes the next request, whatever its token, answer status with
// header and body. An empty body becomes the API's error
// shape {"message": ..., "errors": {}}. Calls queue up.
func (s *Server) FailNext(status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{status, header, body})
}

// Requests returns how many requests reached the fake, in total and for
// path (e.g. "/v1/uptime"); path "" gives the total only.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		return s.total
	}
	return s.requests[path]
}

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.total++
		s.requests[r.URL.Path]++
		var f *failure
		if len(s.fails) > 0 {
			f = &s.fails[0]
			s.fails = s.fails[1:]
		}
		s.mu.Unlock()
		if f != nil {
			for k, vs := range f.header {
				w.Header()[k] = vs
			}
			if f.body == "" {
				writeError(w, f.status, http.StatusText(f.status))
				return
			}
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.body)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+Token {
			writeError(w, http.StatusUnauthorized, "Unauthorised")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "errors": map[string]any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limit reads ?limit= (default 25), capped to MaxLimit.
func (s *Server) limit(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n < 1 {
		n = 25
	}
	return min(n, s.MaxLimit, 100)
}

func (s *Server) find(id string) (Test, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.tests, func(t *Test) bool { return t.ID == id })
	if i < 0 {
		return Test{}, false
	}
	return *s.tests[i], true
}

func overview(t Test) map[string]any {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id": t.ID, "name": t.Name, "website_url": t.WebsiteURL, "test_type": "HTTP",
		"check_rate": 60, "contact_groups": []string{}, "paused": t.Paused,
		"status": t.Status, "tags": tags, "uptime": t.Uptime,
	}
}
