package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ChangeLogEntry is one line of the change log (which replaces the
// Infrastructure Change Log Google form): every field finance reviews.
type ChangeLogEntry struct {
	StreamID        string // set when read
	ID              string
	Client          string
	Title           string
	Issue           string
	Requester       string
	Proposer        string
	Approvers       []Approval // the approvals of the last proposal
	RejectedBy      string
	Magnitude       Magnitude
	CurrentMonthly  Money
	ProposedMonthly Money
	Delta           string // FormatDelta
	Plan            string
	RequestedAt     time.Time
	ProposedAt      time.Time
	ApprovedAt      time.Time
	WindowStart     time.Time
	WindowEnd       time.Time
	CutOverAt       time.Time
	FinishedAt      time.Time // when the entry was logged: the request's end
	Outcome         string    // "done", "rolled back", "rejected", "cancelled"
	Reason          string    // of a rejection, roll back or cancellation
}

// Month is the change log month the entry belongs to ("2026-11", UTC).
func (e ChangeLogEntry) Month() string { return e.FinishedAt.UTC().Format("2006-01") }

// ApproverNames lists the approvers as "U1 (stakeholder), U2 (finance)".
func (e ChangeLogEntry) ApproverNames() string {
	names := make([]string, len(e.Approvers))
	for i, a := range e.Approvers {
		names[i] = a.By + " (" + a.Role + ")"
	}
	return strings.Join(names, ", ")
}

// NewChangeLogEntry flattens a request into its change log entry.
func NewChangeLogEntry(cr ChangeRequest, outcome string, at time.Time) ChangeLogEntry {
	e := ChangeLogEntry{
		ID: cr.ID, Client: cr.Client, Title: cr.Title, Issue: cr.Issue, Requester: cr.RequestedBy,
		Approvers: slices.Clone(cr.Approvals), RequestedAt: cr.CreatedAt,
		ApprovedAt: cr.EnteredAt(ChangeApproved), CutOverAt: cr.EnteredAt(ChangeCutOver),
		FinishedAt: at, Outcome: outcome, Reason: cr.Reason(),
	}
	if cr.Rejection != nil {
		e.RejectedBy = cr.Rejection.By
	}
	if p := cr.Proposal; p != nil {
		e.Proposer, e.Magnitude, e.Plan = p.By, p.Magnitude, p.Plan
		e.CurrentMonthly, e.ProposedMonthly = p.CurrentMonthly, p.ProposedMonthly
		e.Delta = FormatDelta(p.CurrentMonthly, p.ProposedMonthly)
		e.ProposedAt, e.WindowStart, e.WindowEnd = p.At, p.WindowStart, p.WindowEnd
	}
	if e.RequestedAt.IsZero() && len(cr.History) > 0 {
		e.RequestedAt = cr.History[0].At
	}
	return e
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (e ChangeLogEntry) fields() []any {
	approvers, _ := json.Marshal(e.Approvers)
	return []any{
		"id", e.ID, "client", e.Client, "title", e.Title, "issue", e.Issue,
		"requester", e.Requester, "proposer", e.Proposer, "approvers", string(approvers),
		"rejected_by", e.RejectedBy, "magnitude", string(e.Magnitude),
		"current_monthly", int64(e.CurrentMonthly), "proposed_monthly", int64(e.ProposedMonthly),
		"delta", e.Delta, "plan", e.Plan,
		"requested_at", fmtTime(e.RequestedAt), "proposed_at", fmtTime(e.ProposedAt),
		"approved_at", fmtTime(e.ApprovedAt), "window_start", fmtTime(e.WindowStart),
		"window_end", fmtTime(e.WindowEnd), "cut_over_at", fmtTime(e.CutOverAt),
		"finished_at", fmtTime(e.FinishedAt), "outcome", e.Outcome, "reason", e.Reason,
	}
}

func parseChangeLogEntry(m redis.XMessage) ChangeLogEntry {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	tm := func(k string) time.Time { t, _ := time.Parse(time.RFC3339Nano, str(k)); return t }
	money := func(k string) Money { n, _ := strconv.ParseInt(str(k), 10, 64); return Money(n) }
	e := ChangeLogEntry{
		StreamID: m.ID, ID: str("id"), Client: str("client"), Title: str("title"), Issue: str("issue"),
		Requester: str("requester"), Proposer: str("proposer"), RejectedBy: str("rejected_by"),
		Magnitude: Magnitude(str("magnitude")), CurrentMonthly: money("current_monthly"),
		ProposedMonthly: money("proposed_monthly"), Delta: str("delta"), Plan: str("plan"),
		RequestedAt: tm("requested_at"), ProposedAt: tm("proposed_at"), ApprovedAt: tm("approved_at"),
		WindowStart: tm("window_start"), WindowEnd: tm("window_end"), CutOverAt: tm("cut_over_at"),
		FinishedAt: tm("finished_at"), Outcome: str("outcome"), Reason: str("reason"),
	}
	if a := str("approvers"); a != "" {
		_ = json.Unmarshal([]byte(a), &e.Approvers)
	}
	if e.FinishedAt.IsZero() {
		e.FinishedAt = streamTime(m.ID)
	}
	return e
}

// appendChangeLogScript adds an entry unless the request was logged
// already. KEYS: logged set, month stream. ARGV: id, then field, value...
var appendChangeLogScript = redis.NewScript(`
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
return 1
`)

// AppendChangeLog appends the change log entry of cr (outcome "" means
// cr.Outcome()) to the month of at. The log is append-only and holds one
// entry per request: a repeat (a retried delivery, or an entry UpdateChange
// already wrote when the request ended) is a no-op.
func (s *Store) AppendChangeLog(ctx context.Context, cr ChangeRequest, outcome string, at time.Time) error {
	if outcome == "" {
		outcome = cr.Outcome()
	}
	if strings.TrimSpace(cr.ID) == "" || outcome == "" {
		return invalid("a change log entry needs a request ID and an outcome")
	}
	e := NewChangeLogEntry(cr, outcome, at)
	args := append([]any{cr.ID}, e.fields()...)
	err := appendChangeLogScript.Run(ctx, s.rdb, []string{s.changeLogged(), s.changeLogStream(e.Month())}, args...).Err()
	return wrap("change log "+cr.ID, err)
}

// ChangeLog returns the entries of month ("2026-11", UTC), oldest first.
func (s *Store) ChangeLog(ctx context.Context, month string) ([]ChangeLogEntry, error) {
	if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month {
		return nil, fmt.Errorf("store: change log month %q: want YYYY-MM", month)
	}
	msgs, err := s.rdb.XRange(ctx, s.changeLogStream(month), "-", "+").Result()
	if err != nil {
		return nil, wrap("read change log "+month, err)
	}
	out := make([]ChangeLogEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, parseChangeLogEntry(m))
	}
	return out, nil
}
