package awsmontest

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const ec2Xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/"

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type xmlInstance struct {
	ID         string   `xml:"instanceId"`
	State      xmlState `xml:"instanceState"`
	Type       string   `xml:"instanceType"`
	LaunchTime string   `xml:"launchTime,omitempty"`
	AZ         string   `xml:"placement>availabilityZone"`
	PrivateIP  string   `xml:"privateIpAddress,omitempty"`
	PublicIP   string   `xml:"ipAddress,omitempty"`
	VpcID      string   `xml:"vpcId,omitempty"`
	Tags       []xmlTag `xml:"tagSet>item"`
}

type xmlReservation struct {
	ID        string        `xml:"reservationId"`
	OwnerID   string        `xml:"ownerId"`
	Instances []xmlInstance `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type xmlStatusSummary struct {
	Status string `xml:"status"`
}

type xmlInstanceStatus struct {
	ID             string           `xml:"instanceId"`
	AZ             string           `xml:"availabilityZone"`
	State          xmlState         `xml:"instanceState"`
	SystemStatus   xmlStatusSummary `xml:"systemStatus"`
	InstanceStatus xmlStatusSummary `xml:"instanceStatus"`
}

type describeInstanceStatusResponse struct {
	XMLName   xml.Name            `xml:"DescribeInstanceStatusResponse"`
	Xmlns     string              `xml:"xmlns,attr"`
	RequestID string              `xml:"requestId"`
	Statuses  []xmlInstanceStatus `xml:"instanceStatusSet>item"`
	NextToken string              `xml:"nextToken,omitempty"`
}

// selectInstances applies the InstanceId.N list and Filter.N filters of an
// EC2 request to the instances of region. An unknown explicit ID is EC2's
// InvalidInstanceID.NotFound, as in AWS.
func (s *Server) selectInstances(region string, form url.Values) ([]Instance, *failure) {
	ids := listParam(form, "InstanceId.")
	filters := parseFilters(form, "Filter.", "Value.")
	if len(ids) > 0 && form.Get("MaxResults") != "" {
		return nil, &failure{status: 400, code: "InvalidParameterCombination", message: "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Instance
	for _, i := range s.instances {
		if i.Region != region || len(ids) > 0 && !slices.Contains(ids, i.ID) {
			continue
		}
		ok, bad := matchInstance(i, filters)
		if bad != "" {
			return nil, &failure{status: 400, code: "InvalidParameterValue", message: "The filter '" + bad + "' is invalid"}
		}
		if ok {
			out = append(out, i)
		}
	}
	var missing []string
	for _, id := range ids {
		if !slices.ContainsFunc(s.instances, func(i Instance) bool { return i.ID == id && i.Region == region }) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, &failure{status: 400, code: "InvalidInstanceID.NotFound",
			message: fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))}
	}
	return out, nil
}

// matchInstance reports whether i passes every filter, or names the first
// filter the fake does not know.
func matchInstance(i Instance, filters map[string][]string) (ok bool, unknown string) {
	for name, values := range filters {
		var have string
		switch {
		case name == "instance-id":
			have = i.ID
		case name == "instance-state-name":
			have = i.State
		case name == "instance-type":
			have = i.Type
		case name == "tag:Name":
			have = i.Name
		case strings.HasPrefix(name, "tag:"):
			v, ok := i.Tags[strings.TrimPrefix(name, "tag:")]
			if !ok {
				return false, ""
			}
			have = v
		default:
			return false, name
		}
		if !slices.Contains(values, have) {
			return false, ""
		}
	}
	return true, ""
}

func (s *Server) describeInstances(w http.ResponseWriter, region string, form url.Values) {
	found, f := s.selectInstances(region, form)
	if f != nil {
		writeEC2Error(w, f.status, f.code, f.message)
		return
	}
	max, _ := strconv.Atoi(form.Get("MaxResults"))
	from, to, next, err := s.page(OpDescribeInstances, len(found), max, form.Get("NextToken"))
	if err != nil {
		writeEC2Error(w, 400, "InvalidParameterValue", err.Error())
		return
	}
	resp := describeInstancesResponse{Xmlns: ec2Xmlns, RequestID: "fake-request", NextToken: next, Reservations: []xmlReservation{}}
	for _, i := range found[from:to] {
		x := xmlInstance{ID: i.ID, State: xmlState{stateCodes[i.State], i.State}, Type: i.Type, AZ: i.Region + "a",
			PrivateIP: i.PrivateIP, PublicIP: s.publicIP(i), VpcID: i.VpcID}
		if !i.LaunchedAt.IsZero() {
			x.LaunchTime = i.LaunchedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if i.Name != "" {
			x.Tags = append(x.Tags, xmlTag{"Name", i.Name})
		}
		for _, k := range slices.Sorted(maps.Keys(i.Tags)) {
			x.Tags = append(x.Tags, xmlTag{k, i.Tags[k]})
		}
		resp.Reservations = append(resp.Reservations, xmlReservation{ID: "r-" + strings.TrimPrefix(i.ID, "i-"), OwnerID: "123456789012", Instances: []xmlInstance{x}})
	}
	writeXML(w, resp)
}

func (s *Server) describeInstanceStatus(w http.ResponseWriter, region string, form url.Values) {
	found, f := s.selectInstances(region, form)
	if f != nil {
		writeEC2Error(w, f.status, f.code, f.message)
		return
	}
	all := form.Get("IncludeAllInstances") == "true"
	var shown []Instance
	for _, i := range found {
		if i.State == "running" || all && i.State != "terminated" {
			shown = append(shown, i)
		}
	}
	max, _ := strconv.Atoi(form.Get("MaxResults"))
	from, to, next, err := s.page(OpDescribeInstanceStatus, len(shown), max, form.Get("NextToken"))
	if err != nil {
		writeEC2Error(w, 400, "InvalidParameterValue", err.Error())
		return
	}
	resp := describeInstanceStatusResponse{Xmlns: ec2Xmlns, RequestID: "fake-request", NextToken: next, Statuses: []xmlInstanceStatus{}}
	for _, i := range shown[from:to] {
		def := "not-applicable"
		if i.State == "running" {
			def = "ok"
		}
		resp.Statuses = append(resp.Statuses, xmlInstanceStatus{ID: i.ID, AZ: i.Region + "a", State: xmlState{stateCodes[i.State], i.State},
			SystemStatus: xmlStatusSummary{orDefault(i.SystemStatus, def)}, InstanceStatus: xmlStatusSummary{orDefault(i.InstanceStatus, def)}})
	}
	writeXML(w, resp)
}

// listParam reads a query-protocol list: prefix1, prefix2, ... in order.
func listParam(form url.Values, prefix string) []string {
	var out []string
	for n := 1; form.Has(prefix + strconv.Itoa(n)); n++ {
		out = append(out, form.Get(prefix+strconv.Itoa(n)))
	}
	return out
}

// parseFilters reads filters spelled <prefix>N.Name and <prefix>N.<valuePrefix>M
// (EC2: Filter.1.Name, Filter.1.Value.1; RDS: Filters.Filter.1.Name,
// Filters.Filter.1.Values.Value.1) into name → values.
func parseFilters(form url.Values, prefix, valuePrefix string) map[string][]string {
	out := map[string][]string{}
	for n := 1; form.Has(fmt.Sprintf("%s%d.Name", prefix, n)); n++ {
		p := fmt.Sprintf("%s%d.", prefix, n)
		out[form.Get(p+"Name")] = append(out[form.Get(p+"Name")], listParam(form, p+valuePrefix)...)
	}
	return out
}

func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// writeEC2Error answers in EC2's error shape:
// <Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors><RequestID>..</RequestID></Response>.
func writeEC2Error(w http.ResponseWriter, status int, code, message string) {
	type xmlErr struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	b, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Response"`
		Errors    []xmlErr `xml:"Errors>Error"`
		RequestID string   `xml:"RequestID"`
	}{Errors: []xmlErr{{code, message}}, RequestID: fmt.Sprintf("fake-%d", time.Now().UnixNano())})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
