package jobs

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// FindingsReader reads a client's Detectify scans and findings (*store.Store).
type FindingsReader interface {
	ScanSummaries(ctx context.Context, clients []string) (map[string]store.FindingSummary, error)
	ClientFindings(ctx context.Context, client string) (map[string]store.Finding, map[string]store.Acceptance, error)
}

// OwaspCheck is "OWASP scan clean": a Detectify scan completed within
// MaxAge, and no open high or critical finding that is not risk-accepted.
type OwaspCheck struct {
	Findings FindingsReader
	MaxAge   time.Duration // default 14 days
	Now      func() time.Time
}

// Check reads the last completed scan and the open findings.
func (o OwaspCheck) Check(ctx context.Context, client string) store.CheckResult {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = 14 * 24 * time.Hour
	}
	sums, err := o.Findings.ScanSummaries(ctx, []string{client})
	if err != nil {
		return failing("the scans could not be read: %v", err)
	}
	sum, ok := sums[client]
	switch {
	case !ok:
		return failing("no Detectify scan of %s has completed yet: run /ops scan %s", client, client)
	case now.Sub(sum.At) > maxAge:
		return failing("the last completed scan is from %s, more than %d days ago: run /ops scan %s", sum.At.UTC().Format("2006-01-02"), int(maxAge.Hours()/24), client)
	}
	all, accepted, err := o.Findings.ClientFindings(ctx, client)
	if err != nil {
		return failing("the findings could not be read: %v", err)
	}
	var bad []string
	lower := 0
	for id, f := range all {
		if !f.State.Open() || f.AcceptedAtVendor() {
			continue
		}
		if _, ok := accepted[id]; ok {
			continue
		}
		if sev := strings.ToLower(f.Severity); sev == "high" || sev == "critical" {
			bad = append(bad, sev+": "+f.Title)
		} else {
			lower++
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return failing("%d open high or critical findings: %s", len(bad), strings.Join(bad, "; "))
	}
	return verified("scan completed %s: no open high or critical finding (%d lower open)", sum.At.UTC().Format("2006-01-02"), lower)
}
