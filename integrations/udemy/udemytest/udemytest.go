// Package udemytest is an in-process fake of the Udemy Business reporting
// API's user-course-activity endpoint, as strict as the real one about what
// opsbot sends: Basic auth with the client ID and secret (401 otherwise),
// the organisation in the path (404 for another), page_size at most
// MaxPageSize (400 above), pages that exist (404 past the last), and
// "next" as an absolute URL. Failures can be queued: 429 with Retry-After,
// 503, 524.
package udemytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Credentials and organisation the fake accepts.
const (
	ClientID     = "udemy-client-id"
	ClientSecret = "udemy-client-secret-value"
	Organization = "4242"
	// MaxPageSize is the largest page_size the fake serves.
	MaxPageSize = 100
)

// Row is one user × course activity record.
type Row struct {
	Email, Name, Surname string
	Deactivated          bool
	CourseID             int64
	CourseTitle          string
	FirstCompleted       time.Time // zero: never completed
	CompletionRatio      float64
}

// Failure is a canned answer for the next request.
type Failure struct {
	Status     int
	RetryAfter string // Retry-After header value, "" for none
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu       sync.Mutex
	rows     []Row
	fails    []Failure
	requests []*http.Request
}

// New starts the fake, closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Add adds activity rows.
func (s *Server) Add(rows ...Row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, rows...)
}

// FailNext queues answers for the next requests, in order.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, f...)
}

// Requests returns the requests received (auth headers included).
func (s *Server) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	var f *Failure
	if len(s.fails) > 0 {
		f = &s.fails[0]
		s.fails = s.fails[1:]
	}
	rows := slices.Clone(s.rows)
	s.mu.Unlock()
	if id, secret, ok := r.BasicAuth(); !ok || id != ClientID || secret != ClientSecret {
		writeJSON(w, 401, map[string]any{"detail": "Authentication credentials were not provided."})
		return
	}
	if f != nil {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, f.Status, map[string]any{"detail": http.StatusText(f.Status)})
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api-2.0/organizations/"+Organization+"/analytics/user-course-activity/" {
		writeJSON(w, 404, map[string]any{"detail": "Not found."})
		return
	}
	q := r.URL.Query()
	size, page := 12, 1
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			writeJSON(w, 400, map[string]any{"detail": fmt.Sprintf("page_size must be between 1 and %d", MaxPageSize)})
			return
		}
		size = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, 404, map[string]any{"detail": "Invalid page."})
			return
		}
		page = n
	}
	var match []Row
	for _, row := range rows {
		if c := q.Get("course_id"); c != "" && c != strconv.FormatInt(row.CourseID, 10) {
			continue
		}
		if e := q.Get("user_email"); e != "" && e != row.Email {
			continue
		}
		match = append(match, row)
	}
	from := (page - 1) * size
	if from > 0 && from >= len(match) {
		writeJSON(w, 404, map[string]any{"detail": "Invalid page."})
		return
	}
	to := min(from+size, len(match))
	results := []map[string]any{}
	for _, row := range match[from:to] {
		first := any(nil)
		if !row.FirstCompleted.IsZero() {
			first = row.FirstCompleted.UTC().Format(time.RFC3339)
		}
		results = append(results, map[string]any{"user_name": row.Name, "user_surname": row.Surname, "user_email": row.Email,
			"user_role": "user", "user_external_id": "", "user_is_deactivated": row.Deactivated, "lms_user_id": nil,
			"course_id": row.CourseID, "course_title": row.CourseTitle, "course_category": "IT & Software",
			"completion_ratio": row.CompletionRatio, "course_first_completion_date": first, "course_completion_date": first,
			"is_assigned": true})
	}
	var next any
	if to < len(match) {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		q.Set("page", strconv.Itoa(page+1))
		u.RawQuery = q.Encode()
		next = u.String()
	}
	writeJSON(w, 200, map[string]any{"count": len(match), "next": next, "previous": nil, "results": results})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
