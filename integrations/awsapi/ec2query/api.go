package ec2query

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Filter is one EC2 filter: Name (e.g. "instance-id", "tag:client") and
// the values any of which matches.
type Filter struct {
	Name   string
	Values []string
}

// Tag is a resource tag.
type Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// NetworkInterface is an instance's network interface: its VPC and every
// private address on it.
type NetworkInterface struct {
	VpcID      string   `xml:"vpcId"`
	PrivateIPs []string `xml:"privateIpAddressesSet>item>privateIpAddress"`
}

// Instance is the part of an EC2 instance opsbot reads.
type Instance struct {
	InstanceID   string `xml:"instanceId"`
	InstanceType string `xml:"instanceType"`
	State        string `xml:"instanceState>name"` // pending, running, stopped, ...
	// LaunchTime is zero when EC2 sends none or one that does not parse.
	LaunchTime        time.Time          `xml:"-"`
	PrivateIP         string             `xml:"privateIpAddress"`
	PublicIP          string             `xml:"ipAddress"`
	VpcID             string             `xml:"vpcId"`
	Tags              []Tag              `xml:"tagSet>item"`
	NetworkInterfaces []NetworkInterface `xml:"networkInterfaceSet>item"`
}

// Tag returns the value of the tag key ("" when absent).
func (i Instance) Tag(key string) string {
	for _, t := range i.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// xmlInstance reads launchTime leniently: the SDK's types would fail the
// whole page on one odd timestamp.
type xmlInstance struct {
	Instance
	LaunchTime string `xml:"launchTime"`
}

// instancesPage is one DescribeInstancesResponse.
type instancesPage struct {
	Reservations []struct {
		Instances []xmlInstance `xml:"instancesSet>item"`
	} `xml:"reservationSet>item"`
	NextToken string `xml:"nextToken"`
}

func (p instancesPage) instances() []Instance {
	var out []Instance
	for _, r := range p.Reservations {
		for _, x := range r.Instances {
			x.Instance.LaunchTime, _ = time.Parse(time.RFC3339, x.LaunchTime)
			out = append(out, x.Instance)
		}
	}
	return out
}

// statusPage is one DescribeInstanceStatusResponse.
type statusPage struct {
	Statuses  []InstanceStatus `xml:"instanceStatusSet>item"`
	NextToken string           `xml:"nextToken"`
}

// addressesPage is a DescribeAddressesResponse.
type addressesPage struct {
	Addresses []Address `xml:"addressesSet>item"`
}

// InstanceStatus is the result of an instance's status checks.
type InstanceStatus struct {
	InstanceID     string `xml:"instanceId"`
	State          string `xml:"instanceState>name"`
	SystemStatus   string `xml:"systemStatus>status"`   // ok, impaired, initializing, insufficient-data, not-applicable
	InstanceStatus string `xml:"instanceStatus>status"` // the same values
}

// Address is an Elastic IP address.
type Address struct {
	AllocationID string `xml:"allocationId"`
	PublicIP     string `xml:"publicIp"`
	InstanceID   string `xml:"instanceId"` // "" when not associated
}

// DescribeInstances returns every instance (of every page) that the
// instance IDs and the filters select. An ID EC2 does not know fails the
// whole call with InvalidInstanceID.NotFound, where an instance-id filter
// skips it.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func (c *Client) DescribeInstances(ctx context.Context, ids []string, filters []Filter) ([]Instance, error) {
	var out []Instance
	err := c.pages(ctx, "DescribeInstances", idsAndFilters(ids, filters), func(ctx context.Context, p url.Values) (string, error) {
		var page instancesPage
		if err := c.call(ctx, "DescribeInstances", p, &page); err != nil {
			return "", err
		}
		out = append(out, page.instances()...)
		return page.NextToken, nil
	})
	return out, err
}

// DescribeInstanceStatus returns the status checks of the instances ids
// (all pages); includeAll adds those not running (IncludeAllInstances).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html
func (c *Client) DescribeInstanceStatus(ctx context.Context, ids []string, includeAll bool) ([]InstanceStatus, error) {
	params := idsAndFilters(ids, nil)
	if includeAll {
		params.Set("IncludeAllInstances", "true")
	}
	var out []InstanceStatus
	err := c.pages(ctx, "DescribeInstanceStatus", params, func(ctx context.Context, p url.Values) (string, error) {
		var page statusPage
		if err := c.call(ctx, "DescribeInstanceStatus", p, &page); err != nil {
			return "", err
		}
		out = append(out, page.Statuses...)
		return page.NextToken, nil
	})
	return out, err
}

// DescribeAddresses returns every Elastic IP address of the region (the
// call is not paged).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html
func (c *Client) DescribeAddresses(ctx context.Context) ([]Address, error) {
	var resp addressesPage
	if err := c.call(ctx, "DescribeAddresses", url.Values{}, &resp); err != nil {
		return nil, err
	}
	return resp.Addresses, nil
}

// pages calls page with params and then with each NextToken it returns,
// until one is empty.
func (c *Client) pages(ctx context.Context, action string, params url.Values, page func(context.Context, url.Values) (string, error)) error {
	token := ""
	for {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		if token != "" {
			p.Set("NextToken", token)
		}
		next, err := page(ctx, p)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == token {
			return fmt.Errorf("%s: %w", action, errRepeatedToken)
		}
		token = next
	}
}

// idsAndFilters spells ids and filters in the Query protocol: InstanceId.N,
// Filter.N.Name and Filter.N.Value.M, counting from 1.
func idsAndFilters(ids []string, filters []Filter) url.Values {
	v := url.Values{}
	for n, id := range ids {
		v.Set("InstanceId."+strconv.Itoa(n+1), id)
	}
	for n, f := range filters {
		p := "Filter." + strconv.Itoa(n+1) + "."
		v.Set(p+"Name", f.Name)
		for m, val := range f.Values {
			v.Set(p+"Value."+strconv.Itoa(m+1), val)
		}
	}
	return v
}
