// Package shieldtest is an in-process fake of the AWS Shield Advanced API
// opsbot reads (GetSubscriptionState, ListProtections), speaking AWS JSON
// 1.1 as aws-sdk-go-v2's service/shield does: POST /, Content-Type
// application/x-amz-json-1.1, X-Amz-Target AWSShield_20160616.<Op>, errors
// as HTTP 400 {"__type": code, "message": ...}.
//
// It refuses what Shield refuses: unsigned requests, requests signed for any
// region but us-east-1 (Shield has one endpoint for every region),
// ListProtections on an account without a subscription
// (ResourceNotFoundException "The subscription does not exist."), a
// MaxResults outside 0..10000, a NextToken it did not hand out, more than
// one value per inclusion filter, and unknown operations.
package shieldtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Operation names, as used by FailNext and Calls.
const (
	OpGetSubscriptionState = "GetSubscriptionState"
	OpListProtections      = "ListProtections"
)

const targetPrefix = "AWSShield_20160616."

// Protection is a protected resource.
type Protection struct {
	ID, Name, ResourceARN string
}

// Call is one request the fake received (refused ones included).
type Call struct {
	Op, Region string
	Body       map[string]any
}

type failure struct {
	left          int
	status        int
	code, message string
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu          sync.Mutex
	active      bool
	protections []Protection
	pageSize    int
	fail        map[string]*failure
	calls       []Call
	seq         int
}

// New starts a fake account without a Shield Advanced subscription, closed
// at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{fail: map[string]*failure{}, pageSize: 20}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetSubscription makes the account's Shield Advanced subscription active or not.
func (s *Server) SetSubscription(active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = active
}

// Protect adds a protection of resourceARN (e.g. an Elastic IP allocation's
// arn:aws:ec2:<region>:<account>:eip-allocation/eipalloc-...).
func (s *Server) Protect(name, resourceARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("a1b2c3d4-5678-90ab-cdef-%012d", s.seq)
	s.protections = append(s.protections, Protection{ID: id, Name: name, ResourceARN: resourceARN})
}

// Unprotect removes the protections of resourceARN.
func (s *Server) Unprotect(resourceARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.protections = slices.DeleteFunc(s.protections, func(p Protection) bool { return p.ResourceARN == resourceARN })
}

// SetPageSize is how many protections a page holds when the request does
// not ask for fewer (Shield's default is 20).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// FailNext makes the next n calls of op fail with status and a JSON 1.1
// error of code, e.g. (OpListProtections, 1, 400, "ThrottlingException", "Rate exceeded").
func (s *Server) FailNext(op string, n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[op] = &failure{left: n, status: status, code: code, message: message}
}

// Calls returns the calls received so far, of the given ops (all when none).
func (s *Server) Calls(ops ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		http.Error(w, "shieldtest: "+r.Method+" "+r.URL.Path+" is not faked", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, 400, "SerializationException", "Unexpected content type "+ct)
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok || op != OpGetSubscriptionState && op != OpListProtections {
		writeError(w, 400, "UnknownOperationException", "Unknown operation "+r.Header.Get("X-Amz-Target"))
		return
	}
	body := map[string]any{}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		writeError(w, 400, "SerializationException", "The request body is not a JSON object")
		return
	}
	region, signed := signingRegion(r.Header.Get("Authorization"))
	if f := s.record(Call{Op: op, Region: region, Body: body}); f != nil {
		writeError(w, f.status, f.code, f.message)
		return
	}
	switch {
	case !signed:
		writeError(w, 403, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	case region != "us-east-1":
		writeError(w, 403, "InvalidSignatureException", "Credential should be scoped to a valid region, not '"+region+"'. ")
		return
	}
	if op == OpGetSubscriptionState {
		s.mu.Lock()
		state := map[bool]string{true: "ACTIVE", false: "INACTIVE"}[s.active]
		s.mu.Unlock()
		writeJSON(w, map[string]any{"SubscriptionState": state})
		return
	}
	s.listProtections(w, body)
}

// listProtections pages the protections matching the inclusion filters.
// https://docs.aws.amazon.com/waf/latest/DDOSAPIReference/API_ListProtections.html
func (s *Server) listProtections(w http.ResponseWriter, body map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		writeError(w, 400, "ResourceNotFoundException", "The subscription does not exist.")
		return
	}
	size := s.pageSize
	if v, ok := body["MaxResults"]; ok {
		n, isNum := v.(float64)
		if !isNum || n < 0 || n > 10000 || n != float64(int(n)) {
			writeError(w, 400, "InvalidParameterException", "MaxResults must be between 0 and 10000")
			return
		}
		if n > 0 && int(n) < size {
			size = int(n)
		}
	}
	var arns, names []string
	if f, ok := body["InclusionFilters"].(map[string]any); ok {
		for key, dst := range map[string]*[]string{"ResourceArns": &arns, "ProtectionNames": &names, "ResourceTypes": nil} {
			list, _ := f[key].([]any)
			if len(list) > 1 {
				writeError(w, 400, "InvalidParameterException", "Only one value is allowed in "+key)
				return
			}
			for _, v := range list {
				if dst != nil {
					str, _ := v.(string)
					*dst = append(*dst, str)
				}
			}
		}
	}
	var match []Protection
	for _, p := range s.protections {
		if (len(arns) == 0 || arns[0] == p.ResourceARN) && (len(names) == 0 || names[0] == p.Name) {
			match = append(match, p)
		}
	}
	from := 0
	if tok, ok := body["NextToken"].(string); ok {
		if _, err := fmt.Sscanf(tok, "shield-tok-%d", &from); err != nil || from <= 0 || from > len(match) {
			writeError(w, 400, "InvalidPaginationTokenException", "The pagination token is invalid")
			return
		}
	}
	to := min(from+size, len(match))
	out := map[string]any{}
	items := []map[string]any{}
	for _, p := range match[from:to] {
		items = append(items, map[string]any{"Id": p.ID, "Name": p.Name, "ResourceArn": p.ResourceARN,
			"ProtectionArn": "arn:aws:shield::123456789012:protection/" + p.ID, "HealthCheckIds": []string{}})
	}
	out["Protections"] = items
	if to < len(match) {
		out["NextToken"] = fmt.Sprintf("shield-tok-%d", to)
	}
	writeJSON(w, out)
}

func (s *Server) record(c Call) *failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	f := s.fail[c.Op]
	if f == nil || f.left <= 0 {
		return nil
	}
	f.left--
	return f
}

// signingRegion reads the region of a SigV4 Authorization header's
// credential scope ("Credential=AKID/20260101/us-east-1/shield/aws4_request").
func signingRegion(auth string) (string, bool) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", false
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", false
	}
	return parts[2], true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "fake-request")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
