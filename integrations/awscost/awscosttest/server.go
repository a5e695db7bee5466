// Package awscosttest is an in-process fake of AWS Cost Explorer speaking
// the AWS JSON 1.1 wire format the aws-sdk-go-v2 costexplorer client uses
// (POST /, X-Amz-Target: AWSInsightsIndexService.<Op>, Content-Type
// application/x-amz-json-1.1), for exactly the calls opsbot makes:
// GetCostAndUsage (DAILY, UnblendedCost, optionally grouped by SERVICE,
// Filter of LINKED_ACCOUNT / SERVICE dimensions, Tags, And / Or / Not,
// NextPageToken paging) and GetCostForecast (UNBLENDED_COST).
//
// Costs are line items a test sets per scope (a linked account and/or a cost
// allocation tag, as integrations.CostScope), day and service; a request's
// Filter is evaluated against each item, as Cost Explorer does with its
// billing data. Every request is recorded: Cost Explorer bills $0.01 each.
package awscosttest

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
	"time"

	"github.com/383project/opsbot/integrations"
)

// Operation names as in X-Amz-Target (after "AWSInsightsIndexService.").
const (
	OpGetCostAndUsage = "GetCostAndUsage"
	OpGetCostForecast = "GetCostForecast"
)

const targetPrefix = "AWSInsightsIndexService."

// Request is one request the fake received (failed ones included).
type Request struct {
	Op            string // OpGetCostAndUsage, OpGetCostForecast or the unknown target
	Filter        *Expression
	TimePeriod    DateInterval
	Granularity   string
	NextPageToken string
	Region        string // signing region from the SigV4 credential scope; "" when unsigned
	Status        int    // HTTP status of the answer
	Body          string
}

type itemKey struct {
	scope   integrations.CostScope
	day     time.Time
	service string
}

// item is one scope's cost of one service on one day. raw, when set, is
// sent instead of the formatted amount (to test a bad amount).
type item struct {
	amount float64
	raw    string
}

type failure struct {
	op     string // "" = any operation
	status int
	code   string
	left   int
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	URL string

	mu            sync.Mutex
	items         map[itemKey]item
	forecasts     map[integrations.CostScope]float64
	unit          string
	pageSize      int
	allowUnsigned bool
	failures      []failure
	requests      []Request
}

// New starts a fake closed at the end of the test. It answers amounts in
// USD, unpaginated, and only to SigV4-signed requests.
func New(t testing.TB) *Server {
	s := &Server{items: map[itemKey]item{}, forecasts: map[integrations.CostScope]float64{}, unit: "USD"}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetDaily sets the cost of service on day (its UTC date) for the resources
// scope describes: items of a scope with an account match LINKED_ACCOUNT
// filters for it, items of a scope with a tag match Tags filters for it.
func (s *Server) SetDaily(scope integrations.CostScope, day time.Time, service string, amount float64) {
	s.set(scope, day, service, item{amount: amount})
}

// SetDailyRaw is SetDaily with the amount exactly as sent on the wire, e.g.
// "12,50" to test a malformed amount.
func (s *Server) SetDailyRaw(scope integrations.CostScope, day time.Time, service, amount string) {
	s.set(scope, day, service, item{raw: amount})
}

func (s *Server) set(scope integrations.CostScope, day time.Time, service string, it item) {
	d := day.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[itemKey{scope, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), service}] = it
}

// SetForecast sets what GetCostForecast answers as Total for a request
// whose Filter matches scope (summed over matching scopes), whatever its
// period. A request matching no scope with a forecast fails with
// DataUnavailableException, as Cost Explorer does without history.
func (s *Server) SetForecast(scope integrations.CostScope, amount float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forecasts[scope] = amount
}

// SetUnit sets the Unit of every amount (default "USD").
func (s *Server) SetUnit(unit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unit = unit
}

// SetPageSize makes GetCostAndUsage answer at most n groups per page (a
// day without groups counts as one), with a NextPageToken; 0 = no paging.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// AllowUnsigned makes the fake accept requests without a SigV4
// Authorization header (a client built without credentials sends those).
func (s *Server) AllowUnsigned() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowUnsigned = true
}

// FailNext makes the next n requests of op (OpGetCostAndUsage,
// OpGetCostForecast, "" for any) fail with status and an AWS JSON 1.1 error
// of code, e.g. (400, "AccessDeniedException"), (400,
// "ThrottlingException"), (400, "LimitExceededException"), (500,
// "InternalServerError"), (400, "DataUnavailableException"). Calls queue up.
func (s *Server) FailNext(op string, status int, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{op: op, status: status, code: code, left: n})
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests of op were received ("" = all).
func (s *Server) Count(op string) int {
	n := 0
	for _, r := range s.Requests() {
		if op == "" || r.Op == op {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{Op: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix), Region: signingRegion(r), Body: string(body)}
	var in struct {
		Filter        *Expression
		TimePeriod    DateInterval
		Granularity   string
		NextPageToken string
	}
	_ = json.Unmarshal(body, &in) // a bad body is answered by the operation
	req.Filter, req.TimePeriod, req.Granularity, req.NextPageToken = in.Filter, in.TimePeriod, in.Granularity, in.NextPageToken

	rw := &recorder{ResponseWriter: w}
	defer func() {
		req.Status = rw.status
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	s.mu.Lock()
	allowUnsigned, fail := s.allowUnsigned, s.takeFailure(req.Op)
	s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		writeError(rw, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path+" is not an AWS JSON 1.1 operation")
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1"):
		writeError(rw, http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
	case auth == "" && !allowUnsigned:
		writeError(rw, http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case auth != "" && !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 "):
		writeError(rw, http.StatusBadRequest, "IncompleteSignatureException", "Authorization header requires AWS4-HMAC-SHA256")
	case auth != "" && !strings.Contains(auth, "/ce/aws4_request"):
		writeError(rw, http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'ce'.")
	case fail != nil:
		writeError(rw, fail.status, fail.code, message(fail.code, req.Op))
	case req.Op == OpGetCostAndUsage:
		s.costAndUsage(rw, body)
	case req.Op == OpGetCostForecast:
		s.costForecast(rw, body)
	default:
		writeError(rw, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("X-Amz-Target %q is not faked", r.Header.Get("X-Amz-Target")))
	}
}

// takeFailure pops the first queued failure for op; s.mu is held.
func (s *Server) takeFailure(op string) *failure {
	for i := range s.failures {
		f := &s.failures[i]
		if f.op != "" && f.op != op {
			continue
		}
		out := *f
		if f.left--; f.left <= 0 {
			s.failures = slices.Delete(s.failures, i, i+1)
		}
		return &out
	}
	return nil
}

// signingRegion is the region of the SigV4 credential scope
// ("Credential=AKID/20260101/us-east-1/ce/aws4_request").
func signingRegion(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}

// message is Cost Explorer's wording of code.
func message(code, op string) string {
	switch code {
	case "AccessDeniedException":
		return "User: arn:aws:iam::123456789012:user/opsbot is not authorized to perform: ce:" + op +
			" on resource: arn:aws:ce:us-east-1:123456789012:/" + op + " because no identity-based policy allows the ce:" + op + " action"
	case "ThrottlingException", "LimitExceededException":
		return "Rate exceeded"
	case "DataUnavailableException":
		return "Data is not available. Please try to adjust the time period. If you just enabled Cost Explorer, data might not be available yet"
	case "InternalServerError", "InternalFailure", "ServiceUnavailableException":
		return "We encountered an internal error. Please try again."
	}
	return code
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// writeError writes an AWS JSON 1.1 error: the code in X-Amzn-ErrorType and
// as "__type" in the body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"__type": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("00000000-0000-4000-8000-%012d", time.Now().UnixNano()%1e12))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
