package awsmon

import (
	"context"
	"errors"
	"regexp"
	"slices"

	"github.com/aws/smithy-go"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
	"github.com/383project/opsbot/integrations/awsapi/ec2query"
)

// ec2FilterValues is how many values one EC2 filter may carry; longer ID
// lists are asked for in several calls.
const ec2FilterValues = 200

// ec2StatusIDs is how many instance IDs one DescribeInstanceStatus call names.
const ec2StatusIDs = 100

// instances returns the selected instances of one region, ordered by ID,
// with their status checks.
func (c *Client) instances(ctx context.Context, api *ec2query.Client, region string, scope integrations.ServerScope) ([]integrations.Instance, error) {
	var filterSets [][]ec2query.Filter
	// Explicit IDs go in an instance-id filter, not InstanceIds: a filter
	// skips unknown IDs where InstanceIds fails the whole call with
	// InvalidInstanceID.NotFound.
	for ids := range slices.Chunk(scope.InstanceIDs, ec2FilterValues) {
		filterSets = append(filterSets, []ec2query.Filter{{Name: "instance-id", Values: ids}})
	}
	if scope.TagKey != "" {
		filterSets = append(filterSets, []ec2query.Filter{{Name: "tag:" + scope.TagKey, Values: []string{scope.TagValue}}})
	}
	byID := map[string]integrations.Instance{}
	for _, filters := range filterSets {
		if err := describeInstances(ctx, api, region, filters, byID); err != nil {
			return nil, err
		}
	}
	if len(byID) == 0 {
		return nil, nil
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range byID {
			if !yield(id) {
				return
			}
		}
	})
	if err := instanceStatuses(ctx, api, region, ids, byID); err != nil {
		return nil, err
	}
	out := make([]integrations.Instance, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out, nil
}

// describeInstances adds every instance matching filters to byID.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
func describeInstances(ctx context.Context, api *ec2query.Client, region string, filters []ec2query.Filter, byID map[string]integrations.Instance) error {
	instances, err := api.DescribeInstances(ctx, nil, filters)
	if err != nil {
		return awsapi.Classify("awsmon: describe EC2 instances in "+region, "ec2:DescribeInstances", err)
	}
	for _, in := range instances {
		byID[in.InstanceID] = integrations.Instance{ID: in.InstanceID, Region: region, Type: in.InstanceType,
			LaunchedAt: in.LaunchTime, State: in.State, Name: in.Tag("Name")}
	}
	return nil
}

var instanceIDPattern = regexp.MustCompile(`i-[0-9a-zA-Z]+`)

// instanceStatuses fills SystemStatus and InstanceStatus of the instances
// ids (all in byID). An instance gone between the two calls makes EC2 fail
// with InvalidInstanceID.NotFound naming it; the call is repeated without it.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html
func instanceStatuses(ctx context.Context, api *ec2query.Client, region string, ids []string, byID map[string]integrations.Instance) error {
	op := "awsmon: describe EC2 instance status in " + region
	for chunk := range slices.Chunk(ids, ec2StatusIDs) {
		chunk = slices.Clone(chunk)
		for len(chunk) > 0 {
			gone, err := describeStatusPages(ctx, api, chunk, byID)
			if err == nil {
				break
			}
			if len(gone) == 0 {
				return awsapi.Classify(op, "ec2:DescribeInstanceStatus", err)
			}
			chunk = slices.DeleteFunc(chunk, func(id string) bool { return slices.Contains(gone, id) })
		}
	}
	return nil
}

// describeStatusPages reads the statuses of ids into byID; on
// InvalidInstanceID.NotFound it also returns the IDs EC2 named (nil when
// none of ids were named, so the caller does not loop).
func describeStatusPages(ctx context.Context, api *ec2query.Client, ids []string, byID map[string]integrations.Instance) ([]string, error) {
	statuses, err := api.DescribeInstanceStatus(ctx, ids, true)
	if err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstanceID.NotFound" {
			return nil, err
		}
		var gone []string
		for _, id := range instanceIDPattern.FindAllString(ae.ErrorMessage(), -1) {
			if slices.Contains(ids, id) {
				gone = append(gone, id)
			}
		}
		return gone, err
	}
	for _, s := range statuses {
		i, ok := byID[s.InstanceID]
		if !ok {
			continue
		}
		i.SystemStatus, i.InstanceStatus = s.SystemStatus, s.InstanceStatus
		byID[i.ID] = i
	}
	return nil, nil
}
