// Package detectifytest is a fake Detectify API v2 for tests. It serves the
// real paths under /rest (GET /rest/v2/profiles/, POST and GET
// /rest/v2/scans/{token}/, GET /rest/v2/vulnerabilities/) with Detectify's
// JSON shapes, and refuses what Detectify refuses:
//
//   - a missing or wrong X-Detectify-Key (HTTP Basic with the key as user
//     name is accepted too, as documented) → 401;
//   - with a secret set (SetSecret), a request without a valid
//     X-Detectify-Signature, or with a timestamp outside -10 s/+5 s of the
//     fake's clock → 401;
//   - a path without its trailing slash → 404;
//   - starting a scan on a malformed or unknown profile token → 400, on an
//     unverified domain → 423, while one runs on the profile → 409;
//   - the status of a profile with no scan running (or unknown) → 404, as
//     Detectify's own example documents;
//   - a findings marker it did not issue, or a page_size that is not a
//     positive number → 400 (larger pages are cut to MaxPageSize).
//
// Scans are scripted per profile (ScriptScan): each status poll moves the
// scan one step on, and after the last step the scan ends with the outcome
// and findings of its script. FailNext queues 429/5xx answers (with
// Retry-After) for the next requests.
//
// Where the reference is silent the fake chooses and says so: error bodies
// are {"error":{"code":N,"message":"..."}}; the signature covers the path
// from /v2 without the query.
package detectifytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// Key is the API key the fake accepts.
const Key = "detectifytest0key0b9c2f41d7e3a5"

// Step is one status a running scan reports.
type Step struct {
	Phase string // e.g. "crawling", "scanning"
	State string // e.g. "queued", "running"
}

// Scan scripts the next scan of a profile.
type Scan struct {
	// Steps are what successive status polls see; the poll after the last
	// one finds the scan ended. Default: one "scanning"/"running" step.
	Steps []Step
	// Outcome is latest_scan.status when it ends; default "completed".
	Outcome string
	// Findings replace the profile's findings when the scan completes
	// (findings the scan no longer reports disappear). Nil keeps them as
	// they are (the scan found the same).
	Findings []Finding
}

// Finding is a vulnerability as the fake lists it.
type Finding struct {
	UUID     string // "" omits the field
	Title    string
	Severity string // critical, high, medium, low, information
	Status   string // default "active"
	Host     string
	Location string
	CWE      int
	Tags     []string
	Created  time.Time // default: when the scan reporting it ended
}

// Profile is a scan profile.
type Profile struct {
	Name     string
	Endpoint string
	Verified bool
	Token    string // assigned by AddProfile when empty
}

type profile struct {
	Profile
	created  time.Time
	script   []Scan
	running  *running
	latest   *latestScan
	findings []*Finding
}

type running struct {
	scan    Scan
	started time.Time
	polls   int
}

type latestScan struct {
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Status  string    `json:"status"`
}

type failure struct {
	path   string // "" : any request
	status int
	header http.Header
	body   string
}

// Server is the fake. Point detectify.Config.APIURL at URL + "/rest".
type Server struct {
	*httptest.Server
	// MaxPageSize caps page_size like the API does; lower it to force pages.
	MaxPageSize int

	mu       sync.Mutex
	now      func() time.Time
	secret   []byte
	profiles []*profile
	markers  map[string]int // issued marker → offset
	fails    []failure
	requests map[string]int // "METHOD path" → count
	starts   map[string]int // profile token → accepted starts
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{MaxPageSize: 100, now: time.Now, markers: map[string]int{}, requests: map[string]int{}, starts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rest/v2/profiles/{$}", s.listProfiles)
	mux.HandleFunc("POST /rest/v2/scans/{token}/{$}", s.startScan)
	mux.HandleFunc("GET /rest/v2/scans/{token}/{$}", s.scanStatus)
	mux.HandleFunc("GET /rest/v2/vulnerabilities/{$}", s.listFindings)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, http.StatusNotFound, "Not found") })
	s.Server = httptest.NewServer(s.guard(mux))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the base to configure (the server URL with /rest).
func (s *Server) APIURL() string { return s.URL + "/rest" }

// SetSecret makes the key one with a secret (raw bytes; the client is given
// base64 of them): from now on every request must be signed.
func (s *Server) SetSecret(secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = slices.Clone(secret)
}

// SetClock replaces the fake's clock (signature window, timestamps).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// FailNext makes the next request answer status with header and body
// (empty: Detectify's error shape). Calls queue up.
func (s *Server) FailNext(status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{"", status, header, body})
}

// FailNextOn is FailNext for the next request to path (e.g.
// "/rest/v2/vulnerabilities/") only; other requests pass.
func (s *Server) FailNextOn(path string, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{path, status, header, body})
}

// Requests counts the requests that reached a handler (after the failure
// queue and authentication), by "METHOD /rest/v2/..." with the path's
// token as {token}.
func (s *Server) Requests(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// Starts counts the scans started through the API on a profile.
func (s *Server) Starts(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts[token]
}

// Running reports whether a scan runs on the profile.
func (s *Server) Running(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(token)
	return p != nil && p.running != nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
