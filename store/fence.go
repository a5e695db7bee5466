package store

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// SwapFence stores token as the named fence and returns the token it held
// ("" when none). A writer that keeps a fence finds its own last token each
// time while Redis holds everything it wrote before that token; any other
// answer says Redis restarted empty or went back to an older copy (a
// failover to a replica that missed writes, a restore).
func (s *Store) SwapFence(ctx context.Context, name, token string) (string, error) {
	old, err := s.rdb.GetSet(ctx, s.key("fence", name), token).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return old, wrap("fence "+name, err)
}
