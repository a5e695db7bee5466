package awsmon

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/awsapi"
)

// rdsFilterValues is how many identifiers one db-instance-id filter carries.
const rdsFilterValues = 100

const gib = 1 << 30

// databases returns the selected DB instances of one region, ordered by
// identifier. Explicit identifiers go in a db-instance-id filter (unknown
// ones are skipped, where DBInstanceIdentifier would fail with
// DBInstanceNotFound); RDS cannot filter by tag, so a tag scope lists every
// DB instance and matches its TagList.
func (c *Client) databases(ctx context.Context, api *rds.Client, region string, scope integrations.ServerScope) ([]integrations.Database, error) {
	var inputs []*rds.DescribeDBInstancesInput
	for ids := range slices.Chunk(scope.DBInstances, rdsFilterValues) {
		inputs = append(inputs, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: ids}}})
	}
	if scope.TagKey != "" {
		inputs = append(inputs, &rds.DescribeDBInstancesInput{})
	}
	op := "awsmon: describe RDS instances in " + region
	byID := map[string]integrations.Database{}
	for _, in := range inputs {
		tagged := in.Filters == nil
		p := rds.NewDescribeDBInstancesPaginator(api, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, awsapi.Classify(op, "rds:DescribeDBInstances", err)
			}
			for _, d := range page.DBInstances {
				if tagged && !hasTag(d.TagList, scope.TagKey, scope.TagValue) {
					continue
				}
				id := aws.ToString(d.DBInstanceIdentifier)
				byID[id] = integrations.Database{ID: id, Region: region, Class: aws.ToString(d.DBInstanceClass),
					Engine: aws.ToString(d.Engine), Status: aws.ToString(d.DBInstanceStatus),
					StorageBytes: int64(aws.ToInt32(d.AllocatedStorage)) * gib}
			}
		}
	}
	out := make([]integrations.Database, 0, len(byID))
	for _, d := range byID {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b integrations.Database) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func hasTag(tags []types.Tag, key, value string) bool {
	return slices.ContainsFunc(tags, func(t types.Tag) bool { return aws.ToString(t.Key) == key && aws.ToString(t.Value) == value })
}
