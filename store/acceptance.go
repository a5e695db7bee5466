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

// An acceptance is kept in its client's accepted hash (finding ID → JSON)
// and its end in one sorted set for every client, so the acceptances that
// ran out are found in one range read.

// acceptFindingScript stores an acceptance with its audit entry (first) if
// the finding exists. KEYS: findings hash, accepted hash, until zset, audit
// stream. ARGV: id, json, until ms, member, audit maxlen, field/value pairs.
// Returns 0 when there is no such finding.
var acceptFindingScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local fields = {}
for i = 6, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
`)

// AcceptFinding mutes a finding until a.Until (a risk accepted, or a false
// positive), audited in the same atomic step ("finding.accept" or
// "finding.false_positive"); an acceptance already there is replaced. A
// finding the client does not have gives ErrFindingNotFound and nothing is
// stored. An ErrNotReplicated error means it is stored but unconfirmed.
func (s *Store) AcceptFinding(ctx context.Context, a Acceptance, title string) error {
	if a.ID == "" || a.Client == "" || a.Reason == "" || !a.Until.After(a.At) {
		return errors.New("store: accept finding: id, client, reason and an end after now are required")
	}
	a.Until, a.At = a.Until.UTC(), a.At.UTC()
	rec, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("store: accept finding: %w", err)
	}
	action := "finding.accept"
	if a.FalsePositive {
		action = "finding.false_positive"
	}
	e := AuditEntry{At: a.At, Actor: a.By, Action: action, Target: a.ID, Client: a.Client, To: "accepted",
		Reason: a.Reason, Detail: "until " + a.Until.Format(time.RFC3339) + ": " + title}
	args := append([]any{a.ID, rec, a.Until.UnixMilli(), a.Client + "/" + a.ID, auditMaxLen}, e.fields()...)
	keys := []string{s.findingsKey(a.Client), s.acceptedKey(a.Client), s.acceptUntilKey(), s.auditStream()}
	n, err := s.runAudited(ctx, "accept finding "+a.ID+" (audit first)", acceptFindingScript, keys, args...)
	if n == 0 && err == nil {
		return fmt.Errorf("store: accept finding %s of %s: %w", a.ID, a.Client, ErrFindingNotFound)
	}
	return err
}

// DueAcceptances returns the acceptances that ended at or before now (at
// most limit), oldest first.
func (s *Store) DueAcceptances(ctx context.Context, now time.Time, limit int) ([]Acceptance, error) {
	members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.acceptUntilKey(), ByScore: true,
		Start: "-inf", Stop: fmt.Sprint(now.UnixMilli()), Count: int64(limit)}).Result()
	if err != nil {
		return nil, wrap("read due acceptances", err)
	}
	cmds := make([]*redis.StringCmd, len(members))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range members {
			client, id, _ := strings.Cut(m, "/")
			cmds[i] = p.HGet(ctx, s.acceptedKey(client), id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("read due acceptances", err)
	}
	out := make([]Acceptance, 0, len(members))
	for i, m := range members {
		var a Acceptance
		raw := cmds[i].Val()
		if raw == "" || json.Unmarshal([]byte(raw), &a) != nil || a.Active(now) {
			if raw == "" { // its finding's acceptance is gone: drop the index entry
				s.rdb.ZRem(ctx, s.acceptUntilKey(), m)
			}
			continue
		}
		a.raw = raw
		out = append(out, a)
	}
	return out, nil
}

// endAcceptanceScript removes an acceptance if it is still exactly as read
// (compare-and-delete), audit entry first. KEYS: accepted hash, until zset,
// audit stream. ARGV: id, expected json, member, audit maxlen, fields...
var endAcceptanceScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
`)

// EndAcceptance removes an acceptance that has run out, audited as opsbot's
// own step ("finding.accept_expired"). ended is false when it had changed
// (renewed) or gone since it was read.
func (s *Store) EndAcceptance(ctx context.Context, a Acceptance, now time.Time) (ended bool, err error) {
	rec := a.raw
	if rec == "" {
		b, err := json.Marshal(a)
		if err != nil {
			return false, fmt.Errorf("store: end acceptance: %w", err)
		}
		rec = string(b)
	}
	e := AuditEntry{At: now, Action: "finding.accept_expired", Target: a.ID, Client: a.Client, From: "accepted", To: "open",
		Detail: a.Kind() + " by " + a.By + " until " + a.Until.Format(time.RFC3339) + ": " + a.Reason}
	args := append([]any{a.ID, rec, a.Client + "/" + a.ID, auditMaxLen}, e.fields()...)
	keys := []string{s.acceptedKey(a.Client), s.acceptUntilKey(), s.auditStream()}
	n, err := endAcceptanceScript.Run(ctx, s.rdb, keys, args...).Int64()
	return n == 1, wrap("end acceptance of "+a.ID, err)
}
