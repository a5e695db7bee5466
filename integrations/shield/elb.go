package shield

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
)

// frontLB is an internet-facing load balancer as read from ELB.
type frontLB struct {
	name, arn string
	network   bool
	allocs    []string // a network load balancer's Elastic IP allocations
}

// verdict judges a load balancer against the protected resources: its
// ARN protected, or (Shield protects a network load balancer only through
// its Elastic IPs) every Elastic IP of a network load balancer protected.
func (lb frontLB) verdict(region string, protected map[string]bool) integrations.ShieldVerdict {
	allProtected := len(lb.allocs) > 0 && !slices.ContainsFunc(lb.allocs, func(a string) bool { return !protected[region+"/"+a] })
	switch {
	case protected[lb.arn] || lb.network && allProtected:
		return integrations.ShieldProtected
	case lb.network && len(lb.allocs) == 0:
		return integrations.ShieldUnprotectable
	}
	return integrations.ShieldUnprotected
}

// frontends maps each instance ID of region to the internet-facing load
// balancers in front of it: a target group those load balancers forward to
// lists the instance (target type instance) or one of its private
// addresses in its VPC (target type ip), in any state but unused (not
// reachable through the load balancer). Internal load balancers are no
// public path; gateway load balancers carry no client traffic; lambda and
// alb targets are not instances. addrs maps "vpc/private-ip" to an
// instance ID.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
func frontends(ctx context.Context, api *elbv2.Client, region string, addrs map[string]string) (map[string][]frontLB, error) {
	lbs := map[string]frontLB{}
	p := elbv2.NewDescribeLoadBalancersPaginator(api, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsapi.Classify("shield: describe load balancers in "+region, "elasticloadbalancing:DescribeLoadBalancers", err)
		}
		for _, lb := range page.LoadBalancers {
			if lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || lb.Type == types.LoadBalancerTypeEnumGateway {
				continue
			}
			f := frontLB{name: aws.ToString(lb.LoadBalancerName), arn: aws.ToString(lb.LoadBalancerArn), network: lb.Type == types.LoadBalancerTypeEnumNetwork}
			for _, z := range lb.AvailabilityZones {
				for _, a := range z.LoadBalancerAddresses {
					if id := aws.ToString(a.AllocationId); id != "" {
						f.allocs = append(f.allocs, id)
					}
				}
			}
			lbs[f.arn] = f
		}
	}
	out := map[string][]frontLB{}
	if len(lbs) == 0 {
		return out, nil
	}
	tp := elbv2.NewDescribeTargetGroupsPaginator(api, &elbv2.DescribeTargetGroupsInput{})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return nil, awsapi.Classify("shield: describe target groups in "+region, "elasticloadbalancing:DescribeTargetGroups", err)
		}
		for _, tg := range page.TargetGroups {
			var front []frontLB
			for _, arn := range tg.LoadBalancerArns {
				if lb, ok := lbs[arn]; ok {
					front = append(front, lb)
				}
			}
			if len(front) == 0 || tg.TargetType != types.TargetTypeEnumInstance && tg.TargetType != types.TargetTypeEnumIp {
				continue
			}
			th, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			if err != nil {
				return nil, awsapi.Classify("shield: describe target health of "+aws.ToString(tg.TargetGroupName)+" in "+region,
					"elasticloadbalancing:DescribeTargetHealth", err)
			}
			for _, d := range th.TargetHealthDescriptions {
				if d.Target == nil || d.TargetHealth != nil && d.TargetHealth.State == types.TargetHealthStateEnumUnused {
					continue
				}
				id := aws.ToString(d.Target.Id)
				if tg.TargetType == types.TargetTypeEnumIp {
					id = addrs[aws.ToString(tg.VpcId)+"/"+id]
				}
				if id == "" {
					continue
				}
				for _, lb := range front {
					if !slices.ContainsFunc(out[id], func(have frontLB) bool { return have.arn == lb.arn }) {
						out[id] = append(out[id], lb)
					}
				}
			}
		}
	}
	return out, nil
}
