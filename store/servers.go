package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Resource kinds of a server record.
const (
	ResourceInstance = "instance" // an EC2 instance
	ResourceDatabase = "database" // an RDS DB instance
)

// Metric names of ServerResource.Metrics (the same spelling as the
// vendor-neutral integrations metrics).
const (
	MetricCPU         = "cpu"          // percent
	MetricNetworkOut  = "network_out"  // bytes per period
	MetricFreeStorage = "free_storage" // bytes
)

// ServerRecord is the last snapshot of one client's servers the server
// monitor took: what `/ops servers` shows and what the next snapshot is
// compared with (instances appearing, vanishing, changing type).
type ServerRecord struct {
	Client    string           `json:"client"`
	TakenAt   time.Time        `json:"taken_at"`
	Resources []ServerResource `json:"resources"`
	// FetchError and FetchErrorAt describe the newest failed fetch after
	// this snapshot (AWS throttling, a missing IAM permission); empty once a
	// fetch succeeds again. Set with SetServersFetchError, not by SaveServers.
	FetchError   string    `json:"-"`
	FetchErrorAt time.Time `json:"-"`
}

// ServerResource is one instance or database as last seen.
type ServerResource struct {
	Kind   string `json:"kind"` // ResourceInstance or ResourceDatabase
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Region string `json:"region,omitempty"`
	Type   string `json:"type,omitempty"`   // t3.medium, db.t3.medium
	State  string `json:"state,omitempty"`  // running, stopped, available, failed...
	Engine string `json:"engine,omitempty"` // databases
	// SystemStatus and InstanceStatus are EC2's status checks (instances).
	SystemStatus   string                 `json:"system_status,omitempty"`
	InstanceStatus string                 `json:"instance_status,omitempty"`
	StorageBytes   int64                  `json:"storage_bytes,omitempty"` // allocated (databases)
	Metrics        map[string]MetricValue `json:"metrics,omitempty"`       // newest point per metric
}

// MetricValue is one metric's newest point.
type MetricValue struct {
	Value float64   `json:"v"`
	At    time.Time `json:"at"` // start of its period
}

// Metric returns the resource's newest value of metric name.
func (r ServerResource) Metric(name string) (MetricValue, bool) {
	v, ok := r.Metrics[name]
	return v, ok
}

type fetchErrorRecord struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// serverKeys are the records hash and the fetch errors hash (both by client).
func (s *Store) serverKeys() [2]string {
	return [2]string{s.key("servers"), s.key("servers", "_errors")}
}

// SaveServers replaces the client's record and clears its fetch error, in
// one transaction.
func (s *Store) SaveServers(ctx context.Context, rec ServerRecord) error {
	if rec.Client == "" {
		return errors.New("store: save servers: client is required")
	}
	rec.TakenAt = rec.TakenAt.UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: save servers of %s: %w", rec.Client, err)
	}
	keys := s.serverKeys()
	p := s.rdb.TxPipeline()
	p.HSet(ctx, keys[0], rec.Client, b)
	p.HDel(ctx, keys[1], rec.Client)
	_, err = p.Exec(ctx)
	return wrap("save servers of "+rec.Client, err)
}

// SetServersFetchError records why the newest fetch of client's servers
// failed; the last good snapshot stays.
func (s *Store) SetServersFetchError(ctx context.Context, client, reason string, at time.Time) error {
	b, err := json.Marshal(fetchErrorRecord{Reason: reason, At: at.UTC()})
	if err != nil {
		return fmt.Errorf("store: servers fetch error of %s: %w", client, err)
	}
	return wrap("servers fetch error of "+client, s.rdb.HSet(ctx, s.serverKeys()[1], client, b).Err())
}

// Servers returns client's record; ok is false when there is neither a
// snapshot nor a fetch error yet.
func (s *Store) Servers(ctx context.Context, client string) (rec ServerRecord, ok bool, err error) {
	keys := s.serverKeys()
	p := s.rdb.Pipeline()
	recCmd := p.HGet(ctx, keys[0], client)
	errCmd := p.HGet(ctx, keys[1], client)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return ServerRecord{}, false, wrap("servers of "+client, err)
	}
	all, err := decodeServers(map[string]string{client: recCmd.Val()}, map[string]string{client: errCmd.Val()})
	if err != nil {
		return ServerRecord{}, false, err
	}
	rec, ok = all[client]
	return rec, ok, nil
}

// AllServers returns every client's record in one round trip.
func (s *Store) AllServers(ctx context.Context) (map[string]ServerRecord, error) {
	keys := s.serverKeys()
	p := s.rdb.Pipeline()
	recs := p.HGetAll(ctx, keys[0])
	errs := p.HGetAll(ctx, keys[1])
	if _, err := p.Exec(ctx); err != nil {
		return nil, wrap("list servers", err)
	}
	return decodeServers(recs.Val(), errs.Val())
}

// decodeServers joins records and fetch errors by client; empty values are
// absent ones. A corrupt record is an error (it would hide a client).
func decodeServers(recs, errs map[string]string) (map[string]ServerRecord, error) {
	out := make(map[string]ServerRecord, len(recs))
	for client, v := range recs {
		if v == "" {
			continue
		}
		var r ServerRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("store: servers of %s: bad record: %w", client, err)
		}
		r.Client = client
		out[client] = r
	}
	for client, v := range errs {
		if v == "" {
			continue
		}
		var fe fetchErrorRecord
		if err := json.Unmarshal([]byte(v), &fe); err != nil {
			continue // a corrupt note only loses the note
		}
		r := out[client]
		r.Client, r.FetchError, r.FetchErrorAt = client, fe.Reason, fe.At
		out[client] = r
	}
	return out, nil
}
