package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated marks an audited write that the primary applied but that
// not enough replicas confirmed within the wait (Redis WAIT). The write
// stands, and the method's other results describe it; but replication is
// asynchronous, so a failover at this moment would lose it. Tell the person
// so instead of "recorded".
var ErrNotReplicated = errors.New("recorded on the primary but not confirmed by a replica")

// Option configures a Store.
type Option func(*Store)

// WaitReplicas makes every audited write (role grants and revokes,
// silences, threshold overrides, change requests and their approvals) wait,
// at most timeout, until n replicas have it (WAIT on the connection that
// wrote). Without it a primary that dies right after answering takes the
// write with it, although the person was told it is recorded. n = 0 does
// not wait.
func WaitReplicas(n int, timeout time.Duration) Option {
	return func(s *Store) { s.waitN, s.waitTimeout = max(n, 0), timeout }
}

// KeyPrefix is the prefix the store puts before every key: prefix itself
// or, on a Redis Cluster, prefix wrapped in a hash tag ("opsbot:" →
// "{opsbot}:") so that every key lands in one slot and multi-key scripts
// and transactions (a grant with its audit entry) work. A prefix that
// already holds a hash tag is kept as it is (config refuses a broken one).
func KeyPrefix(prefix string, cluster bool) string {
	if !cluster || strings.Contains(prefix, "{") {
		return prefix
	}
	return "{" + strings.TrimSuffix(prefix, ":") + "}:"
}

// confirm waits until s.waitN replicas have acknowledged every write made so
// far on c, the connection that made the audited write: WAIT counts per
// connection, so it must not run on another one from the pool.
func (s *Store) confirm(ctx context.Context, c *redis.Tx, op string) error {
	if s.waitN == 0 {
		return nil
	}
	got, err := c.Wait(ctx, s.waitN, s.waitTimeout).Result()
	switch {
	case err != nil:
		return fmt.Errorf("store: %s: %w (WAIT failed: %v)", op, ErrNotReplicated, err)
	case got < int64(s.waitN):
		return fmt.Errorf("store: %s: %w (%d of %d replicas within %s)", op, ErrNotReplicated, got, s.waitN, s.waitTimeout)
	}
	return nil
}

// runAudited runs sc, a script that writes a record with its audit entry
// and returns 1 when it wrote (0 or less: nothing written). When replicas
// are awaited, the script and WAIT share one connection: Watch pins one (on
// a Cluster, one of the master that owns the keys' slot); nothing is
// watched for a conflict. The error is wrapped with op; an unconfirmed
// write returns its result with an ErrNotReplicated error.
func (s *Store) runAudited(ctx context.Context, op string, sc *redis.Script, keys []string, args ...any) (int64, error) {
	if s.waitN == 0 {
		n, err := sc.Run(ctx, s.rdb, keys, args...).Int64()
		return n, wrap(op, err)
	}
	var n int64
	var unconfirmed error
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		var err error
		if n, err = sc.Run(ctx, tx, keys, args...).Int64(); err != nil || n <= 0 {
			return err
		}
		unconfirmed = s.confirm(ctx, tx, op)
		return nil
	}, keys[0])
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, unconfirmed
}
