package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrConflict is returned when an alert kept changing under an update.
var ErrConflict = errors.New("alert changed concurrently; try again")

func (s *Store) alertKey(key string) string { return s.key("alert", key) }

// UpdateAlert loads the alert under key (a fresh one if none), lets fn change
// it and name the deliveries to make, then saves the alert and enqueues the
// items in one transaction. Concurrent updates of the same alert are
// serialised optimistically (WATCH) and fn is re-run on a conflict, so a
// transition is announced exactly once. fn must not do I/O.
//
// A person's acknowledge or resolve (AckedBy or ResolvedBy newly set) is
// written to the audit log in the same transaction.
func (s *Store) UpdateAlert(ctx context.Context, key string, now time.Time, fn func(a *Alert) ([]OutboxItem, error)) (Alert, error) {
	k := s.alertKey(key)
	for range 16 {
		var out Alert
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			a, err := readAlert(ctx, tx, k, key)
			if err != nil {
				return err
			}
			prev := a
			items, err := fn(&a)
			if err != nil {
				return err
			}
			audits := alertAudit(prev, a)
			if len(audits) > 0 {
				if err := s.checkAuditWritable(ctx, tx); err != nil {
					return err
				}
			}
			a.Version++
			data, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode alert: %w", err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, e := range audits {
					s.addAudit(ctx, p, e)
				}
				p.Set(ctx, k, data, 0)
				p.SAdd(ctx, s.key("alerts"), key)
				return s.enqueue(ctx, p, now, items)
			})
			out = a
			return err
		}, k)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return Alert{}, wrap("update alert "+key, err)
		}
		return out, nil
	}
	return Alert{}, fmt.Errorf("store: update alert %s: %w", key, ErrConflict)
}

// alertAudit are the audit entries of what a person did to an alert
// between before and after: an acknowledge, a resolve.
func alertAudit(before, after Alert) []AuditEntry {
	var out []AuditEntry
	entry := func(action, by string, at time.Time) AuditEntry {
		return AuditEntry{At: at, Actor: by, Action: action, Target: after.Key, Client: after.Client,
			From: string(before.Status), To: string(after.Status), Detail: after.Subject}
	}
	if after.AckedBy != "" && (after.AckedBy != before.AckedBy || !after.AckedAt.Equal(before.AckedAt)) {
		out = append(out, entry("alert.acknowledge", after.AckedBy, after.AckedAt))
	}
	if after.ResolvedBy != "" && (after.ResolvedBy != before.ResolvedBy || !after.ResolvedAt.Equal(before.ResolvedAt)) {
		out = append(out, entry("alert.resolve", after.ResolvedBy, after.ResolvedAt))
	}
	return out
}

func readAlert(ctx context.Context, c redis.Cmdable, k, key string) (Alert, error) {
	a := Alert{Key: key, Status: AlertOK}
	raw, err := c.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("decode alert %s: %w", key, err)
	}
	return a, nil
}

// GetAlert returns the alert under key; ok is false when there is none.
func (s *Store) GetAlert(ctx context.Context, key string) (Alert, bool, error) {
	raw, err := s.rdb.Get(ctx, s.alertKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Alert{Key: key, Status: AlertOK}, false, nil
	}
	if err != nil {
		return Alert{}, false, wrap("get alert "+key, err)
	}
	var a Alert
	if err := json.Unmarshal(raw, &a); err != nil {
		return Alert{}, false, fmt.Errorf("store: decode alert %s: %w", key, err)
	}
	return a, true, nil
}

// Alerts returns every stored alert (for status views and the App Home).
func (s *Store) Alerts(ctx context.Context) ([]Alert, error) {
	keys, err := s.rdb.SMembers(ctx, s.key("alerts")).Result()
	if err != nil || len(keys) == 0 {
		return nil, wrap("list alerts", err)
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.alertKey(k)
	}
	vals, err := s.rdb.MGet(ctx, full...).Result()
	if err != nil {
		return nil, wrap("read alerts", err)
	}
	out := make([]Alert, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var a Alert
		if json.Unmarshal([]byte(str), &a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}
