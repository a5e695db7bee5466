package jobs_test

// The server monitor's test rig: a scripted snapshot source, the monitor on
// a real Redis, and readers of what it queued.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

var srvT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const supportChannel = "C0SUPPORT1"

// snapSource is a scripted ServerSource for the monitor's rules: it
// returns the snapshot (or error) set for the client.
type snapSource struct {
	mu    sync.Mutex
	snaps map[string]integrations.ServerSnapshot
	errs  map[string]error
	calls int
}

func (s *snapSource) Snapshot(_ context.Context, client string, _ integrations.ServerScope, q jobs.ServerQuery) (integrations.ServerSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := s.errs[client]; err != nil {
		return integrations.ServerSnapshot{}, err
	}
	snap := s.snaps[client]
	snap.TakenAt = q.Now
	return snap, nil
}

func (s *snapSource) set(client string, snap integrations.ServerSnapshot, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps[client], s.errs[client] = snap, err
}

type serverRig struct {
	st  *store.Store
	rdb *redis.Client
	src *snapSource
	mon *jobs.Servers
	now time.Time
}

func newServerRig(t *testing.T, c jobs.ServerClient) *serverRig {
	t.Helper()
	src := &snapSource{snaps: map[string]integrations.ServerSnapshot{}, errs: map[string]error{}}
	r := newServerRigWith(t, c, src)
	r.src = src
	return r
}

// newServerRigWith builds the monitor for one client on a real Redis with src.
func newServerRigWith(t *testing.T, c jobs.ServerClient, src jobs.ServerSource) *serverRig {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	r := &serverRig{st: store.New(rdb, "opsbot:"), rdb: rdb, now: srvT0}
	r.mon = jobs.NewServers([]jobs.ServerClient{c}, src, r.st, jobs.NewAlerter(r.st, nil), jobs.ServersOptions{
		Defaults: store.ServerThresholds{CPU: 90, FreeStorageGB: 5, Periods: 3, SpikeFactor: 4},
		Period:   5 * time.Minute, Now: func() time.Time { return r.now }})
	return r
}

func acmeClient() jobs.ServerClient {
	return jobs.ServerClient{Key: "acme", Name: "Acme <Ltd>", Channel: supportChannel, PagerRef: "acme", StatusChecks: true,
		Scope: integrations.ServerScope{Regions: []string{"eu-west-1"}, TagKey: "client", TagValue: "acme"}}
}

// run does one round at the rig's clock and moves the clock a period on.
func (r *serverRig) run(t *testing.T) {
	t.Helper()
	if err := r.mon.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(5 * time.Minute)
}

// series is a metric with one point per 5-minute period ending just before the rig's clock.
func series(end time.Time, resource, metric string, values ...float64) integrations.MetricSeries {
	m := integrations.MetricSeries{Resource: resource, Metric: metric}
	for i, v := range values {
		m.Points = append(m.Points, integrations.MetricPoint{At: end.Add(time.Duration(i-len(values)) * 5 * time.Minute), Value: v})
	}
	return m
}

func web(id, typ string) integrations.Instance {
	return integrations.Instance{ID: id, Name: "web-" + id, Region: "eu-west-1", Type: typ, State: "running", SystemStatus: "ok", InstanceStatus: "ok"}
}

type queued struct {
	Kind    string
	Subject string
	Payload map[string]any
}

// outbox lists every queued delivery, by queue then order.
func outbox(t *testing.T, rdb *redis.Client) []queued {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "opsbot:outbox:q:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	var out []queued
	for _, k := range keys {
		for _, raw := range rdb.LRange(ctx, k, 0, -1).Val() {
			var it store.OutboxItem
			if err := json.Unmarshal([]byte(raw), &it); err != nil {
				t.Fatal(err)
			}
			q := queued{Kind: it.Kind, Subject: it.Subject}
			_ = json.Unmarshal(it.Payload, &q.Payload)
			out = append(out, q)
		}
	}
	return out
}

// posts are the standalone messages queued, their texts.
func posts(t *testing.T, rdb *redis.Client) []string {
	t.Helper()
	var out []string
	for _, q := range outbox(t, rdb) {
		if q.Kind == "slack.post" {
			if q.Payload["channel"] != supportChannel {
				t.Errorf("post to %v, want the support channel", q.Payload["channel"])
			}
			out = append(out, fmt.Sprint(q.Payload["text"]))
		}
	}
	return out
}

func (r *serverRig) alert(t *testing.T, key string) store.Alert {
	t.Helper()
	a, _, err := r.st.GetAlert(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pagerEvents are the queued PagerDuty events of one alert key.
func pagerEvents(t *testing.T, rdb *redis.Client, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, q := range outbox(t, rdb) {
		if q.Kind == "pagerduty" && q.Subject == key {
			ev, _ := q.Payload["event"].(map[string]any)
			out = append(out, ev)
		}
	}
	return out
}
