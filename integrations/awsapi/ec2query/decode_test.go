package ec2query

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"
)

// describeInstancesXML is shaped like EC2's own answer (the API
// reference's example, trimmed): the same element names recur at several
// depths (item, privateIpAddress, vpcId, instanceState), which is where a
// decoder goes wrong.
const describeInstancesXML = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <ownerId>123456789012</ownerId>
      <groupSet/>
      <instancesSet>
        <item>
          <instanceId>i-1234567890abcdef0</instanceId>
          <imageId>ami-bff32ccc</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <privateDnsName>ip-192-168-1-88.eu-west-1.compute.internal</privateDnsName>
          <instanceType>t2.micro</instanceType>
          <launchTime>2018-05-08T16:46:19.000Z</launchTime>
          <placement><availabilityZone>eu-west-1c</availabilityZone><tenancy>default</tenancy></placement>
          <monitoring><state>disabled</state></monitoring>
          <subnetId>subnet-56f5f000</subnetId>
          <vpcId>vpc-11112222</vpcId>
          <privateIpAddress>192.168.1.88</privateIpAddress>
          <ipAddress>54.194.252.215</ipAddress>
          <groupSet><item><groupId>sg-e4076000</groupId><groupName>SecurityGroup1</groupName></item></groupSet>
          <tagSet>
            <item><key>Owner</key><value>ops</value></item>
            <item><key>Name</key><value>web &amp; api</value></item>
          </tagSet>
          <networkInterfaceSet>
            <item>
              <networkInterfaceId>eni-12345</networkInterfaceId>
              <vpcId>vpc-11112222</vpcId>
              <privateIpAddress>192.168.1.88</privateIpAddress>
              <association><publicIp>54.194.252.215</publicIp><ipOwnerId>amazon</ipOwnerId></association>
              <privateIpAddressesSet>
                <item><privateIpAddress>192.168.1.88</privateIpAddress><primary>true</primary></item>
                <item><privateIpAddress>192.168.1.89</privateIpAddress><primary>false</primary></item>
              </privateIpAddressesSet>
            </item>
          </networkInterfaceSet>
        </item>
        <item>
          <instanceId>i-0stopped</instanceId>
          <instanceState><code>80</code><name>stopped</name></instanceState>
          <instanceType>c5.large</instanceType>
          <launchTime>not a time</launchTime>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
  <nextToken>page-2</nextToken>
</DescribeInstancesResponse>`

func TestDecodeInstances(t *testing.T) {
	var page instancesPage
	if err := xml.Unmarshal([]byte(describeInstancesXML), &page); err != nil {
		t.Fatal(err)
	}
	got := page.instances()
	if len(got) != 2 || page.NextToken != "page-2" {
		t.Fatalf("got %d instances, next %q; want 2 and page-2", len(got), page.NextToken)
	}
	in := got[0]
	want := Instance{InstanceID: "i-1234567890abcdef0", InstanceType: "t2.micro", State: "running",
		LaunchTime: time.Date(2018, 5, 8, 16, 46, 19, 0, time.UTC), PrivateIP: "192.168.1.88", PublicIP: "54.194.252.215", VpcID: "vpc-11112222"}
	if in.InstanceID != want.InstanceID || in.InstanceType != want.InstanceType || in.State != want.State || !in.LaunchTime.Equal(want.LaunchTime) ||
		in.PrivateIP != want.PrivateIP || in.PublicIP != want.PublicIP || in.VpcID != want.VpcID {
		t.Errorf("instance = %+v, want %+v", in, want)
	}
	if in.Tag("Name") != "web & api" || in.Tag("Owner") != "ops" || in.Tag("missing") != "" {
		t.Errorf("tags = %+v", in.Tags)
	}
	if len(in.NetworkInterfaces) != 1 || in.NetworkInterfaces[0].VpcID != "vpc-11112222" ||
		!slices.Equal(in.NetworkInterfaces[0].PrivateIPs, []string{"192.168.1.88", "192.168.1.89"}) {
		t.Errorf("network interfaces = %+v, want one in vpc-11112222 with .88 and .89", in.NetworkInterfaces)
	}
	if s := got[1]; s.State != "stopped" || !s.LaunchTime.IsZero() || s.PublicIP != "" {
		t.Errorf("second instance = %+v, want stopped, no launch time (it did not parse), no public IP", s)
	}
}

func TestDecodeStatusAndAddresses(t *testing.T) {
	var st statusPage
	err := xml.Unmarshal([]byte(`<DescribeInstanceStatusResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <instanceStatusSet><item>
    <instanceId>i-1</instanceId><availabilityZone>eu-west-1a</availabilityZone>
    <instanceState><code>16</code><name>running</name></instanceState>
    <systemStatus><status>ok</status><details><item><name>reachability</name><status>passed</status></item></details></systemStatus>
    <instanceStatus><status>impaired</status><details><item><name>reachability</name><status>failed</status></item></details></instanceStatus>
  </item></instanceStatusSet>
</DescribeInstanceStatusResponse>`), &st)
	if err != nil {
		t.Fatal(err)
	}
	want := []InstanceStatus{{InstanceID: "i-1", State: "running", SystemStatus: "ok", InstanceStatus: "impaired"}}
	if !slices.Equal(st.Statuses, want) || st.NextToken != "" {
		t.Errorf("statuses = %+v next %q, want %+v and no next page (a detail's status is not the summary's)", st.Statuses, st.NextToken, want)
	}
	var ad addressesPage
	err = xml.Unmarshal([]byte(`<DescribeAddressesResponse><requestId>r</requestId><addressesSet>
  <item><publicIp>198.51.100.1</publicIp><allocationId>eipalloc-1</allocationId><domain>vpc</domain><instanceId>i-1</instanceId></item>
  <item><publicIp>198.51.100.2</publicIp><allocationId>eipalloc-2</allocationId><domain>vpc</domain></item>
</addressesSet></DescribeAddressesResponse>`), &ad)
	if err != nil {
		t.Fatal(err)
	}
	wantAd := []Address{{"eipalloc-1", "198.51.100.1", "i-1"}, {"eipalloc-2", "198.51.100.2", ""}}
	if !slices.Equal(ad.Addresses, wantAd) {
		t.Errorf("addresses = %+v, want %+v", ad.Addresses, wantAd)
	}
}

func TestDecodeError(t *testing.T) {
	e, rid := decodeError([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>b7f1-example</RequestID></Response>`))
	if e == nil || e.ErrorCode() != "UnauthorizedOperation" || !strings.HasPrefix(e.ErrorMessage(), "You are not") || rid != "b7f1-example" {
		t.Errorf("decodeError = %v, %q; want UnauthorizedOperation with its message, request b7f1-example", e, rid)
	}
	for _, body := range []string{"", "<html>502 Bad Gateway</html>", "<Response><Errors/></Response>", `{"message":"no"}`} {
		if e, _ := decodeError([]byte(body)); e != nil {
			t.Errorf("decodeError(%q) = %v, want nil: not EC2's error document", body, e)
		}
	}
}

// FuzzDecode: no answer, however malformed, panics the decoders, and an
// error document always yields a code.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(describeInstancesXML))
	f.Add([]byte(`<Response><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></Errors><RequestID>x</RequestID></Response>`))
	f.Add([]byte(`<DescribeInstanceStatusResponse><instanceStatusSet><item><instanceId>i-1</instanceId></item></instanceStatusSet></DescribeInstanceStatusResponse>`))
	f.Add([]byte(`<a><b>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ip instancesPage
		if xml.Unmarshal(data, &ip) == nil {
			for _, in := range ip.instances() {
				_ = in.Tag("Name")
			}
		}
		var sp statusPage
		_ = xml.Unmarshal(data, &sp)
		var ap addressesPage
		_ = xml.Unmarshal(data, &ap)
		if e, _ := decodeError(data); e != nil && e.ErrorCode() == "" {
			t.Errorf("decodeError(%q) = an error without a code", data)
		}
	})
}
