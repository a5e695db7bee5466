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

// CreateChange saves a new request (Version becomes 1), its audit entries
// and items in one transaction. It refuses an ID that is already taken.
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
			if err := s.checkAuditWritable(ctx, tx); err != nil {
				return err
			}
			rec.Version++
			data, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("encode change %s: %w", cr.ID, err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				s.auditChange(ctx, p, rec, rec.History)
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
// Every event fn adds to the history is written to the audit log in the
// same transaction, before the request itself (MULTI/EXEC is all or
// nothing, so no step is saved unaudited). When the update ends the
// request (closed, rejected, rolled back, cancelled), its change log entry
// is appended and its deploy freeze, if any, closed (and audited) in the
// same transaction, so a crash cannot lose them; AppendChangeLog for it
// later is a no-op.
//
// Saved but not confirmed by the replicas WaitReplicas asks for, it
// returns the request with an ErrNotReplicated error (so does CreateChange).
func (s *Store) UpdateChange(ctx context.Context, id string, now time.Time, fn func(*ChangeRequest) ([]OutboxItem, error)) (ChangeRequest, error) {
	k, logged, freezes := s.changeKey(id), s.changeLogged(), s.freezeKeys()[0]
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
			wasOpen, before := !c.State.Terminal(), len(c.History)
			items, err := fn(&c)
			if err != nil {
				fnErr = err
				return err
			}
			if len(c.History) > before {
				if err := s.checkAuditWritable(ctx, tx); err != nil {
					return err
				}
			}
			c.ID = id
			c.Version++
			data, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("encode change %s: %w", id, err)
			}
			logIt, frozen := false, false
			if wasOpen && c.State.Terminal() {
				seen, err := tx.SIsMember(ctx, logged, id).Result()
				if err != nil {
					return err
				}
				if frozen, err = tx.HExists(ctx, freezes, id).Result(); err != nil {
					return err
				}
				logIt = !seen
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				s.auditChange(ctx, p, c, c.History[min(before, len(c.History)):])
				if frozen {
					s.closeFreeze(ctx, p, c, lastEventAt(c, now))
				}
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
		}, k, logged, freezes)
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
	var cr ChangeRequest
	found, err := readJSON(ctx, c, k, "change "+id, &cr)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s", ErrChangeNotFound, id)
	}
	return cr, err
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

// auditChange queues one audit entry per event of cr.
func (s *Store) auditChange(ctx context.Context, p redis.Pipeliner, cr ChangeRequest, events []ChangeEvent) {
	for _, e := range events {
		s.addAudit(ctx, p, changeAuditEntry(cr, e))
	}
}

// changeAuditEntry is the audit entry of one event of cr: who, which
// request of which client, the step, the states before and after, and the
// reason given.
func changeAuditEntry(cr ChangeRequest, e ChangeEvent) AuditEntry {
	action := cmp.Or(e.Action, "change.note")
	detail := e.Note
	if e.Reason != "" {
		// The note usually ends with the reason ("rejected as finance: <reason>").
		detail = strings.TrimSuffix(strings.TrimSuffix(detail, e.Reason), ": ")
		if detail == "" || detail == e.Reason {
			detail = ""
		}
	}
	return AuditEntry{At: e.At, Actor: e.By, Action: action, Target: cr.ID, Client: cr.Client,
		From: string(e.From), To: string(e.To), Reason: e.Reason, Detail: detail}
}
