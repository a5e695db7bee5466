package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// IssueCommentID returns the ID of the status comment opsbot keeps for key
// (a change request) on its GitHub issue; 0 when there is none yet.
func (s *Store) IssueCommentID(ctx context.Context, key string) (int64, error) {
	v, err := s.rdb.Get(ctx, s.key("ghcomment", key)).Result()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return 0, nil
		}
		return 0, wrap("read issue comment of "+key, err)
	}
	id, _ := strconv.ParseInt(v, 10, 64)
	return id, nil
}

// issueCommentTTL outlives any request: a status comment is edited while
// its request is open.
const issueCommentTTL = 400 * 24 * time.Hour

// SetIssueCommentID remembers the status comment of key.
func (s *Store) SetIssueCommentID(ctx context.Context, key string, id int64) error {
	err := s.rdb.Set(ctx, s.key("ghcomment", key), strconv.FormatInt(id, 10), issueCommentTTL).Err()
	return wrap("save issue comment of "+key, err)
}
