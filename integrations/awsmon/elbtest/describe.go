package elbtest

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

type xmlAddress struct {
	IPAddress    string `xml:"IpAddress"`
	AllocationID string `xml:"AllocationId,omitempty"`
}

type xmlZone struct {
	ZoneName  string       `xml:"ZoneName"`
	SubnetID  string       `xml:"SubnetId"`
	Addresses []xmlAddress `xml:"LoadBalancerAddresses>member,omitempty"`
}

type xmlLoadBalancer struct {
	ARN           string    `xml:"LoadBalancerArn"`
	DNSName       string    `xml:"DNSName"`
	Name          string    `xml:"LoadBalancerName"`
	Scheme        string    `xml:"Scheme"`
	VpcID         string    `xml:"VpcId"`
	State         string    `xml:"State>Code"`
	Type          string    `xml:"Type"`
	Zones         []xmlZone `xml:"AvailabilityZones>member"`
	IPAddressType string    `xml:"IpAddressType"`
}

type describeLoadBalancersResponse struct {
	XMLName       xml.Name          `xml:"DescribeLoadBalancersResponse"`
	Xmlns         string            `xml:"xmlns,attr"`
	LoadBalancers []xmlLoadBalancer `xml:"DescribeLoadBalancersResult>LoadBalancers>member"`
	NextMarker    string            `xml:"DescribeLoadBalancersResult>NextMarker,omitempty"`
	RequestID     string            `xml:"ResponseMetadata>RequestId"`
}

// describeLoadBalancers answers DescribeLoadBalancers in region.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
func (s *Server) describeLoadBalancers(w http.ResponseWriter, region string, form url.Values) {
	arns, names := listParam(form, "LoadBalancerArns.member."), listParam(form, "Names.member.")
	switch {
	case len(arns) > 0 && len(names) > 0:
		writeError(w, 400, "ValidationError", "Load balancer names and load balancer ARNs cannot be specified at the same time")
		return
	case len(arns) > 20:
		writeError(w, 400, "ValidationError", "1 validation error detected: Value at 'loadBalancerArns' failed to satisfy constraint: Member must have length less than or equal to 20")
		return
	}
	s.mu.Lock()
	var in []LoadBalancer
	for _, lb := range s.lbs {
		if lb.Region == region && (len(arns) == 0 || slices.Contains(arns, lb.ARN())) && (len(names) == 0 || slices.Contains(names, lb.Name)) {
			in = append(in, lb)
		}
	}
	s.mu.Unlock()
	for _, a := range arns {
		if !slices.ContainsFunc(in, func(lb LoadBalancer) bool { return lb.ARN() == a }) {
			writeError(w, 400, "LoadBalancerNotFound", "One or more load balancers not found")
			return
		}
	}
	if len(names) > 0 && len(in) < len(names) {
		writeError(w, 400, "LoadBalancerNotFound", "One or more load balancers not found")
		return
	}
	from, to, next, err := s.page(OpDescribeLoadBalancers, len(in), form)
	if err != nil {
		writeError(w, 400, "ValidationError", err.Error())
		return
	}
	resp := describeLoadBalancersResponse{Xmlns: xmlns, NextMarker: next, RequestID: "fake-request", LoadBalancers: []xmlLoadBalancer{}}
	for n, lb := range in[from:to] {
		scheme := "internet-facing"
		if lb.Internal {
			scheme = "internal"
		}
		x := xmlLoadBalancer{ARN: lb.ARN(), DNSName: lb.Name + "-" + strconv.Itoa(from+n) + "." + region + ".elb.amazonaws.com", Name: lb.Name,
			Scheme: scheme, VpcID: lb.VpcID, State: "active", Type: lb.Type, IPAddressType: "ipv4"}
		for i, zone := range []string{"a", "b"} {
			z := xmlZone{ZoneName: region + zone, SubnetID: "subnet-0" + zone + strconv.Itoa(from+n)}
			if lb.Type == "network" && i < len(lb.Allocations) {
				z.Addresses = []xmlAddress{{IPAddress: "203.0.113." + strconv.Itoa(100+i), AllocationID: lb.Allocations[i]}}
			}
			x.Zones = append(x.Zones, z)
		}
		resp.LoadBalancers = append(resp.LoadBalancers, x)
	}
	writeXML(w, resp)
}

type xmlTargetGroup struct {
	ARN           string   `xml:"TargetGroupArn"`
	Name          string   `xml:"TargetGroupName"`
	Protocol      string   `xml:"Protocol,omitempty"`
	Port          int32    `xml:"Port,omitempty"`
	VpcID         string   `xml:"VpcId,omitempty"`
	TargetType    string   `xml:"TargetType"`
	LoadBalancers []string `xml:"LoadBalancerArns>member"`
}

type describeTargetGroupsResponse struct {
	XMLName      xml.Name         `xml:"DescribeTargetGroupsResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	TargetGroups []xmlTargetGroup `xml:"DescribeTargetGroupsResult>TargetGroups>member"`
	NextMarker   string           `xml:"DescribeTargetGroupsResult>NextMarker,omitempty"`
	RequestID    string           `xml:"ResponseMetadata>RequestId"`
}

// describeTargetGroups answers DescribeTargetGroups in region.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
func (s *Server) describeTargetGroups(w http.ResponseWriter, region string, form url.Values) {
	lbARN := form.Get("LoadBalancerArn")
	arns, names := listParam(form, "TargetGroupArns.member."), listParam(form, "Names.member.")
	if lbARN != "" && len(arns)+len(names) > 0 || len(arns) > 0 && len(names) > 0 {
		writeError(w, 400, "ValidationError", "A load balancer ARN, target group ARNs and target group names cannot be specified together")
		return
	}
	s.mu.Lock()
	lbName := map[string]string{} // ARN → name, in region
	for _, lb := range s.lbs {
		if lb.Region == region {
			lbName[lb.ARN()] = lb.Name
		}
	}
	var in []TargetGroup
	for _, tg := range s.tgs {
		if tg.Region != region || len(arns) > 0 && !slices.Contains(arns, tg.ARN()) || len(names) > 0 && !slices.Contains(names, tg.Name) ||
			lbARN != "" && !slices.Contains(tg.LoadBalancers, lbName[lbARN]) {
			continue
		}
		in = append(in, tg)
	}
	s.mu.Unlock()
	if _, ok := lbName[lbARN]; lbARN != "" && !ok {
		writeError(w, 400, "LoadBalancerNotFound", "Load balancer '"+lbARN+"' not found")
		return
	}
	if len(arns)+len(names) > len(in) {
		writeError(w, 400, "TargetGroupNotFound", "One or more target groups not found")
		return
	}
	from, to, next, err := s.page(OpDescribeTargetGroups, len(in), form)
	if err != nil {
		writeError(w, 400, "ValidationError", err.Error())
		return
	}
	resp := describeTargetGroupsResponse{Xmlns: xmlns, NextMarker: next, RequestID: "fake-request", TargetGroups: []xmlTargetGroup{}}
	for _, tg := range in[from:to] {
		x := xmlTargetGroup{ARN: tg.ARN(), Name: tg.Name, TargetType: tg.TargetType, LoadBalancers: []string{}}
		if tg.TargetType != "lambda" {
			x.Protocol, x.Port, x.VpcID = "HTTP", 80, tg.VpcID
		}
		for _, name := range tg.LoadBalancers {
			x.LoadBalancers = append(x.LoadBalancers, LoadBalancer{Name: name, Region: region, Type: s.lbType(region, name)}.ARN())
		}
		resp.TargetGroups = append(resp.TargetGroups, x)
	}
	writeXML(w, resp)
}

// lbType is the type of the load balancer called name in region.
func (s *Server) lbType(region, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range s.lbs {
		if lb.Region == region && lb.Name == name {
			return lb.Type
		}
	}
	return "application"
}

type xmlTargetHealth struct {
	ID     string `xml:"Target>Id"`
	Port   int32  `xml:"Target>Port"`
	State  string `xml:"TargetHealth>State"`
	Reason string `xml:"TargetHealth>Reason,omitempty"`
}

type describeTargetHealthResponse struct {
	XMLName   xml.Name          `xml:"DescribeTargetHealthResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	Targets   []xmlTargetHealth `xml:"DescribeTargetHealthResult>TargetHealthDescriptions>member"`
	RequestID string            `xml:"ResponseMetadata>RequestId"`
}

// describeTargetHealth answers DescribeTargetHealth for one target group
// of region: its registered targets, or the ones Targets.member.N names
// (an unregistered one as unused, Target.NotRegistered). Not paged.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
func (s *Server) describeTargetHealth(w http.ResponseWriter, region string, form url.Values) {
	tgARN := form.Get("TargetGroupArn")
	if tgARN == "" {
		writeError(w, 400, "ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null")
		return
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.tgs, func(tg TargetGroup) bool { return tg.Region == region && tg.ARN() == tgARN })
	var tg TargetGroup
	if i >= 0 {
		tg = s.tgs[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, 400, "TargetGroupNotFound", "Target groups '"+tgARN+"' not found")
		return
	}
	resp := describeTargetHealthResponse{Xmlns: xmlns, RequestID: "fake-request", Targets: []xmlTargetHealth{}}
	asked := listParam(form, "Targets.member.", ".Id")
	for _, t := range tg.Targets {
		if len(asked) == 0 || slices.Contains(asked, t.ID) {
			port := t.Port
			if port == 0 {
				port = 80
			}
			resp.Targets = append(resp.Targets, xmlTargetHealth{ID: t.ID, Port: port, State: orDefault(t.State, "healthy")})
		}
	}
	for _, id := range asked {
		if !slices.ContainsFunc(tg.Targets, func(t Target) bool { return t.ID == id }) {
			resp.Targets = append(resp.Targets, xmlTargetHealth{ID: id, Port: 80, State: "unused", Reason: "Target.NotRegistered"})
		}
	}
	writeXML(w, resp)
}

// listParam reads a Query list spelled <prefix>1<suffix>, <prefix>2<suffix>, ...
func listParam(form url.Values, prefix string, suffix ...string) []string {
	end := ""
	if len(suffix) > 0 {
		end = suffix[0]
	}
	var out []string
	for n := 1; form.Has(prefix + strconv.Itoa(n) + end); n++ {
		out = append(out, form.Get(prefix+strconv.Itoa(n)+end))
	}
	return out
}
