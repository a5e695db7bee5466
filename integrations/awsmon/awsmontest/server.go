// Package awsmontest is an in-process fake of the three AWS APIs opsbot's
// server monitor reads, speaking the wire formats the aws-sdk-go-v2 clients
// use: EC2 DescribeInstances, DescribeInstanceStatus and (for the Shield
// check) DescribeAddresses (ec2query: form POST
// /, XML reply), RDS DescribeDBInstances (awsquery: form POST /, XML with a
// <DescribeDBInstancesResult> wrapper) and CloudWatch GetMetricData (Smithy
// RPC v2 CBOR: POST /service/GraniteServiceVersion20100801/operation/
// GetMetricData). One server answers all three; point every SDK client's
// BaseEndpoint at URL.
//
// Regions are honoured: the region is read from the SigV4 credential scope of
// the Authorization header, and a call only sees resources added in that
// region (an empty Region when adding means DefaultRegion). Unsigned
// requests are rejected with MissingAuthenticationToken.
package awsmontest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Operation names, as used by FailNext, SetPageSize and Calls.
const (
	OpDescribeInstances      = "DescribeInstances"
	OpDescribeInstanceStatus = "DescribeInstanceStatus"
	OpDescribeDBInstances    = "DescribeDBInstances"
	OpGetMetricData          = "GetMetricData"
	OpDescribeAddresses      = "DescribeAddresses"
)

// DefaultRegion is the region of resources added without one.
const DefaultRegion = "us-east-1"

// DefaultVPC is the VPC of instances added without one.
const DefaultVPC = "vpc-0d3fa017c0ffee000"

const cloudWatchPath = "/service/GraniteServiceVersion20100801/operation/GetMetricData"

// Instance is an EC2 instance the fake knows.
type Instance struct {
	ID, Name, Type string
	State          string // running (default), stopped, ...
	Region         string
	Tags           map[string]string // besides Name
	LaunchedAt     time.Time
	// SystemStatus and InstanceStatus are the status checks DescribeInstanceStatus
	// reports; empty means "ok" when running, "not-applicable" otherwise.
	SystemStatus, InstanceStatus string
	// PrivateIP is the primary private address; PublicIP an auto-assigned
	// public address ("" for none). An Elastic IP associated with the
	// instance (AddAddresses) replaces it, as in EC2, and only a running
	// instance shows a public address.
	PrivateIP, PublicIP string
	// VpcID is its VPC (DefaultVPC when empty): a load balancer's ip
	// targets name private addresses within one VPC.
	VpcID string
}

// DBInstance is an RDS DB instance the fake knows.
type DBInstance struct {
	ID, Class, Engine string
	Status            string // available (default), stopped, ...
	Region            string
	StorageGiB        int32
	Tags              map[string]string
	// BackupRetention is BackupRetentionPeriod in days; 0: automated
	// backups off (AWS always sends the field).
	BackupRetention int32
}

// Point is one metric datapoint.
type Point struct {
	At    time.Time
	Value float64
}

// MetricQuery is one MetricDataQuery of a GetMetricData call, as decoded.
type MetricQuery struct {
	ID, Namespace, MetricName, DimensionName, DimensionValue, Stat string
	Period                                                         int64
}

// Call is one request the fake received (failed ones included).
type Call struct {
	Op     string
	Region string
	Form   url.Values // EC2 and RDS: the form body
	// GetMetricData only.
	Queries           []MetricQuery
	Start, End        time.Time
	ScanBy, NextToken string
}

type failure struct {
	left          int
	status        int
	code, message string
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	URL string

	mu        sync.Mutex
	instances []Instance
	dbs       []DBInstance
	addresses []Address
	points    map[metricKey][]Point
	pageSize  map[string]int
	fail      map[string]*failure
	calls     []Call
}

type metricKey struct{ resource, metric string }

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{points: map[metricKey][]Point{}, pageSize: map[string]int{}, fail: map[string]*failure{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddInstances adds EC2 instances.
func (s *Server) AddInstances(in ...Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range in {
		i.Region = orDefault(i.Region, DefaultRegion)
		i.State = orDefault(i.State, "running")
		i.VpcID = orDefault(i.VpcID, DefaultVPC)
		s.instances = append(s.instances, i)
	}
	slices.SortFunc(s.instances, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
}

// AddDBInstances adds RDS DB instances; one with the identifier of an
// existing one in its region replaces it (identifiers are unique there).
func (s *Server) AddDBInstances(dbs ...DBInstance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range dbs {
		d.Region = orDefault(d.Region, DefaultRegion)
		d.Status = orDefault(d.Status, "available")
		s.dbs = slices.DeleteFunc(s.dbs, func(o DBInstance) bool { return o.ID == d.ID && o.Region == d.Region })
		s.dbs = append(s.dbs, d)
	}
	slices.SortFunc(s.dbs, func(a, b DBInstance) int { return strings.Compare(a.ID, b.ID) })
}

// AddPoints adds datapoints of one CloudWatch metric (e.g. "CPUUtilization")
// of one resource (the InstanceId or DBInstanceIdentifier dimension value),
// in any order. GetMetricData returns the stored values whatever the Stat.
func (s *Server) AddPoints(resource, metricName string, pts ...Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := metricKey{resource, metricName}
	s.points[k] = append(s.points[k], pts...)
}

// SetPageSize makes op answer at most n items a page (instances, statuses,
// DB instances; datapoints for GetMetricData), paging with NextToken or
// Marker. 0 (the default) returns everything at once unless the request
// asks for fewer (MaxResults / MaxRecords / MaxDatapoints).
func (s *Server) SetPageSize(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize[op] = n
}

// FailNext makes the next n calls of op fail with HTTP status and an error
// in the service's own shape carrying code and message, e.g.
// (OpDescribeInstances, 1, 403, "UnauthorizedOperation", "You are not
// authorized to perform this operation.").
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
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	region, ok := signingRegion(r.Header.Get("Authorization"))
	if r.URL.Path == cloudWatchPath {
		if !ok {
			writeCBORError(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
			return
		}
		s.getMetricData(w, r, region, body)
		return
	}
	form, err := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || r.URL.Path != "/" || err != nil {
		http.Error(w, fmt.Sprintf("awsmontest: %s %s is not faked", r.Method, r.URL.Path), http.StatusNotFound)
		return
	}
	op := form.Get("Action")
	var handle func(http.ResponseWriter, string, url.Values)
	writeErr := writeEC2Error
	switch op {
	case OpDescribeInstances:
		handle = s.describeInstances
	case OpDescribeInstanceStatus:
		handle = s.describeInstanceStatus
	case OpDescribeDBInstances:
		handle, writeErr = s.describeDBInstances, writeRDSError
	case OpDescribeAddresses:
		handle = s.describeAddresses
	default:
		writeEC2Error(w, http.StatusBadRequest, "InvalidAction", "The action "+op+" is not valid for this web service.")
		return
	}
	if !ok {
		writeErr(w, http.StatusForbidden, "MissingAuthenticationToken", "Missing Authentication Token")
		return
	}
	if f := s.record(Call{Op: op, Region: region, Form: form}); f != nil {
		writeErr(w, f.status, f.code, f.message)
		return
	}
	handle(w, region, form)
}

// record logs c and returns the failure to answer with, if one is queued.
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

// signingRegion reads the region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ec2/aws4_request, ...".
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
	if len(parts) != 5 {
		return "", false
	}
	return parts[2], true
}

// page returns the [from, to) window of n items for a request asking for
// max items (0 = no limit) after token, and the next token ("" at the end).
func (s *Server) page(op string, n, max int, token string) (from, to int, next string, err error) {
	if token != "" {
		if _, err := fmt.Sscanf(token, "tok-%d", &from); err != nil || from < 0 || from > n {
			return 0, 0, "", fmt.Errorf("invalid token %q", token)
		}
	}
	s.mu.Lock()
	size := s.pageSize[op]
	s.mu.Unlock()
	if size <= 0 || max > 0 && max < size {
		size = max
	}
	to = n
	if size > 0 && from+size < n {
		to = from + size
		next = fmt.Sprintf("tok-%d", to)
	}
	return from, to, next, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
