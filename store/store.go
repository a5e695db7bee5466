// Package store keeps opsbot's state in Redis: roles, the audit log,
// envelope de-duplication and, later, every record the capabilities need.
// Pure rules (who may do what) live beside the records and need no Redis.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable marks an error caused by Redis not answering (refused,
// timed out, loading, failing over), as opposed to a bug or a bad record.
// Callers show "the state store is unavailable" and change nothing.
var ErrUnavailable = errors.New("state store unavailable")

// Store is the Redis-backed state. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string

	waitN       int           // replicas an audited write waits for (WaitReplicas)
	waitTimeout time.Duration // at most this long
}

// New wraps a go-redis client. Every key starts with prefix (e.g. "opsbot:");
// on a Redis Cluster, with prefix wrapped in a hash tag (see KeyPrefix).
func New(rdb redis.UniversalClient, prefix string, opts ...Option) *Store {
	_, cluster := rdb.(*redis.ClusterClient)
	s := &Store{rdb: rdb, prefix: KeyPrefix(prefix, cluster)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Prefix is what every key of the store starts with.
func (s *Store) Prefix() string { return s.prefix }

// Ping checks that Redis answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.rdb.Ping(ctx).Err())
}

func (s *Store) key(parts ...string) string {
	return s.prefix + strings.Join(parts, ":")
}

// wrap adds context to a Redis error and marks connectivity failures with
// ErrUnavailable so callers can tell "Redis is down" from "this is a bug".
func wrap(op string, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("store: %s: %w: %v", op, ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func unavailable(err error) bool {
	if errors.Is(err, errAuditUnwritable) {
		return false // Redis answered; the audit key is broken
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		// Not a reply from a server: dial refused, i/o timeout, pool
		// timeout, closed connection, context deadline.
		return true
	}
	msg := rerr.Error()
	// NOREPLICAS: the primary refuses writes while fewer replicas than its
	// min-replicas-to-write are connected (nothing was written).
	for _, p := range []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
