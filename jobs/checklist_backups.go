package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/383project/opsbot/store"
)

// BackupSource reads a client's backup settings in its own account (RDS
// and S3 through an adapter).
type BackupSource interface {
	// BackupRetention is each known DB instance's retention in days.
	BackupRetention(ctx context.Context, client string, ids []string) (map[string]int32, error)
	// Versioning is the bucket's versioning status ("Enabled", "Suspended", "").
	Versioning(ctx context.Context, client, bucket string) (string, error)
}

// BackupsCheck is "backups and recovery": automated backups on for every
// listed RDS instance, versioning Enabled on every listed bucket.
type BackupsCheck struct {
	Source    BackupSource
	Databases map[string][]string // client → RDS instance identifiers
	Buckets   map[string][]string // client → S3 buckets
}

// Check reads RDS once and each bucket once.
func (b BackupsCheck) Check(ctx context.Context, client string) store.CheckResult {
	dbs, buckets := b.Databases[client], b.Buckets[client]
	if len(dbs)+len(buckets) == 0 {
		return failing("no databases or buckets are listed for %s (launch.databases, launch.buckets)", client)
	}
	var good, bad []string
	if len(dbs) > 0 {
		ret, err := b.Source.BackupRetention(ctx, client, dbs)
		if err != nil {
			return failing("RDS could not be read: %v", err)
		}
		for _, id := range dbs {
			days, ok := ret[id]
			switch {
			case !ok:
				bad = append(bad, "RDS "+id+" not found")
			case days == 0:
				bad = append(bad, "RDS "+id+" has automated backups off (BackupRetentionPeriod 0)")
			default:
				good = append(good, fmt.Sprintf("RDS %s keeps %d days", id, days))
			}
		}
	}
	for _, bucket := range buckets {
		st, err := b.Source.Versioning(ctx, client, bucket)
		switch {
		case err != nil:
			bad = append(bad, "S3 "+bucket+": "+err.Error())
		case st != "Enabled":
			bad = append(bad, "S3 "+bucket+" versioning is "+cmpOr(strings.ToLower(st), "never enabled"))
		default:
			good = append(good, "S3 "+bucket+" versioned")
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		return failing("%s", strings.Join(bad, "; "))
	}
	return verified("%s", strings.Join(good, "; "))
}
