package awsmon

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/383project/opsbot/integrations/awsapi"
)

// BackupRetention reads the automated-backup retention (days; 0: backups
// off) of the DB instances ids in acct's region (DescribeDBInstances with a
// db-instance-id filter, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html).
// An identifier RDS does not know is absent from the map.
func (c *Client) BackupRetention(ctx context.Context, acct awsapi.Config, ids []string) (map[string]int32, error) {
	api := c.clients(acct, acct.Region).rds
	out := map[string]int32{}
	for chunk := range slices.Chunk(ids, rdsFilterValues) {
		p := rds.NewDescribeDBInstancesPaginator(api, &rds.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: chunk}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, awsapi.Classify("awsmon: backup retention in "+acct.Region, "rds:DescribeDBInstances", err)
			}
			for _, d := range page.DBInstances {
				out[aws.ToString(d.DBInstanceIdentifier)] = aws.ToInt32(d.BackupRetentionPeriod)
			}
		}
	}
	return out, nil
}
