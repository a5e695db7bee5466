package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Who has looked at App Home, so that a change (an alert firing) can
// refresh theirs: a sorted set of user IDs by when they last opened it.
const (
	homeUsersKept = 30 * 24 * time.Hour
	homeUsersMax  = 1000
)

// NoteHomeUser remembers that userID opened Home at at. People who have not
// looked for 30 days are forgotten, and at most the latest 1,000 are kept.
func (s *Store) NoteHomeUser(ctx context.Context, userID string, at time.Time) error {
	k := s.key("home", "users")
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, k, redis.Z{Score: float64(at.UnixMilli()), Member: userID})
		p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(at.Add(-homeUsersKept).UnixMilli(), 10))
		p.ZRemRangeByRank(ctx, k, 0, -homeUsersMax-1)
		return nil
	})
	return wrap("note home user", err)
}

// HomeUsers are the people who opened Home since since, latest first.
func (s *Store) HomeUsers(ctx context.Context, since time.Time) ([]string, error) {
	ids, err := s.rdb.ZRevRangeByScore(ctx, s.key("home", "users"), &redis.ZRangeBy{
		Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf"}).Result()
	return ids, wrap("home users", err)
}
