package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of the change request records.
var (
	ErrChangeNotFound = errors.New("no such change request")
	ErrChangeExists   = errors.New("a change request with that ID already exists")
	ErrChangeConflict = errors.New("change request changed concurrently; try again")
)

func (s *Store) changeKey(id string) string { return s.key("change", id) }
func (s *Store) changesOpen() string        { return s.key("changes", "open") }
func (s *Store) changeSeq() string          { return s.key("changes", "seq") }
func (s *Store) changeLogged() string       { return s.key("changelog", "ids") }
func (s *Store) changeLogStream(month string) string {
	return s.key("changelog", month)
}

// NextChangeID allocates the next request ID: "CR-1", "CR-2"...
func (s *Store) NextChangeID(ctx context.Context) (string, error) {
	n, err := s.rdb.Incr(ctx, s.changeSeq()).Result()
	if err != nil {
		return "", wrap("next change id", err)
	}
	return "CR-" + strconv.FormatInt(n, 10), nil
}

// CreateChange saves a new request (Version becomes 1) and enqueues items
// in one transaction. It refuses an ID that is already taken.
func (s *Store) CreateChange(ctx context.Context, cr *ChangeRequest, items ...OutboxItem) error {
	if cr == nil || strings.TrimSpace(cr.ID) == "" {
		return invalid("a change request needs an ID")
	}
	k := s.changeKey(cr.ID)
	for range 16 {
		rec := *cr
		var unconfirmed error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Exists(ctx, k).Result()
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("%w: %s", ErrChangeExists, cr.ID)
			}
			rec.Version++
			data, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("encode change %s: %w", cr.ID, err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k, data, 0)
				if !rec.State.Terminal() {
					p.SAdd(ctx, s.changesOpen(), rec.ID)
				}
				return s.enqueue(ctx, p, rec.CreatedAt, items)
			})
			if err == nil {
				unconfirmed = s.confirm(ctx, tx, "create change "+cr.ID)
			}
			return err
		}, k)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if errors.Is(err, ErrChangeExists) {
			return err
		}
		if err != nil {
			return wrap("create change "+cr.ID, err)
		}
		cr.Version = rec.Version
		return unconfirmed
	}
	return fmt.Errorf("store: create change %s: %w", cr.ID, ErrChangeConflict)
}

// UpdateChange loads request id, lets fn change it (through its methods)
// and name the deliveries to make, then saves it and enqueues the items in
// one transaction. Concurrent updates are serialised optimistically (WATCH)
// and fn is re-run on a conflict, so two approvers clicking at once are
// both recorded and the request advances once. fn must not do I/O. An
// error from fn is returned as it is and nothing is saved.
//
// When the update ends the request (closed, rejected, rolled back,
// cancelled), its change log entry is appended in the same transaction,
// so a crash cannot lose it; AppendChangeLog for it later is a no-op.
//
// Saved but not confirmed by the replicas WaitReplicas asks for, it
// returns the request with an ErrNotReplicated error (so does CreateChange).
func (s *Store) UpdateChange(ctx context.Context, id string, now time.Time, fn func(*ChangeRequest) ([]OutboxItem, error)) (ChangeRequest, error) {
	k, logged := s.changeKey(id), s.changeLogged()
	var fnErr error
	for range 16 {
		var out ChangeRequest
		var unconfirmed error
		fnErr = nil
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			c, err := readChange(ctx, tx, k, id)
			if err != nil {
				return err
			}
			wasOpen := !c.State.Terminal()
			items, err := fn(&c)
			if err != nil {
				fnErr = err
				return err
			}
			c.ID = id
			c.Version++
			data, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("encode change %s: %w", id, err)
			}
			logIt := false
			if wasOpen && c.State.Terminal() {
				seen, err := tx.SIsMember(ctx, logged, id).Result()
				if err != nil {
					return err
				}
				logIt = !seen
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k, data, 0)
				if c.State.Terminal() {
					p.SRem(ctx, s.changesOpen(), id)
				} else {
					p.SAdd(ctx, s.changesOpen(), id)
				}
				if logIt {
					e := NewChangeLogEntry(c, c.Outcome(), lastEventAt(c, now))
					p.SAdd(ctx, logged, id)
					p.XAdd(ctx, &redis.XAddArgs{Stream: s.changeLogStream(e.Month()), Values: e.fields()})
				}
				return s.enqueue(ctx, p, now, items)
			})
			if err == nil {
				unconfirmed = s.confirm(ctx, tx, "update change "+id)
			}
			out = c
			return err
		}, k, logged)
		if fnErr != nil {
			return ChangeRequest{}, fnErr
		}
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if errors.Is(err, ErrChangeNotFound) {
			return ChangeRequest{}, err
		}
		if err != nil {
			return ChangeRequest{}, wrap("update change "+id, err)
		}
		return out, unconfirmed
	}
	return ChangeRequest{}, fmt.Errorf("store: update change %s: %w", id, ErrChangeConflict)
}

func lastEventAt(c ChangeRequest, now time.Time) time.Time {
	if n := len(c.History); n > 0 && !c.History[n-1].At.IsZero() {
		return c.History[n-1].At
	}
	return now
}

func readChange(ctx context.Context, c redis.Cmdable, k, id string) (ChangeRequest, error) {
	raw, err := c.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return ChangeRequest{}, fmt.Errorf("%w: %s", ErrChangeNotFound, id)
	}
	if err != nil {
		return ChangeRequest{}, err
	}
	var cr ChangeRequest
	if err := json.Unmarshal(raw, &cr); err != nil {
		return ChangeRequest{}, fmt.Errorf("decode change %s: %w", id, err)
	}
	return cr, nil
}

// GetChange returns request id, or ErrChangeNotFound.
func (s *Store) GetChange(ctx context.Context, id string) (ChangeRequest, error) {
	cr, err := readChange(ctx, s.rdb, s.changeKey(id), id)
	if errors.Is(err, ErrChangeNotFound) {
		return ChangeRequest{}, err
	}
	if err != nil {
		return ChangeRequest{}, wrap("get change "+id, err)
	}
	return cr, nil
}

// changeNumber orders "CR-9" before "CR-10".
func changeNumber(id string) int64 {
	n, _ := strconv.ParseInt(strings.TrimPrefix(id, "CR-"), 10, 64)
	return n
}

// OpenChanges returns every request that has not ended, oldest ID first.
func (s *Store) OpenChanges(ctx context.Context) ([]ChangeRequest, error) {
	ids, err := s.rdb.SMembers(ctx, s.changesOpen()).Result()
	if err != nil || len(ids) == 0 {
		return nil, wrap("list changes", err)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.changeKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("read changes", err)
	}
	out := make([]ChangeRequest, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var cr ChangeRequest
		if json.Unmarshal([]byte(str), &cr) == nil && !cr.State.Terminal() {
			out = append(out, cr)
		}
	}
	slices.SortFunc(out, func(a, b ChangeRequest) int {
		return cmp.Or(cmp.Compare(changeNumber(a.ID), changeNumber(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

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
