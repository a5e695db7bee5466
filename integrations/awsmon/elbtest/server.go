// Package elbtest is an in-process fake of the Elastic Load Balancing v2
// API (application and network load balancers) opsbot reads to know which
// load balancers stand in front of an EC2 instance: DescribeLoadBalancers,
// DescribeTargetGroups and DescribeTargetHealth. It speaks the AWS Query
// protocol as aws-sdk-go-v2's service/elasticloadbalancingv2 does: form
// POST / with Action and Version=2015-12-01, XML replies in the
// elasticloadbalancing 2015-12-01 namespace with an <OpResult> wrapper,
// paging by Marker/NextMarker, errors as <ErrorResponse> XML.
//
// It refuses what ELB refuses: unsigned requests
// (MissingAuthenticationToken), another API version or an unknown action
// (InvalidAction), LoadBalancerArns and Names together, a target-group
// filter beside LoadBalancerArn, more than 20 ARNs, a PageSize outside
// 1..400 and a Marker it did not hand out (ValidationError), and an ARN it
// does not know in the signing region (LoadBalancerNotFound,
// TargetGroupNotFound). Resources are regional: a call sees only those of
// the region in its SigV4 credential scope.
package elbtest

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Operation names, as used by FailNext, SetPageSize and Calls.
const (
	OpDescribeLoadBalancers = "DescribeLoadBalancers"
	OpDescribeTargetGroups  = "DescribeTargetGroups"
	OpDescribeTargetHealth  = "DescribeTargetHealth"
)

// DefaultRegion and DefaultVPC are those of resources added without one:
// awsmontest's, so that instances and target groups of a test meet
// (a package may not import another's fake).
const (
	DefaultRegion = "us-east-1"
	DefaultVPC    = "vpc-0d3fa017c0ffee000"
)

// Account is the account ID in the ARNs the fake makes.
const Account = "123456789012"

const (
	version = "2015-12-01"
	xmlns   = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// LoadBalancer is an application, network or gateway load balancer.
type LoadBalancer struct {
	Name     string
	Region   string // DefaultRegion when empty
	Type     string // application (default), network or gateway
	Internal bool   // scheme internal; internet-facing otherwise
	VpcID    string // DefaultVPC when empty
	// Allocations are the Elastic IP allocations of a network load
	// balancer's subnet mappings (Shield protects an NLB only through them).
	Allocations []string
}

// ARN is the load balancer's ARN, e.g.
// arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef.
func (lb LoadBalancer) ARN() string {
	kind := map[string]string{"application": "app", "network": "net", "gateway": "gwy"}[orDefault(lb.Type, "application")]
	return arn(orDefault(lb.Region, DefaultRegion), "loadbalancer/"+kind+"/"+lb.Name)
}

// TargetGroup is a target group and the load balancers forwarding to it.
type TargetGroup struct {
	Name          string
	Region        string   // DefaultRegion when empty
	TargetType    string   // instance (default), ip, lambda or alb
	VpcID         string   // DefaultVPC when empty
	LoadBalancers []string // names of the load balancers (same region) whose listeners forward to it
	Targets       []Target
}

// ARN is the target group's ARN.
func (tg TargetGroup) ARN() string {
	return arn(orDefault(tg.Region, DefaultRegion), "targetgroup/"+tg.Name)
}

// Target is one registered target: an instance ID or an IP address.
type Target struct {
	ID    string
	Port  int32  // 80 when 0
	State string // healthy (default), unhealthy, unused, draining, initial, unavailable
}

// Call is one request the fake received (refused ones included).
type Call struct {
	Op, Region string
	Form       url.Values
}

type failure struct {
	left          int
	status        int
	code, message string
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	mu       sync.Mutex
	lbs      []LoadBalancer
	tgs      []TargetGroup
	pageSize map[string]int
	fail     map[string]*failure
	calls    []Call
}

// New starts a fake with no load balancers, closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{pageSize: map[string]int{}, fail: map[string]*failure{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddLoadBalancers adds load balancers.
func (s *Server) AddLoadBalancers(lbs ...LoadBalancer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range lbs {
		lb.Region = orDefault(lb.Region, DefaultRegion)
		lb.Type = orDefault(lb.Type, "application")
		lb.VpcID = orDefault(lb.VpcID, DefaultVPC)
		s.lbs = append(s.lbs, lb)
	}
	slices.SortFunc(s.lbs, func(a, b LoadBalancer) int { return strings.Compare(a.ARN(), b.ARN()) })
}

// AddTargetGroups adds target groups.
func (s *Server) AddTargetGroups(tgs ...TargetGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tg := range tgs {
		tg.Region = orDefault(tg.Region, DefaultRegion)
		tg.TargetType = orDefault(tg.TargetType, "instance")
		tg.VpcID = orDefault(tg.VpcID, DefaultVPC)
		s.tgs = append(s.tgs, tg)
	}
	slices.SortFunc(s.tgs, func(a, b TargetGroup) int { return strings.Compare(a.ARN(), b.ARN()) })
}

// SetPageSize makes op (DescribeLoadBalancers, DescribeTargetGroups) answer
// at most n items a page when the request does not ask for fewer; 0 (the
// default) is ELB's own page of 400.
func (s *Server) SetPageSize(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize[op] = n
}

// FailNext makes the next n calls of op fail with HTTP status and an
// ErrorResponse of code, e.g. (OpDescribeTargetHealth, 1, 400,
// "AccessDenied", "User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth").
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
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/" {
		http.Error(w, fmt.Sprintf("elbtest: %s %s is not faked", r.Method, r.URL.Path), http.StatusNotFound)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, 400, "MalformedQueryString", "The query string is malformed")
		return
	}
	op := form.Get("Action")
	handle := map[string]func(http.ResponseWriter, string, url.Values){
		OpDescribeLoadBalancers: s.describeLoadBalancers,
		OpDescribeTargetGroups:  s.describeTargetGroups,
		OpDescribeTargetHealth:  s.describeTargetHealth,
	}[op]
	if handle == nil || form.Get("Version") != version {
		writeError(w, 400, "InvalidAction", "Could not find operation "+op+" for version "+form.Get("Version"))
		return
	}
	region, ok := signingRegion(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, 403, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	if f := s.record(Call{Op: op, Region: region, Form: form}); f != nil {
		writeError(w, f.status, f.code, f.message)
		return
	}
	handle(w, region, form)
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

// page is the [from, to) window of n items after marker for a request's
// PageSize, and the next marker ("" at the end).
func (s *Server) page(op string, n int, form url.Values) (from, to int, next string, err error) {
	size := 400
	s.mu.Lock()
	if p := s.pageSize[op]; p > 0 {
		size = p
	}
	s.mu.Unlock()
	if v := form.Get("PageSize"); v != "" {
		p, perr := strconv.Atoi(v)
		if perr != nil || p < 1 || p > 400 {
			return 0, 0, "", fmt.Errorf("1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", v)
		}
		size = min(size, p)
	}
	if m := form.Get("Marker"); m != "" {
		if _, serr := fmt.Sscanf(m, "elb-marker-%d", &from); serr != nil || from <= 0 || from > n {
			return 0, 0, "", fmt.Errorf("invalid marker %q", m)
		}
	}
	to = min(from+size, n)
	if to < n {
		next = fmt.Sprintf("elb-marker-%d", to)
	}
	return from, to, next, nil
}

// signingRegion reads the region of a SigV4 Authorization header's
// credential scope ("Credential=AKID/20260101/eu-west-1/elasticloadbalancing/aws4_request").
func signingRegion(auth string) (string, bool) {
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "", false
	}
	_, cred, ok := strings.Cut(rest, "Credential=")
	if !ok {
		return "", false
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "elasticloadbalancing" {
		return "", false
	}
	return parts[2], true
}

// arn makes an ELB ARN whose last part is a stable 16-hex ID, as AWS's are.
func arn(region, resource string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(region + "/" + resource))
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s/%016x", region, Account, resource, h.Sum64())
}

func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

// writeError answers in the Query protocol's error shape:
// <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
func writeError(w http.ResponseWriter, status int, code, message string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	b, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: xmlns, Type: typ, Code: code, Message: message, RequestID: "fake-request"})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
