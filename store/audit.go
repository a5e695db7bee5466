package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// auditMaxLen bounds the audit stream (approximate trimming keeps XADD O(1)).
const auditMaxLen = 100000

// AuditEntry is one line of the append-only audit log: who (Actor) did
// what (Action) to which object (Target) of which client, moving it from
// one state to another, and why.
type AuditEntry struct {
	ID     string // stream ID, set when read
	At     time.Time
	Actor  string // Slack user ID; "opsbot" for the bot's own steps
	Action string // e.g. role.grant, change.approve, alert.acknowledge
	Target string // the user or record acted on (the object)
	Role   string
	Client string
	From   string // the object's state before, when it has one
	To     string // and after
	Reason string // the reason the person gave, when the action takes one
	Detail string
}

// BotActor is the actor of steps opsbot takes on its own (an approval
// expiring).
const BotActor = "opsbot"

func (e AuditEntry) fields() []any {
	if e.Actor == "" {
		e.Actor = BotActor
	}
	return []any{
		"at", e.At.UTC().Format(time.RFC3339Nano),
		"actor", e.Actor, "action", e.Action, "target", e.Target,
		"role", e.Role, "client", e.Client, "from", e.From, "to", e.To,
		"reason", e.Reason, "detail", e.Detail,
	}
}

func (s *Store) auditStream() string { return s.key("audit") }

// addAudit queues the XADD of e on p, so an action and its entry commit in
// one MULTI/EXEC.
func (s *Store) addAudit(ctx context.Context, p redis.Pipeliner, e AuditEntry) {
	p.XAdd(ctx, &redis.XAddArgs{Stream: s.auditStream(), MaxLen: auditMaxLen, Approx: true, Values: e.fields()})
}

// errAuditUnwritable refuses an action whose audit entry could not be
// written.
var errAuditUnwritable = errors.New("the audit log is not writable (its key holds another type)")

// checkAuditWritable is read before a MULTI/EXEC that writes audit entries:
// inside EXEC a WRONGTYPE error on XADD would not stop the other commands,
// so an unwritable stream must refuse the action before it starts (fail
// closed). Other failures (out of memory, Redis down) abort the whole
// EXEC.
func (s *Store) checkAuditWritable(ctx context.Context, c redis.Cmdable) error {
	t, err := c.Type(ctx, s.auditStream()).Result()
	if err != nil {
		return err
	}
	if t != "stream" && t != "none" {
		return errAuditUnwritable
	}
	return nil
}

// Audit appends an entry. Callers performing a privileged action must treat a
// failure as a refusal of the action (fail closed).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.auditStream(), MaxLen: auditMaxLen, Approx: true, Values: e.fields(),
	}).Err()
	return wrap("audit "+e.Action, err)
}

// RecentAudit returns the newest n entries, newest first.
func (s *Store) RecentAudit(ctx context.Context, n int) ([]AuditEntry, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, s.auditStream(), "+", "-", int64(n)).Result()
	if err != nil {
		return nil, wrap("read audit", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, parseAudit(m))
	}
	return out, nil
}

func parseAudit(m redis.XMessage) AuditEntry {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	at, _ := time.Parse(time.RFC3339Nano, str("at"))
	if at.IsZero() {
		at = streamTime(m.ID)
	}
	return AuditEntry{
		ID: m.ID, At: at, Actor: str("actor"), Action: str("action"), Target: str("target"),
		Role: str("role"), Client: str("client"), From: str("from"), To: str("to"),
		Reason: str("reason"), Detail: str("detail"),
	}
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
