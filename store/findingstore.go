package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
