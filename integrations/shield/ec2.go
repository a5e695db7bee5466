package shield

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
)

// filterValues is how many values one EC2 filter may carry.
const filterValues = 200

// runningInstances lists the running instances scope selects in region
// (every running one when scope names neither IDs nor a tag), and maps
// each of their private addresses, as "vpc/ip", to the instance ID (a load
// balancer's ip targets name them so).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func runningInstances(ctx context.Context, api *ec2.Client, region string, scope integrations.ServerScope) ([]integrations.ShieldInstance, map[string]string, error) {
	running := types.Filter{Name: aws.String("instance-state-name"), Values: []string{"running"}}
	var sets [][]types.Filter
	for ids := range slices.Chunk(scope.InstanceIDs, filterValues) {
		sets = append(sets, []types.Filter{running, {Name: aws.String("instance-id"), Values: ids}})
	}
	if scope.TagKey != "" {
		sets = append(sets, []types.Filter{running, {Name: aws.String("tag:" + scope.TagKey), Values: []string{scope.TagValue}}})
	}
	if len(sets) == 0 {
		sets = [][]types.Filter{{running}}
	}
	byID := map[string]integrations.ShieldInstance{}
	addrs := map[string]string{}
	for _, filters := range sets {
		p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, awsapi.Classify("shield: describe EC2 instances in "+region, "ec2:DescribeInstances", err)
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					i := integrations.ShieldInstance{ID: aws.ToString(in.InstanceId), Region: region, PublicIP: aws.ToString(in.PublicIpAddress)}
					for _, t := range in.Tags {
						if aws.ToString(t.Key) == "Name" {
							i.Name = aws.ToString(t.Value)
						}
					}
					byID[i.ID] = i
					vpc := aws.ToString(in.VpcId)
					if ip := aws.ToString(in.PrivateIpAddress); ip != "" {
						addrs[vpc+"/"+ip] = i.ID
					}
					for _, ni := range in.NetworkInterfaces {
						for _, a := range ni.PrivateIpAddresses {
							if ip := aws.ToString(a.PrivateIpAddress); ip != "" {
								addrs[aws.ToString(ni.VpcId)+"/"+ip] = i.ID
							}
						}
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
func addresses(ctx context.Context, api *ec2.Client, region string) (map[string][]string, error) {
	out, err := api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		return nil, awsapi.Classify("shield: describe Elastic IPs in "+region, "ec2:DescribeAddresses", err)
	}
	m := map[string][]string{}
	for _, a := range out.Addresses {
		id, alloc := aws.ToString(a.InstanceId), aws.ToString(a.AllocationId)
		if id != "" && strings.HasPrefix(alloc, "eipalloc-") {
			m[id] = append(m[id], alloc)
		}
	}
	return m, nil
}
