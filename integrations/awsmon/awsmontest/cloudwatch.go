package awsmontest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// maxQueries is GetMetricData's limit of MetricDataQueries per call.
const maxQueries = 500

var queryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// getMetricData answers GetMetricData in Smithy RPC v2 CBOR: the stored
// points of each query's (dimension value, metric name) in [StartTime,
// EndTime), ordered by ScanBy (TimestampDescending by default, as AWS),
// paged by datapoints with NextToken.
func (s *Server) getMetricData(w http.ResponseWriter, r *http.Request, region string, body []byte) {
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		writeCBORError(w, 400, "ValidationError", "expected Smithy-Protocol rpc-v2-cbor and Content-Type application/cbor")
		return
	}
	call, maxPoints, err := decodeGetMetricData(body)
	call.Op, call.Region = OpGetMetricData, region
	if f := s.record(call); f != nil {
		writeCBORError(w, f.status, f.code, f.message)
		return
	}
	if err != nil {
		writeCBORError(w, 400, "ValidationError", err.Error())
		return
	}
	if len(call.Queries) > maxQueries {
		writeCBORError(w, 400, "ValidationError", fmt.Sprintf("The collection MetricDataQueries must not have a size greater than %d.", maxQueries))
		return
	}
	// Every query's points in the window, flattened in query order.
	type ref struct{ query, point int }
	perQuery := make([][]Point, len(call.Queries))
	var flat []ref
	s.mu.Lock()
	for qi, q := range call.Queries {
		for _, p := range s.points[metricKey{q.DimensionValue, q.MetricName}] {
			if !p.At.Before(call.Start) && p.At.Before(call.End) {
				perQuery[qi] = append(perQuery[qi], p)
			}
		}
		slices.SortFunc(perQuery[qi], func(a, b Point) int {
			if call.ScanBy == "TimestampAscending" {
				return a.At.Compare(b.At)
			}
			return b.At.Compare(a.At)
		})
		for pi := range perQuery[qi] {
			flat = append(flat, ref{qi, pi})
		}
	}
	s.mu.Unlock()
	from, to, next, err := s.page(OpGetMetricData, len(flat), maxPoints, call.NextToken)
	if err != nil {
		writeCBORError(w, 400, "InvalidNextToken", err.Error())
		return
	}
	results := make([]cbor.Map, len(call.Queries))
	for qi, q := range call.Queries {
		results[qi] = cbor.Map{"Id": cbor.String(q.ID), "Label": cbor.String(q.MetricName), "StatusCode": cbor.String("Complete"),
			"Timestamps": cbor.List{}, "Values": cbor.List{}, "Messages": cbor.List{}}
	}
	for _, rf := range flat[from:to] {
		p, m := perQuery[rf.query][rf.point], results[rf.query]
		m["Timestamps"] = append(m["Timestamps"].(cbor.List), &cbor.Tag{ID: 1, Value: cbor.Float64(float64(p.At.UnixMilli()) / 1e3)})
		m["Values"] = append(m["Values"].(cbor.List), cbor.Float64(p.Value))
	}
	for _, rf := range flat[to:] {
		results[rf.query]["StatusCode"] = cbor.String("PartialData")
	}
	list := cbor.List{}
	for _, m := range results {
		list = append(list, m)
	}
	resp := cbor.Map{"MetricDataResults": list, "Messages": cbor.List{}}
	if next != "" {
		resp["NextToken"] = cbor.String(next)
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(resp))
}

// decodeGetMetricData reads the CBOR input the SDK sends; the Call is filled
// as far as it could be decoded.
func decodeGetMetricData(body []byte) (Call, int, error) {
	var call Call
	v, err := cbor.Decode(body)
	if err != nil {
		return call, 0, fmt.Errorf("decode CBOR: %w", err)
	}
	in, ok := v.(cbor.Map)
	if !ok {
		return call, 0, fmt.Errorf("input is %T, not a map", v)
	}
	call.ScanBy, call.NextToken = str(in["ScanBy"]), str(in["NextToken"])
	maxPoints := 0
	if n, err := cbor.AsInt64(in["MaxDatapoints"]); err == nil {
		maxPoints = int(n)
	}
	if call.Start, err = cbor.AsTime(in["StartTime"]); err != nil {
		return call, 0, fmt.Errorf("StartTime: %w", err)
	}
	if call.End, err = cbor.AsTime(in["EndTime"]); err != nil {
		return call, 0, fmt.Errorf("EndTime: %w", err)
	}
	call.Start, call.End = call.Start.UTC(), call.End.UTC()
	if !call.Start.Before(call.End) {
		return call, 0, fmt.Errorf("the parameter StartTime must be less than the parameter EndTime")
	}
	queries, _ := in["MetricDataQueries"].(cbor.List)
	if len(queries) == 0 {
		return call, 0, fmt.Errorf("MetricDataQueries is required")
	}
	for i, qv := range queries {
		q, err := decodeQuery(qv)
		if err != nil {
			return call, 0, fmt.Errorf("MetricDataQueries[%d]: %w", i, err)
		}
		call.Queries = append(call.Queries, q)
	}
	return call, maxPoints, nil
}

func decodeQuery(v cbor.Value) (MetricQuery, error) {
	var q MetricQuery
	m, _ := v.(cbor.Map)
	stat, _ := m["MetricStat"].(cbor.Map)
	metric, _ := stat["Metric"].(cbor.Map)
	q.ID, q.Stat = str(m["Id"]), str(stat["Stat"])
	q.Namespace, q.MetricName = str(metric["Namespace"]), str(metric["MetricName"])
	if dims, _ := metric["Dimensions"].(cbor.List); len(dims) == 1 {
		d, _ := dims[0].(cbor.Map)
		q.DimensionName, q.DimensionValue = str(d["Name"]), str(d["Value"])
	}
	q.Period, _ = cbor.AsInt64(stat["Period"])
	switch {
	case !queryID.MatchString(q.ID):
		return q, fmt.Errorf("invalid Id %q: must start with a lower-case letter", q.ID)
	case q.MetricName == "" || q.Namespace == "" || q.Stat == "":
		return q, fmt.Errorf("only MetricStat queries with Namespace, MetricName and Stat are faked")
	case q.Period <= 0 || q.Period%60 != 0:
		return q, fmt.Errorf("invalid Period %d: must be a multiple of 60", q.Period)
	}
	return q, nil
}

func str(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

// writeCBORError answers in the rpcv2Cbor error shape: status, a CBOR map
// with __type and message, and (CloudWatch being query-compatible) the
// X-Amzn-Query-Error header.
func writeCBORError(w http.ResponseWriter, status int, code, message string) {
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", code+";"+fault)
	w.Header().Set("X-Amzn-Requestid", "fake-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(code), "message": cbor.String(message)}))
}
