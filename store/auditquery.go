package store

import (
	"context"
	"slices"
	"time"
)

// AuditFilter selects audit entries. Zero fields match everything.
type AuditFilter struct {
	Client string    // entries about this client
	Actor  string    // entries by this user ID
	Since  time.Time // entries of actions at or after this moment
	Until  time.Time // and before this one (zero: no bound)
}

// Matches reports whether e passes the filter. Times are the entries' own
// (the action's time), so they come from the same clock as the bounds.
func (f AuditFilter) Matches(e AuditEntry) bool {
	return (f.Client == "" || e.Client == f.Client) && (f.Actor == "" || e.Actor == f.Actor) &&
		(f.Since.IsZero() || !e.At.Before(f.Since)) && (f.Until.IsZero() || e.At.Before(f.Until))
}

// auditPage is how many entries one XREVRANGE reads.
const auditPage = 500

// maxAuditScan bounds how many entries one query reads (the stream itself
// holds about auditMaxLen).
const maxAuditScan = auditMaxLen + auditPage

// streamSlack is how far an entry's stream ID (Redis's clock, when it was
// written) may trail its action time before the scan trusts it as a bound.
const streamSlack = time.Hour

// FindAudit returns up to limit entries matching f, newest first. It reads
// the stream backwards page by page and stops at limit, or once both an
// entry's action time and its stream time (with an hour's slack) lie before
// f.Since: older entries cannot match.
func (s *Store) FindAudit(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	end := "+"
	for scanned := 0; scanned < maxAuditScan && len(out) < limit; {
		msgs, err := s.rdb.XRevRangeN(ctx, s.auditStream(), end, "-", auditPage).Result()
		if err != nil {
			return nil, wrap("read audit", err)
		}
		for _, m := range msgs {
			e := parseAudit(m)
			if !f.Since.IsZero() && e.At.Before(f.Since) && streamTime(m.ID).Before(f.Since.Add(-streamSlack)) {
				return out, nil
			}
			if f.Matches(e) && len(out) < limit {
				out = append(out, e)
			}
		}
		scanned += len(msgs)
		if len(msgs) < auditPage {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

// AuditBetween returns every entry of an action in [from, to), oldest
// first (the monthly export).
func (s *Store) AuditBetween(ctx context.Context, from, to time.Time) ([]AuditEntry, error) {
	out, err := s.FindAudit(ctx, AuditFilter{Since: from, Until: to}, maxAuditScan)
	slices.Reverse(out)
	return out, err
}
