// Package route53test is an in-process fake of Amazon Route 53 speaking the
// REST-XML wire format the aws-sdk-go-v2 route53 client uses, for exactly
// the calls opsbot makes: GetHostedZone (GET /2013-04-01/hostedzone/{id}),
// ListResourceRecordSets (GET /2013-04-01/hostedzone/{id}/rrset,
// name/type/maxitems paging),
// ChangeResourceRecordSets (POST .../rrset, CREATE/UPSERT/DELETE applied
// atomically) and GetChange (GET /2013-04-01/change/{id}, PENDING for
// PendingPolls polls and for PendingFor of wall time, then INSYNC). Zones
// live in memory.
package route53test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one HTTP request the fake received (failed ones included).
type Request struct {
	Method, Path, RawQuery, Body string
}

type zone struct {
	name string
	sets []Record // sorted as Route 53 lists them
}

type pendingChange struct {
	info  changeInfo
	polls int       // PENDING answers left
	until time.Time // PENDING before this, whatever the polls
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	URL string

	mu       sync.Mutex
	zones    map[string]*zone
	changes  map[string]*pendingChange
	nextID   int
	pending  int
	holdFor  time.Duration
	failNext []apiErr
	requests []Request
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{zones: map[string]*zone{}, changes: map[string]*pendingChange{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2013-04-01/hostedzone/{id}", s.getZone)
	mux.HandleFunc("GET /2013-04-01/hostedzone/{id}/rrset", s.list)
	mux.HandleFunc("POST /2013-04-01/hostedzone/{id}/rrset", s.change)
	mux.HandleFunc("POST /2013-04-01/hostedzone/{id}/rrset/", s.change)
	mux.HandleFunc("GET /2013-04-01/change/{id}", s.getChange)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path+" is not faked")
	})
	srv := httptest.NewServer(s.middleware(mux))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddZone adds an empty hosted zone (name like "acme.example.").
func (s *Server) AddZone(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones[id] = &zone{name: normName(name)}
}

// SetRecords adds or replaces record sets (by name and type) in a zone
// added with AddZone. Names are stored as Route 53 does ("*" as `\052`).
func (s *Server) SetRecords(zoneID string, recs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zoneID]
	if z == nil {
		panic("route53test: SetRecords on unknown zone " + zoneID)
	}
	for _, r := range recs {
		z.sets = upsert(z.sets, r)
	}
}

// Records returns a copy of a zone's record sets in listing order.
func (s *Server) Records(zoneID string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	if z := s.zones[zoneID]; z != nil {
		for _, r := range z.sets {
			out = append(out, r.clone())
		}
	}
	return out
}

// FailNext makes the next request (of any kind) fail with status and an
// AWS error body with code and message, e.g. (400, "Throttling", "Rate
// exceeded"), (403, "AccessDenied", "User: ... is not authorized to perform:
// route53:ChangeResourceRecordSets ..."), (500, "InternalFailure", "").
// Calls queue up, one per request.
func (s *Server) FailNext(status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, apiErr{status, code, message})
}

// PendingPolls sets how many GetChange polls answer PENDING before INSYNC,
// for changes submitted from now on (default 0: INSYNC at the first poll).
func (s *Server) PendingPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = n
}

// PendingFor keeps changes submitted from now on PENDING for d of wall
// time after their submission, as Route 53 does (commonly 30–60 s, and
// minutes at worst), whatever the number of polls.
func (s *Server) PendingFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdFor = d
}

// Changes returns how many change batches were accepted so far.
func (s *Server) Changes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.changes)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		s.mu.Lock()
		s.requests = append(s.requests, Request{r.Method, r.URL.Path, r.URL.RawQuery, string(body)})
		var fail *apiErr
		if len(s.failNext) > 0 {
			fail = &s.failNext[0]
			s.failNext = s.failNext[1:]
		}
		s.mu.Unlock()
		switch {
		case fail != nil:
			writeError(w, fail.status, fail.code, fail.message)
		case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
			writeError(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, typ := q.Get("name"), strings.ToUpper(q.Get("type"))
	if typ != "" && name == "" {
		writeError(w, 400, "InvalidInput", "The input is not valid: type requires name")
		return
	}
	maxItems := 300
	if v := q.Get("maxitems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, 400, "InvalidInput", "maxitems must be a positive integer")
			return
		}
		maxItems = min(n, 300)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[r.PathValue("id")]
	if z == nil {
		writeError(w, 404, "NoSuchHostedZone", "No hosted zone found with ID: "+r.PathValue("id"))
		return
	}
	i := 0
	if name != "" {
		i = slices.IndexFunc(z.sets, func(rec Record) bool { return compare(rec, Record{Name: name, Type: typ}) >= 0 })
		if i < 0 {
			i = len(z.sets)
		}
	}
	resp := listResponse{Xmlns: xmlns, MaxItems: maxItems, Sets: []Record{}}
	for ; i < len(z.sets) && len(resp.Sets) < maxItems; i++ {
		resp.Sets = append(resp.Sets, z.sets[i])
	}
	if i < len(z.sets) {
		resp.IsTruncated, resp.NextRecordName, resp.NextRecordType = true, z.sets[i].Name, z.sets[i].Type
	}
	writeXML(w, 200, resp)
}

func (s *Server) change(w http.ResponseWriter, r *http.Request) {
	var req changeRequest
	body, _ := io.ReadAll(r.Body)
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Changes) == 0 {
		writeError(w, 400, "InvalidInput", fmt.Sprintf("Invalid XML or no changes: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[r.PathValue("id")]
	if z == nil {
		writeError(w, 404, "NoSuchHostedZone", "No hosted zone found with ID: "+r.PathValue("id"))
		return
	}
	sets, err := apply(z, req.Changes)
	if err != nil {
		var ae *apiErr
		errors.As(err, &ae)
		writeError(w, ae.status, ae.code, ae.message)
		return
	}
	z.sets = sets
	s.nextID++
	id := fmt.Sprintf("C%012dFAKE", s.nextID)
	info := changeInfo{ID: "/change/" + id, Status: "PENDING", SubmittedAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), Comment: req.Comment}
	s.changes[id] = &pendingChange{info: info, polls: s.pending, until: time.Now().Add(s.holdFor)}
	writeXML(w, 200, changeResponse{XMLName: xml.Name{Local: "ChangeResourceRecordSetsResponse"}, Xmlns: xmlns, Info: info})
}

func (s *Server) getChange(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.changes[r.PathValue("id")]
	if c == nil {
		writeError(w, 404, "NoSuchChange", "A change with the specified change ID does not exist: "+r.PathValue("id"))
		return
	}
	switch {
	case c.polls > 0:
		c.polls--
	case time.Now().Before(c.until):
	default:
		c.info.Status = "INSYNC"
	}
	writeXML(w, 200, changeResponse{XMLName: xml.Name{Local: "GetChangeResponse"}, Xmlns: xmlns, Info: c.info})
}
