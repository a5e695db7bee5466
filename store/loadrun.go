package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// LoadRun is the loader.io test running on the account (one at a time),
// kept so that a replica carrying a re-verification on after another died
// reads the test that one started instead of starting another, which
// loader.io would refuse while the first runs.
type LoadRun struct {
	Client   string    `json:"client"`
	TestID   string    `json:"test_id"`
	ResultID string    `json:"result_id"`
	Started  time.Time `json:"started"`
}

func (s *Store) loadRunKey() string { return s.key("loaderio", "run") }

// SaveLoadRun keeps r for ttl (past it, the test is long over).
func (s *Store) SaveLoadRun(ctx context.Context, r LoadRun, ttl time.Duration) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: encode load run: %w", err)
	}
	return wrap("save load run", s.rdb.Set(ctx, s.loadRunKey(), raw, ttl).Err())
}

// CurrentLoadRun is the kept run, if any.
func (s *Store) CurrentLoadRun(ctx context.Context) (LoadRun, bool, error) {
	var r LoadRun
	found, err := readJSON(ctx, s.rdb, s.loadRunKey(), "load run", &r)
	return r, found, wrap("read load run", err)
}

// ClearLoadRun forgets the kept run once its result was read.
func (s *Store) ClearLoadRun(ctx context.Context) error {
	return wrap("clear load run", s.rdb.Del(ctx, s.loadRunKey()).Err())
}
