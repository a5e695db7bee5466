package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	out, err := s.UpdateAlerts(ctx, []string{key}, now, func(as []*Alert) ([]OutboxItem, error) { return fn(as[0]) })
	if err != nil {
		return Alert{}, err
	}
	return out[0], nil
}

// UpdateAlerts is UpdateAlert for several alerts changed together (a site
// alert and the server alert it is gathered under): all are read, changed
// by fn and saved with fn's deliveries in one transaction, or none is. It
// also keeps the index of gathering alerts (see AlertGroup) in step with
// their Gathering flag. keys must be distinct.
func (s *Store) UpdateAlerts(ctx context.Context, keys []string, now time.Time, fn func(as []*Alert) ([]OutboxItem, error)) ([]Alert, error) {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = s.alertKey(k)
	}
	groups := s.key("alertgroups")
	for range 16 {
		var out []Alert
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			as := make([]*Alert, len(keys))
			prev := make([]Alert, len(keys))
			for i := range keys {
				a, err := readAlert(ctx, tx, ks[i], keys[i])
				if err != nil {
					return err
				}
				as[i], prev[i] = &a, a
			}
			items, err := fn(as)
			if err != nil {
				return err
			}
			var audits []AuditEntry
			for i := range as {
				audits = append(audits, alertAudit(prev[i], *as[i])...)
			}
			if len(audits) > 0 {
				if err := s.checkAuditWritable(ctx, tx); err != nil {
					return err
				}
			}
			ungather := map[string]string{} // client → key that stops gathering, if it is the indexed one
			for i, a := range as {
				if prev[i].Gathering && !a.Gathering {
					if cur, err := tx.HGet(ctx, groups, a.Client).Result(); err == nil && cur == a.Key {
						ungather[a.Client] = a.Key
					}
				}
			}
			out = make([]Alert, len(as))
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, e := range audits {
					s.addAudit(ctx, p, e)
				}
				for i, a := range as {
					a.Version++
					data, err := json.Marshal(a)
					if err != nil {
						return fmt.Errorf("encode alert: %w", err)
					}
					p.Set(ctx, ks[i], data, 0)
					p.SAdd(ctx, s.key("alerts"), keys[i])
					if a.Gathering && !prev[i].Gathering {
						p.HSet(ctx, groups, a.Client, a.Key)
					}
					out[i] = *a
				}
				for client := range ungather {
					p.HDel(ctx, groups, client)
				}
				return s.enqueue(ctx, p, now, items)
			})
			return err
		}, append(ks, groups)...)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return nil, wrap("update alerts "+strings.Join(keys, ", "), err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("store: update alerts %s: %w", strings.Join(keys, ", "), ErrConflict)
}

// AlertGroup is the key of the alert gathering client's site alerts (an
// instance of it failing its status checks), "" when none is. The alert
// may have closed since; read it to know.
func (s *Store) AlertGroup(ctx context.Context, client string) (string, error) {
	key, err := s.rdb.HGet(ctx, s.key("alertgroups"), client).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return key, wrap("alert group "+client, err)
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
