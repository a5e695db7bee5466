package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// SigningKey returns the key that seals modal metadata, creating it on first
// use. Every replica reads the same key, so a modal opened through one
// replica can be submitted through another.
func (s *Store) SigningKey(ctx context.Context) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	key := s.key("signing-key")
	if err := s.rdb.SetNX(ctx, key, hex.EncodeToString(b[:]), 0).Err(); err != nil {
		return nil, wrap("create signing key", err)
	}
	v, err := s.rdb.Get(ctx, key).Result()
	if err != nil {
		return nil, wrap("read signing key", err)
	}
	return hex.DecodeString(v)
}
