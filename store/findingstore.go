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

// Findings live in one hash per client (ID → JSON record), their
// acceptances in another, and the expiries of all acceptances in one sorted
// set, so a scan of thousands of findings reads them in one round trip and
// saves them in another, whatever their number.

// ErrFindingNotFound is returned for an ID no finding of the client has.
var ErrFindingNotFound = errors.New("finding not found")

// findingFields is how many fields one HSET carries when findings are saved
// (a pipeline of a few large commands, not one huge one).
const findingFields = 500

func (s *Store) findingsKey(client string) string { return s.key("findings", client) }
func (s *Store) acceptedKey(client string) string { return s.key("findings", client, "accepted") }
func (s *Store) scanSummaryKey(client string) string {
	return s.key("findings", client, "last")
}
func (s *Store) acceptUntilKey() string { return s.key("findings", "_accept_until") }

// ClientFindings returns a client's findings and acceptances, by finding
// ID, in one round trip.
func (s *Store) ClientFindings(ctx context.Context, client string) (map[string]Finding, map[string]Acceptance, error) {
	var fs, acc *redis.MapStringStringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fs = p.HGetAll(ctx, s.findingsKey(client))
		acc = p.HGetAll(ctx, s.acceptedKey(client))
		return nil
	})
	if err != nil {
		return nil, nil, wrap("read findings of "+client, err)
	}
	return decodeFindings(client, fs.Val()), decodeAcceptances(acc.Val()), nil
}

func decodeFindings(client string, raw map[string]string) map[string]Finding {
	out := make(map[string]Finding, len(raw))
	for id, v := range raw {
		var f Finding
		if json.Unmarshal([]byte(v), &f) != nil {
			continue // a corrupt record is dropped: the next scan rewrites it
		}
		f.ID, f.Client = id, client
		out[id] = f
	}
	return out
}

func decodeAcceptances(raw map[string]string) map[string]Acceptance {
	out := make(map[string]Acceptance, len(raw))
	for id, v := range raw {
		var a Acceptance
		if json.Unmarshal([]byte(v), &a) == nil {
			a.raw = v
			out[id] = a
		}
	}
	return out
}

// SaveFindings writes the findings named by ids (from all) and, unless nil,
// the scan's summary, in one transaction and one round trip.
func (s *Store) SaveFindings(ctx context.Context, client string, all map[string]Finding, ids []string, sum *FindingSummary) error {
	var summary []byte
	if sum != nil {
		var err error
		if summary, err = json.Marshal(sum); err != nil {
			return fmt.Errorf("store: encode scan summary: %w", err)
		}
	}
	args := make([]any, 0, 2*min(len(ids), findingFields))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			f, ok := all[id]
			if !ok {
				continue
			}
			data, err := json.Marshal(f)
			if err != nil {
				return fmt.Errorf("encode finding %s: %w", id, err)
			}
			args = append(args, id, data)
			if len(args) == 2*findingFields {
				p.HSet(ctx, s.findingsKey(client), args...)
				args = args[:0:0]
			}
		}
		if len(args) > 0 {
			p.HSet(ctx, s.findingsKey(client), args...)
		}
		if summary != nil {
			p.Set(ctx, s.scanSummaryKey(client), summary, 0)
		}
		return nil
	})
	return wrap("save findings of "+client, err)
}

// FindingsOverview is what /ops findings and /ops status read of some
// clients: their findings, acceptances and last scan summaries.
type FindingsOverview struct {
	Findings    map[string]map[string]Finding    // client → ID → finding
	Acceptances map[string]map[string]Acceptance // client → ID → acceptance
	LastScan    map[string]FindingSummary        // client → summary of its last completed scan
}

// FindingsOf reads the findings, acceptances and last scan summaries of
// clients in one round trip.
func (s *Store) FindingsOf(ctx context.Context, clients []string) (FindingsOverview, error) {
	out := FindingsOverview{Findings: map[string]map[string]Finding{}, Acceptances: map[string]map[string]Acceptance{},
		LastScan: map[string]FindingSummary{}}
	if len(clients) == 0 {
		return out, nil
	}
	type cmds struct {
		fs, acc *redis.MapStringStringCmd
		last    *redis.StringCmd
	}
	got := make([]cmds, len(clients))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range clients {
			got[i] = cmds{p.HGetAll(ctx, s.findingsKey(c)), p.HGetAll(ctx, s.acceptedKey(c)), p.Get(ctx, s.scanSummaryKey(c))}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return out, wrap("read findings", err)
	}
	for i, c := range clients {
		out.Findings[c] = decodeFindings(c, got[i].fs.Val())
		out.Acceptances[c] = decodeAcceptances(got[i].acc.Val())
		var sum FindingSummary
		if raw := got[i].last.Val(); raw != "" && json.Unmarshal([]byte(raw), &sum) == nil {
			out.LastScan[c] = sum
		}
	}
	return out, nil
}

// ScanSummaries returns the summaries of the clients' last completed scans
// (clients never scanned are absent), in one round trip.
func (s *Store) ScanSummaries(ctx context.Context, clients []string) (map[string]FindingSummary, error) {
	out := map[string]FindingSummary{}
	if len(clients) == 0 {
		return out, nil
	}
	keys := make([]string, len(clients))
	for i, c := range clients {
		keys[i] = s.scanSummaryKey(c)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("read scan summaries", err)
	}
	for i, v := range vals {
		var sum FindingSummary
		if str, ok := v.(string); ok && json.Unmarshal([]byte(str), &sum) == nil {
			out[clients[i]] = sum
		}
	}
	return out, nil
}

// FindingsByPrefix finds the findings of clients whose ID starts with prefix
// (lower-case letters, digits and "-" only; anything else matches nothing).
func (s *Store) FindingsByPrefix(ctx context.Context, clients []string, prefix string) ([]Finding, error) {
	if prefix == "" || strings.Trim(prefix, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return nil, nil
	}
	var out []Finding
	for _, c := range clients {
		var cursor uint64
		for {
			kv, next, err := s.rdb.HScan(ctx, s.findingsKey(c), cursor, prefix+"*", 1000).Result()
			if err != nil {
				return nil, wrap("find finding "+prefix, err)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				var f Finding
				if json.Unmarshal([]byte(kv[i+1]), &f) == nil {
					f.ID, f.Client = kv[i], c
					out = append(out, f)
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return out, nil
}

// ClearFindings removes every finding, acceptance and summary of client
// (a client that no longer pays for scans).
func (s *Store) ClearFindings(ctx context.Context, client string) error {
	err := s.rdb.Del(ctx, s.findingsKey(client), s.acceptedKey(client), s.scanSummaryKey(client)).Err()
	return wrap("clear findings of "+client, err)
}

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
