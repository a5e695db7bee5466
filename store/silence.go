package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrSilenceNotFound is returned when no active silence has the given ID.
var ErrSilenceNotFound = errors.New("silence not found")

// Silence mutes alerts for a client, or one site of a client, for a time
// (Alertmanager-style: it matches alerts rather than changing them).
type Silence struct {
	ID        string // "s-" + 6 base32 characters, assigned by AddSilence
	Client    string // client key
	Site      string // "" = the whole client
	Reason    string
	CreatedBy string // Slack user ID
	Start     time.Time
	End       time.Time
	// Change names the change request whose window (or deploy freeze) this
	// is; "" for a silence a person set. See Store.Mutes.
	Change string
}

// Matches reports whether the silence covers an alert for client (and site)
// at the given moment: same client, site empty or equal, Start <= at < End.
func (s Silence) Matches(client, site string, at time.Time) bool {
	return s.Client == client && (s.Site == "" || s.Site == site) &&
		!at.Before(s.Start) && at.Before(s.End)
}

// Target is "client" or "client/site".
func (s Silence) Target() string {
	if s.Site == "" {
		return s.Client
	}
	return s.Client + "/" + s.Site
}

// silenceRecord is the stored JSON form (field names fixed independently of Go names).
type silenceRecord struct {
	ID        string    `json:"id"`
	Client    string    `json:"client"`
	Site      string    `json:"site,omitempty"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Change    string    `json:"change,omitempty"`
}

func (s Silence) marshal() (string, error) {
	s.Start, s.End = s.Start.UTC(), s.End.UTC()
	b, err := json.Marshal(silenceRecord(s))
	return string(b), err
}

func unmarshalSilence(v string) (Silence, error) {
	var r silenceRecord
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return Silence{}, err
	}
	return Silence(r), nil
}

// addSilenceScript stores a silence and its audit entry atomically. The audit
// XADD runs first: if it fails the script aborts before the silence exists.
// KEYS: records hash, end index zset, audit stream.
// ARGV: id, json, end ms, audit maxlen, field/value pairs...
// Returns 0 when the ID is taken (the caller draws another), 1 when stored.
var addSilenceScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`)

// removeSilenceScript deletes a silence if it is still exactly as read
// (compare-and-delete), audit entry first. Returns 0 when it changed or went.
// KEYS: records hash, end index zset, audit stream.
// ARGV: id, expected json, audit maxlen, field/value pairs...
var removeSilenceScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

func (s *Store) silenceKeys() []string {
	return []string{s.key("silences"), s.key("silences", "_end"), s.key("audit")}
}

// newSilenceID returns "s-" and 6 lower-case base32 characters (30 bits).
func newSilenceID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "s-" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:6]
}

// AddSilence assigns the silence an ID and stores it together with its audit
// entry ("silence.add") in one atomic step; if the audit entry cannot be
// written nothing is stored (fail closed).
func (s *Store) AddSilence(ctx context.Context, sil Silence) (Silence, error) {
	switch {
	case sil.Client == "":
		return Silence{}, errors.New("store: silence: client is required")
	case sil.Start.IsZero() || !sil.End.After(sil.Start):
		return Silence{}, fmt.Errorf("store: silence: end %v must be after start %v", sil.End, sil.Start)
	}
	sil.Start, sil.End = sil.Start.UTC(), sil.End.UTC()
	e := AuditEntry{At: sil.Start, Actor: sil.CreatedBy, Action: "silence.add", Client: sil.Client,
		Detail: silenceDetail(sil, "until "+sil.End.Format(time.RFC3339))}
	for range 5 {
		sil.ID = newSilenceID()
		e.Target = sil.ID
		rec, err := sil.marshal()
		if err != nil {
			return Silence{}, fmt.Errorf("store: silence: %w", err)
		}
		args := []any{sil.ID, rec, sil.End.UnixMilli(), auditMaxLen}
		args = append(args, e.fields()...)
		n, err := s.runAudited(ctx, "add silence on "+sil.Target()+" (audit first)", addSilenceScript, s.silenceKeys(), args...)
		if n == 1 {
			return sil, err // err: stored but not confirmed by a replica
		}
		if err != nil {
			return Silence{}, err
		}
	}
	return Silence{}, errors.New("store: add silence: could not draw a free ID")
}

func silenceDetail(sil Silence, when string) string {
	d := when + ": " + sil.Reason
	if sil.Site != "" {
		d = "site " + sil.Site + ", " + d
	}
	return d
}

// RemoveSilence ends an active silence now: the record is deleted and the
// removal audited ("silence.remove") atomically. It returns the silence with
// End set to now. An unknown or already ended ID gives ErrSilenceNotFound.
func (s *Store) RemoveSilence(ctx context.Context, id, by string, now time.Time) (Silence, error) {
	now = now.UTC()
	for range 5 {
		rec, err := s.rdb.HGet(ctx, s.key("silences"), id).Result()
		if errors.Is(err, redis.Nil) {
			return Silence{}, fmt.Errorf("%w: %s", ErrSilenceNotFound, id)
		}
		if err != nil {
			return Silence{}, wrap("read silence "+id, err)
		}
		sil, err := unmarshalSilence(rec)
		if err != nil {
			return Silence{}, fmt.Errorf("store: silence %s: bad record: %w", id, err)
		}
		if !sil.End.After(now) {
			return Silence{}, fmt.Errorf("%w: %s ended at %s", ErrSilenceNotFound, id, sil.End.Format(time.RFC3339))
		}
		e := AuditEntry{At: now, Actor: by, Action: "silence.remove", Target: id, Client: sil.Client,
			Detail: silenceDetail(sil, "was until "+sil.End.Format(time.RFC3339))}
		args := []any{id, rec, auditMaxLen}
		args = append(args, e.fields()...)
		n, err := s.runAudited(ctx, "remove silence "+id+" (audit first)", removeSilenceScript, s.silenceKeys(), args...)
		if n == 1 {
			if now.After(sil.Start) {
				sil.End = now
			} else {
				sil.End = sil.Start
			}
			return sil, err // err: removed but not confirmed by a replica
		}
		if err != nil {
			return Silence{}, err
		}
		// Changed or removed between the read and the script: look again.
	}
	return Silence{}, fmt.Errorf("store: remove silence %s: kept changing", id)
}

// Silences returns the active silences (End after now) ordered by End, in
// one round trip that also purges the ones that have ended.
func (s *Store) Silences(ctx context.Context, now time.Time) ([]Silence, error) {
	keys := s.silenceKeys()[:2]
	vals, err := activeRecordsScript.Run(ctx, s.rdb, keys, now.UnixMilli()).StringSlice()
	if err != nil {
		return nil, wrap("list silences", err)
	}
	out := make([]Silence, 0, len(vals))
	for _, v := range vals {
		sil, err := unmarshalSilence(v)
		if err != nil || !sil.End.After(now) {
			continue // a corrupt record mutes nothing; a sub-millisecond leftover has ended
		}
		out = append(out, sil)
	}
	slices.SortStableFunc(out, func(a, b Silence) int { return a.End.Compare(b.End) })
	return out, nil
}
