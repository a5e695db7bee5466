package awsmontest

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Address is an Elastic IP allocation the fake knows (VPC domain).
type Address struct {
	AllocationID string // eipalloc-...
	PublicIP     string
	Region       string
	// InstanceID is the instance it is associated with ("" when not
	// associated); the instance then shows PublicIP as its public address.
	InstanceID string
}

// AddAddresses adds Elastic IP allocations.
func (s *Server) AddAddresses(as ...Address) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		a.Region = orDefault(a.Region, DefaultRegion)
		s.addresses = append(s.addresses, a)
	}
	slices.SortFunc(s.addresses, func(a, b Address) int { return strings.Compare(a.AllocationID, b.AllocationID) })
}

// publicIP is the public address DescribeInstances shows for i: its
// associated Elastic IP, else its auto-assigned address while it runs.
func (s *Server) publicIP(i Instance) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.addresses {
		if a.InstanceID == i.ID && a.Region == i.Region {
			return a.PublicIP
		}
	}
	if i.State != "running" {
		return ""
	}
	return i.PublicIP
}

type xmlAddress struct {
	PublicIP      string `xml:"publicIp"`
	AllocationID  string `xml:"allocationId"`
	Domain        string `xml:"domain"`
	InstanceID    string `xml:"instanceId,omitempty"`
	AssociationID string `xml:"associationId,omitempty"`
}

type describeAddressesResponse struct {
	XMLName   xml.Name     `xml:"DescribeAddressesResponse"`
	Xmlns     string       `xml:"xmlns,attr"`
	RequestID string       `xml:"requestId"`
	Addresses []xmlAddress `xml:"addressesSet>item"`
}

// describeAddresses answers DescribeAddresses in region. It is not paged
// (the API has no MaxResults); AllocationId.N and PublicIp.N naming an
// address EC2 does not know fail the whole call, as in AWS; filters other
// than allocation-id, instance-id, public-ip and domain are refused.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html
func (s *Server) describeAddresses(w http.ResponseWriter, region string, form url.Values) {
	if form.Has("MaxResults") || form.Has("NextToken") {
		writeEC2Error(w, 400, "InvalidParameter", "The request must not contain the parameter MaxResults")
		return
	}
	ids, ips := listParam(form, "AllocationId."), listParam(form, "PublicIp.")
	filters := parseFilters(form, "Filter.", "Value.")
	s.mu.Lock()
	var in []Address
	for _, a := range s.addresses {
		if a.Region == region {
			in = append(in, a)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		if !slices.ContainsFunc(in, func(a Address) bool { return a.AllocationID == id }) {
			writeEC2Error(w, 400, "InvalidAllocationID.NotFound", "The allocation ID '"+id+"' does not exist")
			return
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(in, func(a Address) bool { return a.PublicIP == ip }) {
			writeEC2Error(w, 400, "InvalidAddress.NotFound", "Address '"+ip+"' not found.")
			return
		}
	}
	resp := describeAddressesResponse{Xmlns: ec2Xmlns, RequestID: "fake-request", Addresses: []xmlAddress{}}
	for _, a := range in {
		if len(ids) > 0 && !slices.Contains(ids, a.AllocationID) || len(ips) > 0 && !slices.Contains(ips, a.PublicIP) {
			continue
		}
		ok := true
		for name, values := range filters {
			var have string
			switch name {
			case "allocation-id":
				have = a.AllocationID
			case "instance-id":
				have = a.InstanceID
			case "public-ip":
				have = a.PublicIP
			case "domain":
				have = "vpc"
			default:
				writeEC2Error(w, 400, "InvalidParameterValue", "The filter '"+name+"' is invalid")
				return
			}
			ok = ok && slices.Contains(values, have)
		}
		if !ok {
			continue
		}
		x := xmlAddress{PublicIP: a.PublicIP, AllocationID: a.AllocationID, Domain: "vpc", InstanceID: a.InstanceID}
		if a.InstanceID != "" {
			x.AssociationID = "eipassoc-" + strings.TrimPrefix(a.AllocationID, "eipalloc-")
		}
		resp.Addresses = append(resp.Addresses, x)
	}
	writeXML(w, resp)
}
