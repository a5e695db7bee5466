package store

import (
	"context"
	"time"
)

// Mutes are what silences alerts at now: the silences people set.
func (s *Store) Mutes(ctx context.Context, now time.Time) ([]Silence, error) {
	return s.Silences(ctx, now)
}
