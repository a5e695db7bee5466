package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// auditMaxLen bounds the audit stream (approximate trimming keeps XADD O(1)).
const auditMaxLen = 100000

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID     string // stream ID, set when read
	At     time.Time
	Actor  string // Slack user ID
	Action string // e.g. role.grant
	Target string // the user or record acted on
	Role   string
	Client string
	Detail string
}

func (e AuditEntry) fields() []any {
	return []any{
		"at", e.At.UTC().Format(time.RFC3339Nano),
		"actor", e.Actor, "action", e.Action, "target", e.Target,
		"role", e.Role, "client", e.Client, "detail", e.Detail,
	}
}

// Audit appends an entry. Callers performing a privileged action must treat a
// failure as a refusal of the action (fail closed).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.key("audit"), MaxLen: auditMaxLen, Approx: true, Values: e.fields(),
	}).Err()
	return wrap("audit "+e.Action, err)
}

// RecentAudit returns the newest n entries, newest first.
func (s *Store) RecentAudit(ctx context.Context, n int) ([]AuditEntry, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, s.key("audit"), "+", "-", int64(n)).Result()
	if err != nil {
		return nil, wrap("read audit", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		at, _ := time.Parse(time.RFC3339Nano, str("at"))
		if at.IsZero() {
			at = streamTime(m.ID)
		}
		out = append(out, AuditEntry{
			ID: m.ID, At: at, Actor: str("actor"), Action: str("action"), Target: str("target"),
			Role: str("role"), Client: str("client"), Detail: str("detail"),
		})
	}
	return out, nil
}

// streamTime recovers the time from a stream ID "<ms>-<seq>".
func streamTime(id string) time.Time {
	for i := range len(id) {
		if id[i] == '-' {
			ms, err := strconv.ParseInt(id[:i], 10, 64)
			if err == nil {
				return time.UnixMilli(ms)
			}
		}
	}
	return time.Time{}
}
