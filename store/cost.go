package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The cost cache: Cost Explorer charges per request, so `/ops cost` answers
// from the last report the cost job (or a --refresh) fetched. A failed fetch
// never replaces the report: it is recorded beside it as a CostFailure, so
// the answer can say "AWS is throttling, data from 3h ago shown".

// CostSnapshot is one client's costs as fetched at FetchedAt (the same
// figures as integrations.CostReport; store is a leaf and keeps its own type).
type CostSnapshot struct {
	Currency    string        `json:"currency"`
	FetchedAt   time.Time     `json:"fetched_at"`
	Month       time.Time     `json:"month"`     // first day of the month (UTC)
	Days        []CostDay     `json:"days"`      // this month, day by day
	PrevDays    []CostDay     `json:"prev_days"` // last month, day by day
	Services    []CostService `json:"services"`  // this month, largest first
	MonthToDate float64       `json:"month_to_date"`
	LastMonth   float64       `json:"last_month"`
	Forecast    float64       `json:"forecast"` // whole month; 0 unless HasForecast
	HasForecast bool          `json:"has_forecast"`
}

// CostDay is one UTC day's cost.
type CostDay struct {
	Day    time.Time `json:"day"`
	Amount float64   `json:"amount"`
}

// CostService is one service's share of the month to date.
type CostService struct {
	Service string  `json:"service"`
	Amount  float64 `json:"amount"`
}

// HasData reports whether any day of either month has a cost.
func (s CostSnapshot) HasData() bool {
	for _, days := range [][]CostDay{s.Days, s.PrevDays} {
		for _, d := range days {
			if d.Amount != 0 {
				return true
			}
		}
	}
	return false
}

// Kinds of failed cost fetch.
const (
	CostThrottled    = "throttled"     // AWS throttled us even after retries
	CostAccessDenied = "access_denied" // an IAM permission is missing
	CostFailed       = "failed"        // anything else
)

// CostFailure is the last failed fetch of a client's costs (kept until a
// fetch succeeds).
type CostFailure struct {
	Kind    string    `json:"kind"`             // CostThrottled, CostAccessDenied, CostFailed
	Action  string    `json:"action,omitempty"` // the missing IAM action, for CostAccessDenied
	Message string    `json:"message"`          // the error, for the log and admins
	At      time.Time `json:"at"`
}

// CostRecord is what the cache holds for one client.
type CostRecord struct {
	Snapshot    CostSnapshot
	HasSnapshot bool         // false: never fetched successfully
	Failure     *CostFailure // the last fetch failed; nil when it succeeded
}

func (s *Store) costSnapshots() string { return s.key("cost", "snapshot") }
func (s *Store) costFailures() string  { return s.key("cost", "failure") }

// SaveCostSnapshot replaces the client's cached costs and clears any
// recorded failure, in one transaction.
func (s *Store) SaveCostSnapshot(ctx context.Context, client string, snap CostSnapshot) error {
	raw, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("store: cost snapshot %s: %w", client, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.costSnapshots(), client, raw)
		p.HDel(ctx, s.costFailures(), client)
		return nil
	})
	return wrap("save cost snapshot "+client, err)
}

// MarkCostFailure records a failed fetch; the cached snapshot stays.
func (s *Store) MarkCostFailure(ctx context.Context, client string, f CostFailure) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("store: cost failure %s: %w", client, err)
	}
	return wrap("mark cost failure "+client, s.rdb.HSet(ctx, s.costFailures(), client, raw).Err())
}

// CostRecords reads the cached records of clients in one round trip. A
// client with neither a snapshot nor a failure is absent from the map.
func (s *Store) CostRecords(ctx context.Context, clients ...string) (map[string]CostRecord, error) {
	out := make(map[string]CostRecord, len(clients))
	if len(clients) == 0 {
		return out, nil
	}
	pipe := s.rdb.Pipeline()
	snaps := pipe.HMGet(ctx, s.costSnapshots(), clients...)
	fails := pipe.HMGet(ctx, s.costFailures(), clients...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("cost records", err)
	}
	for i, client := range clients {
		var rec CostRecord
		if raw, ok := snaps.Val()[i].(string); ok {
			if err := json.Unmarshal([]byte(raw), &rec.Snapshot); err != nil {
				return nil, fmt.Errorf("store: cost snapshot %s: %w", client, err)
			}
			rec.HasSnapshot = true
		}
		if raw, ok := fails.Val()[i].(string); ok {
			rec.Failure = &CostFailure{}
			if err := json.Unmarshal([]byte(raw), rec.Failure); err != nil {
				return nil, fmt.Errorf("store: cost failure %s: %w", client, err)
			}
		}
		if rec.HasSnapshot || rec.Failure != nil {
			out[client] = rec
		}
	}
	return out, nil
}

// EnqueueAtLevel queues items only when level is above the highest level
// already announced under marker (within ttl), and records level, in one
// transaction. It serves alerts that escalate in steps ("forecast over the
// quote", "+10 %", "+20 %"): a jump straight to level 3 announces once, and
// falling back to level 2 afterwards announces nothing. It reports whether
// it queued them.
func (s *Store) EnqueueAtLevel(ctx context.Context, marker string, level int, ttl time.Duration, now time.Time, items ...OutboxItem) (bool, error) {
	k := s.key("level", marker)
	queued := false
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := tx.Get(ctx, k).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if n, _ := strconv.Atoi(cur); err == nil && n >= level {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, level, ttl)
			return s.enqueue(ctx, p, now, items)
		})
		queued = err == nil
		return err
	}, k)
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil // another replica announced at the same moment
	}
	return queued, wrap("enqueue at level "+marker, err)
}
