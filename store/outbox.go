package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The outbox makes deliveries (Slack posts, PagerDuty events) durable: an
// item is written in the same transaction as the state change that caused it
// and removed only once delivered, so a crash, a Slack reconnect or a vendor
// 5xx/429 loses nothing. Delivery is at least once; dedup keys and in-place
// updates make repeats harmless.
//
// Items are kept in FIFO queues, one per kind and subject ("pagerduty|
// uptime/acme/www"), so a resolve never overtakes its trigger. A sorted set
// holds each non-empty queue scored by when its head is due; claiming a
// queue pushes its score forward by a lease, so a worker that dies mid-
// delivery lets another replica retry once the lease ends.

// OutboxItem is one delivery to make.
type OutboxItem struct {
	ID      string          `json:"id"`
	Kind    string          `json:"kind"`              // e.g. "slack.alert", "slack.thread", "pagerduty"
	Subject string          `json:"subject,omitempty"` // orders items: usually the alert key
	Payload json.RawMessage `json:"payload,omitempty"` // kind-specific
	Created time.Time       `json:"created"`
}

// Queue names the FIFO the item belongs to.
func (i OutboxItem) Queue() string { return i.Kind + "|" + i.Subject }

// NewOutboxItem builds an item with a fresh ID; payload is marshalled to JSON.
func NewOutboxItem(kind, subject string, payload any, now time.Time) (OutboxItem, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return OutboxItem{}, fmt.Errorf("store: outbox %s payload: %w", kind, err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return OutboxItem{ID: hex.EncodeToString(id[:]), Kind: kind, Subject: subject, Payload: raw, Created: now}, nil
}

// Claimed is an item handed to one worker until its lease ends. The lease
// token makes every later step (ack, retry, defer, dead-letter) a no-op once
// the lease has lapsed and the queue was claimed again elsewhere, so a slow
// worker can never pop or reschedule another worker's item.
type Claimed struct {
	Queue    string
	Item     OutboxItem
	Attempts int // failed attempts so far
	// Claims counts how often this item was handed out, this time included.
	// Above 1, an earlier worker may have delivered it and died (or lost
	// the reply) before recording it: a non-idempotent delivery (a Slack
	// post) looks for its own earlier result first.
	Claims int
	raw    string
	token  string
	due    string // the due set it was claimed from, where it is rescheduled
}

// claimScript leases due queues of one lane's due set. KEYS: due, attempts,
// leases, claims (how often each queue's head was handed out: above 1, an
// earlier worker may have delivered it and died before saying so). ARGV:
// now ms, lease ms, n, queue key prefix, lease token.
var claimScript = redis.NewScript(`
local qs = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, q in ipairs(qs) do
  local head = redis.call('LINDEX', ARGV[4] .. q, 0)
  if not head then
    redis.call('ZREM', KEYS[1], q)
    redis.call('HDEL', KEYS[3], q)
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), q)
    redis.call('HSET', KEYS[3], q, ARGV[5])
    out[#out+1] = q
    out[#out+1] = head
    out[#out+1] = redis.call('HGET', KEYS[2], q) or '0'
    out[#out+1] = tostring(redis.call('HINCRBY', KEYS[4], q, 1))
  end
end
return out
`)

// rescheduleScript moves a leased queue to a new due time, counting a
// failed attempt when ARGV[4] is "1" (else a wait, which is not counted as
// a claim either). KEYS: due, attempts, leases, claims. ARGV:
// queue, token, due ms, count.
var rescheduleScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
else
  redis.call('HINCRBY', KEYS[4], ARGV[1], -1) -- a wait delivered nothing: not a claim that might have
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`)

// finishScript removes the delivered (or dead) head and reschedules the
// queue for its next item, if the caller still holds the lease. KEYS: due,
// queue list, attempts, dead list, leases. ARGV: queue name, item, now ms,
// dead entry ("" when delivered), token. KEYS[6]: claims.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[5], ARGV[1]) ~= ARGV[5] then return 0 end
redis.call('HDEL', KEYS[5], ARGV[1])
if redis.call('LINDEX', KEYS[2], 0) == ARGV[2] then
  redis.call('LPOP', KEYS[2])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[1])
  if ARGV[4] ~= '' then
    redis.call('RPUSH', KEYS[4], ARGV[4])
    redis.call('LTRIM', KEYS[4], -1000, -1)
  end
end
if redis.call('LLEN', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
`)

func (s *Store) outboxDue() string           { return s.key("outbox", "due") }
func (s *Store) outboxQueues() string        { return s.key("outbox", "q") + ":" }
func (s *Store) outboxAttempts() string      { return s.key("outbox", "attempts") }
func (s *Store) outboxDead() string          { return s.key("outbox", "dead") }
func (s *Store) outboxLeases() string        { return s.key("outbox", "leases") }
func (s *Store) outboxClaims() string        { return s.key("outbox", "claims") }
func (s *Store) outboxQueue(q string) string { return s.outboxQueues() + q }

// enqueue adds items to a pipeline (inside the caller's transaction).
func (s *Store) enqueue(ctx context.Context, p redis.Pipeliner, now time.Time, items []OutboxItem) error {
	for _, it := range items {
		raw, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("store: outbox item: %w", err)
		}
		p.RPush(ctx, s.outboxQueue(it.Queue()), raw)
		if lane := laneOf(it.Kind); lane.Name == "" {
			p.ZAddNX(ctx, s.outboxDue(), redis.Z{Score: float64(now.UnixMilli()), Member: it.Queue()})
		} else {
			// A queue still waiting in the shared set (queued before
			// lanes existed) stays there, so no queue is in two sets.
			p.Eval(ctx, enqueueDueScript, []string{s.outboxDue(), s.laneDue(lane)}, now.UnixMilli(), it.Queue())
		}
	}
	return nil
}

// Enqueue adds items on their own (no state change goes with them).
func (s *Store) Enqueue(ctx context.Context, now time.Time, items ...OutboxItem) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { return s.enqueue(ctx, p, now, items) })
	return wrap("outbox enqueue", err)
}

// ClaimOutbox hands out up to n due items of every lane, each leased for
// lease (for tests and tools; the worker claims lane by lane).
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Claimed, error) {
	var out []Claimed
	for _, l := range append(OutboxLanes(), OutboxLane{Name: "other"}) {
		got, err := s.ClaimLane(ctx, l, now, lease, n-len(out))
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// ClaimLane hands out up to n due items of lane, each leased for lease.
func (s *Store) ClaimLane(ctx context.Context, lane OutboxLane, now time.Time, lease time.Duration, n int) ([]Claimed, error) {
	if n <= 0 {
		return nil, nil
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	due := s.laneDue(lane)
	res, err := claimScript.Run(ctx, s.rdb, []string{due, s.outboxAttempts(), s.outboxLeases(), s.outboxClaims()},
		now.UnixMilli(), lease.Milliseconds(), n, s.outboxQueues(), token).StringSlice()
	if err != nil {
		return nil, wrap("outbox claim", err)
	}
	out := make([]Claimed, 0, len(res)/4)
	for i := 0; i+3 < len(res); i += 4 {
		c := Claimed{Queue: res[i], raw: res[i+1], token: token, due: due}
		c.Attempts, _ = strconv.Atoi(res[i+2])
		c.Claims, _ = strconv.Atoi(res[i+3])
		if err := json.Unmarshal([]byte(c.raw), &c.Item); err != nil {
			// A record we cannot read would block its queue forever: bury it.
			_ = s.finish(ctx, c, now, "unreadable item: "+err.Error())
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// AckOutbox removes a delivered item.
func (s *Store) AckOutbox(ctx context.Context, c Claimed, now time.Time) error {
	return s.finish(ctx, c, now, "")
}

// DeadLetter gives up on an item (kept in a capped list for inspection).
func (s *Store) DeadLetter(ctx context.Context, c Claimed, now time.Time, reason string) error {
	entry, _ := json.Marshal(map[string]any{"item": json.RawMessage(c.raw), "reason": reason, "at": now, "attempts": c.Attempts})
	if len(c.raw) == 0 || !json.Valid([]byte(c.raw)) {
		entry, _ = json.Marshal(map[string]any{"raw": c.raw, "reason": reason, "at": now})
	}
	return s.finish(ctx, c, now, string(entry))
}

func (s *Store) finish(ctx context.Context, c Claimed, now time.Time, dead string) error {
	keys := []string{cmp.Or(c.due, s.outboxDue()), s.outboxQueue(c.Queue), s.outboxAttempts(), s.outboxDead(), s.outboxLeases(), s.outboxClaims()}
	return wrap("outbox finish "+c.Queue, finishScript.Run(ctx, s.rdb, keys, c.Queue, c.raw, now.UnixMilli(), dead, c.token).Err())
}

// RetryOutbox counts a failed attempt and makes the queue due again at at.
func (s *Store) RetryOutbox(ctx context.Context, c Claimed, at time.Time) error {
	return s.reschedule(ctx, c, at, true)
}

// DeferOutbox makes the queue due again at at without counting a failure
// (e.g. a thread reply waiting for its parent message to be posted).
func (s *Store) DeferOutbox(ctx context.Context, c Claimed, at time.Time) error {
	return s.reschedule(ctx, c, at, false)
}

func (s *Store) reschedule(ctx context.Context, c Claimed, at time.Time, failed bool) error {
	count := "0"
	if failed {
		count = "1"
	}
	keys := []string{cmp.Or(c.due, s.outboxDue()), s.outboxAttempts(), s.outboxLeases(), s.outboxClaims()}
	return wrap("outbox reschedule "+c.Queue, rescheduleScript.Run(ctx, s.rdb, keys, c.Queue, c.token, at.UnixMilli(), count).Err())
}

// OutboxBacklog counts queues with undelivered items, and dead letters.
func (s *Store) OutboxBacklog(ctx context.Context) (queues, dead int64, err error) {
	pipe := s.rdb.Pipeline()
	var qs []*redis.IntCmd
	for _, l := range append(OutboxLanes(), OutboxLane{}) {
		qs = append(qs, pipe.ZCard(ctx, s.laneDue(l)))
	}
	d := pipe.LLen(ctx, s.outboxDead())
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, wrap("outbox backlog", err)
	}
	for _, q := range qs {
		queues += q.Val()
	}
	return queues, d.Val(), nil
}

// EnqueueOnce queues items only the first time marker is seen within ttl,
// in one transaction: the marker is never set without the items, so a
// failure in between cannot swallow the announcement. It reports whether it
// queued them.
func (s *Store) EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...OutboxItem) (bool, error) {
	k := s.key("seen", marker)
	queued := false
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, k).Result()
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, 1, ttl)
			return s.enqueue(ctx, p, now, items)
		})
		queued = err == nil
		return err
	}, k)
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil // another replica queued them at the same moment
	}
	return queued, wrap("enqueue once "+marker, err)
}
