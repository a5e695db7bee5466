package shield

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
)

// filterValues is how many values one EC2 filter may carry.
const filterValues = 200

// runningInstances lists the running instances scope selects in region
// (every running one when scope names neither IDs nor a tag), and maps
// each of their private addresses, as "vpc/ip", to the instance ID (a load
// balancer's ip targets name them so).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func runningInstances(ctx context.Context, api *ec2query.Client, region string, scope integrations.ServerScope) ([]integrations.ShieldInstance, map[string]string, error) {
	running := ec2query.Filter{Name: "instance-state-name", Values: []string{"running"}}
	var sets [][]ec2query.Filter
	for ids := range slices.Chunk(scope.InstanceIDs, filterValues) {
		sets = append(sets, []ec2query.Filter{running, {Name: "instance-id", Values: ids}})
	}
	if scope.TagKey != "" {
		sets = append(sets, []ec2query.Filter{running, {Name: "tag:" + scope.TagKey, Values: []string{scope.TagValue}}})
	}
	if len(sets) == 0 {
		sets = [][]ec2query.Filter{{running}}
	}
	byID := map[string]integrations.ShieldInstance{}
	addrs := map[string]string{}
	for _, filters := range sets {
		instances, err := api.DescribeInstances(ctx, nil, filters)
		if err != nil {
			return nil, nil, awsapi.Classify("shield: describe EC2 instances in "+region, "ec2:DescribeInstances", err)
		}
		for _, in := range instances {
			i := integrations.ShieldInstance{ID: in.InstanceID, Region: region, PublicIP: in.PublicIP, Name: in.Tag("Name")}
			byID[i.ID] = i
			if in.PrivateIP != "" {
				addrs[in.VpcID+"/"+in.PrivateIP] = i.ID
			}
			for _, ni := range in.NetworkInterfaces {
				for _, ip := range ni.PrivateIPs {
					if ip != "" {
						addrs[ni.VpcID+"/"+ip] = i.ID
					}
				}
			}
		}
	}
	out := make([]integrations.ShieldInstance, 0, len(byID))
	for _, i := range byID {
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b integrations.ShieldInstance) int { return cmp.Compare(a.ID, b.ID) })
	return out, addrs, nil
}

// addresses maps each instance ID of region to its Elastic IP allocation
// IDs. DescribeAddresses is not paged.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html
func addresses(ctx context.Context, api *ec2query.Client, region string) (map[string][]string, error) {
	eips, err := api.DescribeAddresses(ctx)
	if err != nil {
		return nil, awsapi.Classify("shield: describe Elastic IPs in "+region, "ec2:DescribeAddresses", err)
	}
	m := map[string][]string{}
	for _, a := range eips {
		id, alloc := a.InstanceID, a.AllocationID
		if id != "" && strings.HasPrefix(alloc, "eipalloc-") {
			m[id] = append(m[id], alloc)
		}
	}
	return m, nil
}
