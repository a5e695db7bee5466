package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A site's outage record: how long it was down, and how long its state was
// unknown, in each 15-minute slot, so the month's uptime is a sum of a few
// hundred numbers however often the site changed state. It is a hash per
// site with one field per UTC day ("<days since the epoch>") holding 96
// slots of two numbers (down ms, unknown ms), each 4 base-36 digits (text:
// the embedded store's Lua has no struct library): 768 bytes a day with
// any downtime, ≤ 48 KB for the 62 days kept. A period is added to the
// slots when it ends (the next state change); the current one is added by
// the reader. Every time zone's month starts on the 15-minute grid, so a
// month's total is exact to the millisecond.
const (
	outageSlot     = 15 * time.Minute
	outageSlotsDay = 96
	outageSlotSize = 8
)

func (s *Store) outageKey(key string) string { return s.key("site", key, "outage") }

// recordScript stores a check and, when the state changed, the change: the
// period that ended goes into the outage record (by the state it was in),
// the change into the transitions zset, which keeps the newest changesKept
// since the outage record began (obase) besides older ones until trimmed.
// cstate/cat are the last change recorded (registration records none).
// KEYS: site hash, transitions zset, index set, outage hash. ARGV: state,
// at ms, data json, trim-before ms, key, changes kept.
var recordScript = redis.NewScript(`
local SLOT, DAY, PER = 900000, 86400000, 96
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function enc(n)
  local out = ''
  for _ = 1, 4 do
    local d = n % 36
    out = DIGITS:sub(d + 1, d + 1) .. out
    n = math.floor(n / 36)
  end
  return out
end
local prev = redis.call('HGET', KEYS[1], 'state')
local since = redis.call('HGET', KEYS[1], 'since')
local changed = 0
local at = tonumber(ARGV[2])
local cutoffDay = math.floor(tonumber(ARGV[4]) / DAY)
local function attribute(state, from, to)
  local col = 4
  if state == 'down' then col = 0 end
  local t = from
  while t < to do
    local day = math.floor(t / DAY)
    local dayEnd = math.min((day + 1) * DAY, to)
    local field = tostring(day)
    local v = redis.call('HGET', KEYS[4], field)
    if not v then
      v = string.rep('0', PER * 8)
      for _, f in ipairs(redis.call('HKEYS', KEYS[4])) do
        if tonumber(f) < cutoffDay then redis.call('HDEL', KEYS[4], f) end
      end
    end
    while t < dayEnd do
      local slot = math.floor((t - day * DAY) / SLOT)
      local slotEnd = math.min(day * DAY + (slot + 1) * SLOT, dayEnd)
      local off = slot * 8 + col
      local cur = tonumber(v:sub(off + 1, off + 4), 36)
      v = v:sub(1, off) .. enc(cur + slotEnd - t) .. v:sub(off + 5)
      t = slotEnd
    end
    if day >= cutoffDay then redis.call('HSET', KEYS[4], field, v) end
  end
end
if prev ~= ARGV[1] then
  since = ARGV[2]
  changed = 1
  local c = redis.call('HMGET', KEYS[1], 'cstate', 'cat', 'obase')
  local obase = c[3]
  if c[2] and c[1] ~= 'up' and tonumber(c[2]) < at then attribute(c[1], tonumber(c[2]), at) end
  if not obase then
    obase = ARGV[2]
    redis.call('HSET', KEYS[1], 'obase', obase)
  end
  redis.call('HSET', KEYS[1], 'cstate', ARGV[1], 'cat', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1] .. '|' .. ARGV[2])
  -- trim old changes but keep the newest one before the cutoff: it is the
  -- state in force at the cutoff, which month uptime needs
  local old = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. ARGV[4])
  if old > 1 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, old - 2) end
  local n = redis.call('ZCOUNT', KEYS[2], obase, '+inf')
  local keep = tonumber(ARGV[6])
  if n > keep then
    local r0 = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. obase)
    redis.call('ZREMRANGEBYRANK', KEYS[2], r0, r0 + n - keep - 1)
  end
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'since', since, 'data', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[5])
return {changed, since}
`)

// Outage is how long the site under key was down and how long its state
// was unknown between from and to (to no earlier than its last change, as
// now is), as the recorded changes say: time before its first recorded
// change counts as neither. from must be on the 15-minute grid (a month's
// start is, in every time zone). Each Redis call reads a bounded amount:
// the outage record's days (≤ 32 fields of 768 bytes for a month), and any
// changes recorded by an older opsbot page by page.
func (s *Store) Outage(ctx context.Context, key string, from, to time.Time) (down, unknown time.Duration, err error) {
	v, err := s.rdb.HMGet(ctx, s.siteKey(key), "cstate", "cat", "obase").Result()
	if err != nil {
		return 0, 0, wrap("outage of "+key, err)
	}
	cstate, cat, obaseMS := str(v[0]), msTime(v[1]), msTime(v[2])
	lower := from
	if obaseMS.IsZero() || from.Before(obaseMS) {
		end := to
		if !obaseMS.IsZero() && obaseMS.Before(to) {
			end = obaseMS // from obase on, the outage record has it
			lower = obaseMS.Truncate(outageSlot)
		}
		d, u, err := s.legacyOutage(ctx, key, from, end)
		if err != nil {
			return 0, 0, err
		}
		down, unknown = down+d, unknown+u
	}
	if obaseMS.IsZero() {
		return down, unknown, nil
	}
	d, u, err := s.slotOutage(ctx, key, lower, to)
	if err != nil {
		return 0, 0, err
	}
	down, unknown = down+d, unknown+u
	if start := later(cat, from); to.After(start) && cstate != "up" && cstate != "" {
		if cstate == "down" {
			down += to.Sub(start)
		} else {
			unknown += to.Sub(start)
		}
	}
	return down, unknown, nil
}

// slotOutage sums the slots that start in [lower, to).
func (s *Store) slotOutage(ctx context.Context, key string, lower, to time.Time) (down, unknown time.Duration, err error) {
	const day = 24 * time.Hour
	first, last := lower.UnixMilli()/day.Milliseconds(), to.UnixMilli()/day.Milliseconds()
	fields := make([]string, 0, last-first+1)
	for d := first; d <= last; d++ {
		fields = append(fields, strconv.FormatInt(d, 10))
	}
	vals, err := s.rdb.HMGet(ctx, s.outageKey(key), fields...).Result()
	if err != nil {
		return 0, 0, wrap("outage of "+key, err)
	}
	for i, v := range vals {
		raw := str(v)
		dayStart := time.UnixMilli((first + int64(i)) * day.Milliseconds())
		for slot := 0; slot < outageSlotsDay && (slot+1)*outageSlotSize <= len(raw); slot++ {
			at := dayStart.Add(time.Duration(slot) * outageSlot)
			if at.Before(lower) || !at.Before(to) {
				continue
			}
			b := raw[slot*outageSlotSize:]
			d, _ := strconv.ParseUint(b[0:4], 36, 32)
			u, _ := strconv.ParseUint(b[4:8], 36, 32)
			down += time.Duration(d) * time.Millisecond
			unknown += time.Duration(u) * time.Millisecond
		}
	}
	return down, unknown, nil
}

// legacyPage is how many raw changes one call reads.
const legacyPage = 500

// legacyOutage adds up the periods of the raw changes between from and to
// (the state in force at from first), a page per call.
func (s *Store) legacyOutage(ctx context.Context, key string, from, to time.Time) (down, unknown time.Duration, err error) {
	k := s.transitionsKey(key)
	before, err := s.rdb.ZRevRangeByScore(ctx, k, &redis.ZRangeBy{Max: strconv.FormatInt(from.UnixMilli(), 10), Min: "-inf", Count: 1}).Result()
	if err != nil {
		return 0, 0, wrap("state changes of "+key, err)
	}
	var cur *StateChange
	add := func(next time.Time) {
		if cur == nil {
			return
		}
		start, end := later(cur.At, from), next
		if !end.After(start) {
			return
		}
		switch cur.State {
		case "up":
		case "down":
			down += end.Sub(start)
		default:
			unknown += end.Sub(start)
		}
	}
	step := func(m string) {
		if c, ok := parseChange(m); ok {
			add(c.At)
			cur = &c
		}
	}
	for _, m := range before {
		step(m)
	}
	// Pages start at the last score read, inclusive; the members of that
	// score already read are skipped (two changes may share a millisecond).
	min, seen := "("+strconv.FormatInt(from.UnixMilli(), 10), map[string]bool{}
	for {
		page, err := s.rdb.ZRangeByScore(ctx, k, &redis.ZRangeBy{Min: min, Max: "(" + strconv.FormatInt(to.UnixMilli(), 10), Count: legacyPage}).Result()
		if err != nil {
			return 0, 0, wrap("state changes of "+key, err)
		}
		fresh := 0
		for _, m := range page {
			if seen[m] {
				continue
			}
			fresh++
			if c, ok := parseChange(m); ok && cur != nil && !c.At.Equal(cur.At) {
				clear(seen)
			}
			seen[m] = true
			step(m)
		}
		if len(page) < legacyPage || fresh == 0 || cur == nil {
			break
		}
		min = strconv.FormatInt(cur.At.UnixMilli(), 10)
	}
	add(to)
	return down, unknown, nil
}

func parseChange(m string) (StateChange, bool) {
	state, ms, ok := strings.Cut(m, "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return StateChange{}, false
	}
	return StateChange{State: state, At: time.UnixMilli(n)}, true
}

func msTime(v any) time.Time {
	n, err := strconv.ParseInt(str(v), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
