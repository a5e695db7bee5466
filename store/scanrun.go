package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ScanRunStatus is where one scan of a client's profiles stands.
type ScanRunStatus string

// Scan run statuses.
const (
	ScanRunning ScanRunStatus = "running" // profiles still scanning, or findings still to read
	ScanDone    ScanRunStatus = "done"    // findings read and applied
	ScanFailed  ScanRunStatus = "failed"  // no profile could be scanned, or it ran out of time
)

// ScanRun is one scan of a client's profiles, from its start to the summary
// of what it found: the scan monitor follows it, and its one message in the
// security channel shows where it stands.
type ScanRun struct {
	ID       string           `json:"id"`
	Client   string           `json:"client"`
	By       string           `json:"by,omitempty"` // who started it; "" for the schedule
	Started  time.Time        `json:"started"`
	Ended    time.Time        `json:"ended,omitzero"`
	Status   ScanRunStatus    `json:"status"`
	Profiles []ScanProfileRun `json:"profiles"`
	Summary  *FindingSummary  `json:"summary,omitempty"`
	Error    string           `json:"error,omitempty"` // why it failed or is delayed, in words
	Channel  string           `json:"channel"`         // where its message is
	Version  int64            `json:"version"`
}

// ScanProfileRun is one profile's part of a scan.
type ScanProfileRun struct {
	Token    string    `json:"token"`
	Name     string    `json:"name,omitempty"`
	Endpoint string    `json:"endpoint,omitempty"`
	Phase    string    `json:"phase,omitempty"` // the scanner's words, as last polled
	State    string    `json:"state,omitempty"`
	Done     bool      `json:"done,omitempty"`
	Outcome  string    `json:"outcome,omitempty"` // how it ended: completed, stopped, failed, not started ...
	Note     string    `json:"note,omitempty"`    // e.g. "already running at Detectify: followed"
	Ended    time.Time `json:"ended,omitzero"`
}

// Finished reports whether the run is over.
func (r ScanRun) Finished() bool { return r.Status == ScanDone || r.Status == ScanFailed }

// MessageKey names the run's one message (a KeptMessage).
func (r ScanRun) MessageKey() string { return "scan/" + r.Client + "/" + r.ID }

// ProfilesDone reports whether every profile's scan has ended.
func (r ScanRun) ProfilesDone() bool {
	for _, p := range r.Profiles {
		if !p.Done {
			return false
		}
	}
	return true
}

func (s *Store) scanRunKey(client string) string { return s.key("scan", client) }
func (s *Store) activeScansKey() string          { return s.key("scans", "active") }

// ErrScanRunExists is returned by StartScanRun while the client's last run
// is still going.
var ErrScanRunExists = errors.New("a scan of this client is already running")

// StartScanRun records run as the client's current scan, with its audit
// entry ("scan.start") and the deliveries announcing it, unless a run of the
// client is still going: then it returns that run and ErrScanRunExists.
func (s *Store) StartScanRun(ctx context.Context, run ScanRun, now time.Time, items []OutboxItem) (ScanRun, error) {
	k := s.scanRunKey(run.Client)
	var existing ScanRun
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		cur, ok, err := readScanRun(ctx, tx, k)
		if err != nil {
			return err
		}
		if ok && !cur.Finished() {
			existing = cur
			return ErrScanRunExists
		}
		if err := s.checkAuditWritable(ctx, tx); err != nil {
			return err
		}
		run.Version = 1
		data, err := json.Marshal(run)
		if err != nil {
			return fmt.Errorf("encode scan run: %w", err)
		}
		tokens := make([]string, len(run.Profiles))
		for i, p := range run.Profiles {
			tokens[i] = p.Token
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			s.addAudit(ctx, p, AuditEntry{At: now, Actor: run.By, Action: "scan.start", Target: run.ID, Client: run.Client,
				To: string(run.Status), Detail: "profiles " + strings.Join(tokens, ", ")})
			p.Set(ctx, k, data, 0)
			p.SAdd(ctx, s.activeScansKey(), run.Client)
			return s.enqueue(ctx, p, now, items)
		})
		return err
	}, k)
	if errors.Is(err, ErrScanRunExists) {
		return existing, err
	}
	if errors.Is(err, redis.TxFailedErr) {
		return ScanRun{}, fmt.Errorf("store: start scan of %s: %w", run.Client, ErrConflict)
	}
	if err != nil {
		return ScanRun{}, wrap("start scan of "+run.Client, err)
	}
	return run, nil
}

// UpdateScanRun lets fn change the client's current run and name the
// deliveries to make, saved and queued in one transaction (re-run on a
// concurrent change). A finished run leaves the set of active runs.
func (s *Store) UpdateScanRun(ctx context.Context, client string, now time.Time, fn func(r *ScanRun) ([]OutboxItem, error)) (ScanRun, error) {
	k := s.scanRunKey(client)
	for range 16 {
		var out ScanRun
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			r, ok, err := readScanRun(ctx, tx, k)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no scan run of %s", client)
			}
			items, err := fn(&r)
			if err != nil {
				return err
			}
			r.Version++
			data, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("encode scan run: %w", err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k, data, 0)
				if r.Finished() {
					p.SRem(ctx, s.activeScansKey(), client)
				}
				return s.enqueue(ctx, p, now, items)
			})
			out = r
			return err
		}, k)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return ScanRun{}, wrap("update scan of "+client, err)
		}
		return out, nil
	}
	return ScanRun{}, fmt.Errorf("store: update scan of %s: %w", client, ErrConflict)
}

func readScanRun(ctx context.Context, c redis.Cmdable, k string) (ScanRun, bool, error) {
	var r ScanRun
	found, err := readJSON(ctx, c, k, "scan run "+k, &r)
	return r, found, err
}

// LastScanRun returns the client's current or last scan run.
func (s *Store) LastScanRun(ctx context.Context, client string) (ScanRun, bool, error) {
	r, ok, err := readScanRun(ctx, s.rdb, s.scanRunKey(client))
	return r, ok, wrap("read scan of "+client, err)
}

// ActiveScanRuns returns the runs still going, in two round trips.
func (s *Store) ActiveScanRuns(ctx context.Context) ([]ScanRun, error) {
	clients, err := s.rdb.SMembers(ctx, s.activeScansKey()).Result()
	if err != nil || len(clients) == 0 {
		return nil, wrap("list active scans", err)
	}
	keys := make([]string, len(clients))
	for i, c := range clients {
		keys[i] = s.scanRunKey(c)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("read active scans", err)
	}
	var out []ScanRun
	for i, v := range vals {
		str, ok := v.(string)
		var r ScanRun
		if !ok || json.Unmarshal([]byte(str), &r) != nil || r.Finished() {
			s.rdb.SRem(ctx, s.activeScansKey(), clients[i]) // stale entry
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
