package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// LastFire is the latest fire of job recorded as finished; zero if none.
func (s *Store) LastFire(ctx context.Context, job string) (time.Time, error) {
	v, err := s.rdb.Get(ctx, s.key("fires", job)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("read last fire of "+job, err)
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil // unreadable: treated as never, so it is re-based
	}
	return time.Unix(sec, 0).UTC(), nil
}

// setLaterScript keeps the later of the stored and the given unix time.
var setLaterScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`)

// SetLastFire records that the fire at of job finished; an older fire
// finishing late never moves the record back.
func (s *Store) SetLastFire(ctx context.Context, job string, at time.Time) error {
	return wrap("record fire of "+job, setLaterScript.Run(ctx, s.rdb, []string{s.key("fires", job)}, at.Unix()).Err())
}
