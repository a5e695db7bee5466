package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// SiteStatus is the latest known state of one uptime check, kept for
// `/ops status` (which never calls a vendor) and the SLA.
type SiteStatus struct {
	Key          string        `json:"key"` // uptime/<client>/<site>
	Client       string        `json:"client"`
	Site         string        `json:"site"`
	URL          string        `json:"url,omitempty"`
	Source       string        `json:"source"` // "statuscake" or "probe"
	State        string        `json:"state"`  // up, down, unknown
	Since        time.Time     `json:"-"`      // when State began (kept by RecordCheck)
	LastChecked  time.Time     `json:"last_checked"`
	ResponseTime time.Duration `json:"response_time"`
	Error        string        `json:"error,omitempty"`
	CertExpiry   time.Time     `json:"cert_expiry,omitzero"`
	// MonthUptime is this month's uptime percentage (-1: not computed yet),
	// for Month ("2026-11"); the SLA job fills it.
	MonthUptime float64 `json:"-"`
	Month       string  `json:"-"`
}

// StateChange is a site entering State at At.
type StateChange struct {
	State string
	At    time.Time
}

// transitionsKept bounds the state-change history: this month and last.
const transitionsKept = 62 * 24 * time.Hour

// changesKept bounds the raw state changes kept since the outage record
// began (see recordScript): a flapping site's changes are summarised there.
const changesKept = 64

func (s *Store) siteKey(key string) string        { return s.key("site", key) }
func (s *Store) transitionsKey(key string) string { return s.key("site", key, "changes") }

// RecordCheck stores the newest check of a site; it reports whether the
// state changed and since when the current state holds. One round trip.
func (s *Store) RecordCheck(ctx context.Context, st SiteStatus) (changed bool, since time.Time, err error) {
	data, err := json.Marshal(st)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: encode site %s: %w", st.Key, err)
	}
	at := st.LastChecked.UnixMilli()
	res, err := recordScript.Run(ctx, s.rdb, []string{s.siteKey(st.Key), s.transitionsKey(st.Key), s.key("sites"), s.outageKey(st.Key)},
		st.State, at, data, st.LastChecked.Add(-transitionsKept).UnixMilli(), st.Key, changesKept).Slice()
	if err != nil {
		return false, time.Time{}, wrap("record check "+st.Key, err)
	}
	ms, _ := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	return res[0].(int64) == 1, time.UnixMilli(ms), nil
}

// TouchSites stores the newest check of sites whose state did not change
// (the caller knows it from its own last RecordCheck): only the check's
// data is written, one HSET each, in one pipeline. It returns the keys of
// sites whose record was missing (Redis lost it): the caller records those
// again in full (RecordCheck), as their state and index entry are gone too.
func (s *Store) TouchSites(ctx context.Context, sts []SiteStatus) (missing []string, err error) {
	if len(sts) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(sts))
	for i, st := range sts {
		data, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("store: encode site %s: %w", st.Key, err)
		}
		cmds[i] = pipe.HSet(ctx, s.siteKey(st.Key), "data", data)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("touch sites", err)
	}
	for i, c := range cmds {
		if c.Val() == 1 { // a new field: the record was not there
			missing = append(missing, sts[i].Key)
		}
	}
	return missing, nil
}

// SiteStates returns the state each site's record holds ("" when none), in
// one pipeline: what a writer that skips writes reads back to confirm them.
func (s *Store) SiteStates(ctx context.Context, keys []string) (map[string]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HGet(ctx, s.siteKey(k), "state")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("site states", err)
	}
	out := make(map[string]string, len(keys))
	for i, k := range keys {
		out[k] = cmds[i].Val()
	}
	return out, nil
}

// SetMonthUptime stores the month's uptime percentage of a site.
func (s *Store) SetMonthUptime(ctx context.Context, key, month string, pct float64) error {
	err := s.rdb.HSet(ctx, s.siteKey(key), "month", month, "month_uptime", strconv.FormatFloat(pct, 'f', 4, 64)).Err()
	return wrap("set month uptime "+key, err)
}

// SiteStatuses returns every site's latest state, sorted by key.
func (s *Store) SiteStatuses(ctx context.Context) ([]SiteStatus, error) {
	keys, err := s.rdb.SMembers(ctx, s.key("sites")).Result()
	if err != nil || len(keys) == 0 {
		return nil, wrap("list sites", err)
	}
	slices.Sort(keys)
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HMGet(ctx, s.siteKey(k), "data", "since", "month", "month_uptime")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("read sites", err)
	}
	out := make([]SiteStatus, 0, len(keys))
	for _, c := range cmds {
		v := c.Val()
		data, _ := v[0].(string)
		var st SiteStatus
		if json.Unmarshal([]byte(data), &st) != nil {
			continue
		}
		if ms, err := strconv.ParseInt(str(v[1]), 10, 64); err == nil {
			st.Since = time.UnixMilli(ms)
		}
		st.Month, st.MonthUptime = str(v[2]), -1
		if pct, err := strconv.ParseFloat(str(v[3]), 64); err == nil {
			st.MonthUptime = pct
		}
		out = append(out, st)
	}
	return out, nil
}

func str(v any) string { s, _ := v.(string); return s }

// StateChanges returns the state in force at from (if known) followed by
// every change up to to, oldest first, of the changes kept: the newest
// changesKept since the site's outage record began, and those before it
// (recorded by an older opsbot) until they age out. Durations over a
// period are Outage's.
func (s *Store) StateChanges(ctx context.Context, key string, from, to time.Time) ([]StateChange, error) {
	k := s.transitionsKey(key)
	pipe := s.rdb.Pipeline()
	before := pipe.ZRevRangeByScore(ctx, k, &redis.ZRangeBy{Max: strconv.FormatInt(from.UnixMilli(), 10), Min: "-inf", Count: 1})
	during := pipe.ZRangeByScore(ctx, k, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(from.UnixMilli(), 10), Max: strconv.FormatInt(to.UnixMilli(), 10)})
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("state changes of "+key, err)
	}
	var out []StateChange
	for _, m := range append(before.Val(), during.Val()...) {
		state, ms, ok := strings.Cut(m, "|")
		n, err := strconv.ParseInt(ms, 10, 64)
		if ok && err == nil {
			out = append(out, StateChange{State: state, At: time.UnixMilli(n)})
		}
	}
	return out, nil
}

// SourceStatus says whether a monitoring source (e.g. StatusCake) answered
// at its last poll, and why not.
type SourceStatus struct {
	Source string    `json:"source"`
	OK     bool      `json:"ok"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// SetSourceStatus records the outcome of a source's last poll.
func (s *Store) SetSourceStatus(ctx context.Context, st SourceStatus) error {
	data, _ := json.Marshal(st)
	return wrap("set source "+st.Source, s.rdb.HSet(ctx, s.key("sources"), st.Source, data).Err())
}

// SourceStatuses returns every source's last outcome.
func (s *Store) SourceStatuses(ctx context.Context) ([]SourceStatus, error) {
	m, err := s.rdb.HGetAll(ctx, s.key("sources")).Result()
	if err != nil {
		return nil, wrap("read sources", err)
	}
	out := make([]SourceStatus, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		var st SourceStatus
		if json.Unmarshal([]byte(m[k]), &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// registerScript adds a site not seen before as "unknown" without recording
// a state change, so a restart never resets a known state or its "since".
var registerScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'unknown', 'since', ARGV[1], 'data', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`)

// SyncSites makes the stored sites match the configured ones: new sites
// appear as unknown ("not checked yet") and sites no longer configured leave
// the index (their history expires with the transitions' trimming).
func (s *Store) SyncSites(ctx context.Context, sites []SiteStatus, now time.Time) error {
	keep := make(map[string]bool, len(sites))
	for _, st := range sites {
		keep[st.Key] = true
		st.State, st.LastChecked = "unknown", time.Time{}
		st.Error = cmp.Or(st.Error, "not checked yet")
		data, _ := json.Marshal(st)
		err := registerScript.Run(ctx, s.rdb, []string{s.siteKey(st.Key), s.key("sites")}, now.UnixMilli(), data, st.Key).Err()
		if err != nil {
			return wrap("register site "+st.Key, err)
		}
	}
	stored, err := s.rdb.SMembers(ctx, s.key("sites")).Result()
	if err != nil {
		return wrap("list sites", err)
	}
	for _, k := range stored {
		if !keep[k] {
			if err := s.rdb.SRem(ctx, s.key("sites"), k).Err(); err != nil {
				return wrap("forget site "+k, err)
			}
		}
	}
	return nil
}
