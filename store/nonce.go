package store

import (
	"context"
	"time"
)

// Single-use forms: every sealed modal carries a random nonce, and a
// submission is accepted once. ClaimNonce is SET NX with a TTL at least as
// long as the seal's own lifetime, so a replay is refused for as long as the
// seal would verify.

// ClaimNonce records nonce as used and reports whether this is its first
// use. ttl must be at least the lifetime of what carries the nonce.
func (s *Store) ClaimNonce(ctx context.Context, nonce string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.key("nonce", nonce), 1, max(ttl, time.Second)).Result()
	if err != nil {
		return false, wrap("claim form nonce", err)
	}
	return ok, nil
}

// ReleaseNonce makes nonce usable again, for a submission that changed
// nothing (a field error keeps the form open to be fixed and sent again).
func (s *Store) ReleaseNonce(ctx context.Context, nonce string) error {
	return wrap("release form nonce", s.rdb.Del(ctx, s.key("nonce", nonce)).Err())
}
