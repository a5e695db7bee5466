package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Threshold overrides live in one hash, field "<client>:<metric>" → value,
// so every client's overrides are read in one round trip.

// setThresholdScript changes one override if it is still as read
// (compare-and-set) and writes the audit entry first, in the same atomic
// step: if the XADD fails the script aborts before the override changes.
// KEYS: overrides hash, audit stream.
// ARGV: field, expected value ("" = none), new value ("" = remove), audit maxlen, field/value pairs...
// Returns -1 when the value changed since it was read, 0 when the new value
// equals the current one (nothing written), 1 when changed.
var setThresholdScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then cur = '' end
if cur ~= ARGV[2] then return -1 end
if cur == ARGV[3] then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields+1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
`)

func (s *Store) thresholdsKey() string { return s.key("thresholds") }

// SetThreshold stores v as client's override (or removes it when v.Default),
// audited ("threshold.set" / "threshold.reset") in the same atomic step; if
// the audit entry cannot be written nothing changes (fail closed). It
// returns the previous override (0: none) and whether anything changed.
// v must come from ParseThreshold; the client key is not checked against
// the config here.
func (s *Store) SetThreshold(ctx context.Context, actor, client string, v ThresholdValue, now time.Time) (prev float64, changed bool, err error) {
	if _, ok := thresholdRules[v.Metric]; !ok || client == "" || (!v.Default && v.Value <= 0) {
		return 0, false, fmt.Errorf("store: set threshold %s/%s: invalid (parse it with ParseThreshold)", client, v.Metric)
	}
	field := client + ":" + string(v.Metric)
	next := ""
	if !v.Default {
		next = strconv.FormatFloat(v.Value, 'f', -1, 64)
	}
	for range 5 {
		cur, err := s.rdb.HGet(ctx, s.thresholdsKey(), field).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, false, wrap("read threshold "+field, err)
		}
		prev, _ = strconv.ParseFloat(cur, 64)
		e := AuditEntry{At: now, Actor: actor, Action: "threshold.set", Target: client + "/" + string(v.Metric), Client: client,
			Detail: string(v.Metric) + " " + v.Format()}
		if v.Default {
			e.Action, e.Detail = "threshold.reset", string(v.Metric)+" back to the configured value"
		}
		if cur != "" {
			e.Detail += " (override was " + FormatThreshold(v.Metric, prev) + ")"
		}
		args := []any{field, cur, next, auditMaxLen}
		args = append(args, e.fields()...)
		n, err := s.runAudited(ctx, "set threshold "+field+" (audit first)", setThresholdScript, []string{s.thresholdsKey(), s.key("audit")}, args...)
		if n == 1 {
			return prev, true, err // err: changed but not confirmed by a replica
		}
		if err != nil {
			return 0, false, err
		}
		if n == 0 {
			return prev, false, nil
		}
		// Changed between the read and the script: read again.
	}
	return 0, false, fmt.Errorf("store: set threshold %s: kept changing", field)
}

// Thresholds returns client's overrides (zero fields: no override).
func (s *Store) Thresholds(ctx context.Context, client string) (ServerThresholds, error) {
	fields := make([]string, len(ThresholdMetrics))
	for i, m := range ThresholdMetrics {
		fields[i] = client + ":" + string(m)
	}
	vals, err := s.rdb.HMGet(ctx, s.thresholdsKey(), fields...).Result()
	if err != nil {
		return ServerThresholds{}, wrap("thresholds of "+client, err)
	}
	var out ServerThresholds
	for i, v := range vals {
		if str, ok := v.(string); ok {
			out.setStored(ThresholdMetrics[i], str)
		}
	}
	return out, nil
}

// AllThresholds returns every client's overrides in one round trip, keyed
// by client; clients without overrides are absent.
func (s *Store) AllThresholds(ctx context.Context) (map[string]ServerThresholds, error) {
	all, err := s.rdb.HGetAll(ctx, s.thresholdsKey()).Result()
	if err != nil {
		return nil, wrap("list thresholds", err)
	}
	out := map[string]ServerThresholds{}
	for field, v := range all {
		i := strings.LastIndexByte(field, ':')
		if i <= 0 {
			continue
		}
		client, m := field[:i], ThresholdMetric(field[i+1:])
		t := out[client]
		t.setStored(m, v)
		out[client] = t
	}
	return out, nil
}

// setStored applies a stored value, re-validated so a hand-edited or
// corrupt field is ignored rather than obeyed.
func (t *ServerThresholds) setStored(m ThresholdMetric, v string) {
	if p, err := ParseThreshold(string(m), v); err == nil && !p.Default {
		t.set(m, p.Value)
	}
}
