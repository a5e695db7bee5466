package store

import "github.com/redis/go-redis/v9"

// activeRecordsScript serves records that end (silences, freezes), kept as
// a hash of JSON records by ID plus a sorted set of IDs scored by end time:
// it purges the records that ended at or before now and returns the rest,
// ordered by end. KEYS: records hash, end index zset. ARGV: now ms.
var activeRecordsScript = redis.NewScript(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if #expired > 0 then
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[1], unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
end
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
if #ids == 0 then return {} end
local out = {}
for i = 1, #ids, 500 do
  local vals = redis.call('HMGET', KEYS[1], unpack(ids, i, math.min(i + 499, #ids)))
  for _, v in ipairs(vals) do
    if v then out[#out+1] = v end
  end
end
return out
`)
