package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// redisTrips counts Redis network round trips (a pipeline or MULTI/EXEC
// block counts once).
type redisTrips struct{ n atomic.Int64 }

func (r *redisTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *redisTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *redisTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

const benchProfile = "0123456789abcdef0123456789abcdef"

// memSource is a scanner whose scans end at once and list the findings set,
// so the benchmark measures opsbot's processing, not HTTP.
type memSource struct {
	mu       sync.Mutex
	findings []integrations.Finding
	ended    time.Time
}

func (m *memSource) Profiles(context.Context) ([]integrations.ScanProfile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []integrations.ScanProfile{{Token: benchProfile, Endpoint: "acme.example", Verified: true,
		Latest: integrations.ScanOutcome{Started: m.ended, Ended: m.ended, Status: "completed"}}}, nil
}
func (m *memSource) StartScan(context.Context, string) error { return nil }
func (m *memSource) ScanStatus(_ context.Context, tok string) (integrations.ScanStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = time.Now()
	return integrations.ScanStatus{Profile: tok}, nil
}
func (m *memSource) Findings(context.Context) ([]integrations.Finding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.findings, nil
}

// benchFindings are n findings of one client: 1 % critical, 4 % high (so
// 5 % page), 25 % medium, 30 % low, 40 % information, each with a request
// line and a Detectify link, as /v2/vulnerabilities/ lists them.
func benchFindings(n int, status string) []integrations.Finding {
	out := make([]integrations.Finding, n)
	for i := range out {
		sev := integrations.FindingInfo
		switch p := i % 100; {
		case p < 1:
			sev = integrations.FindingCritical
		case p < 5:
			sev = integrations.FindingHigh
		case p < 30:
			sev = integrations.FindingMedium
		case p < 60:
			sev = integrations.FindingLow
		}
		st := integrations.FindingActive
		if status != "" && (sev == integrations.FindingCritical || sev == integrations.FindingHigh) {
			st = status
		}
		id := fmt.Sprintf("e26b149d-a124-44a6-a6c0-%012d", i)
		out[i] = integrations.Finding{ID: id, Title: "Reflected Cross-Site Scripting", Severity: sev, Status: st, CWE: 79,
			OWASP: "A03:2021 Injection", Asset: "acme.example", Host: fmt.Sprintf("app%d.acme.example", i%20),
			Location: fmt.Sprintf("https://app%d.acme.example/search/%d?q=", i%20, i), Link: "https://detectify.com/dashboard/findings/" + id,
			Request: fmt.Sprintf("GET https://app%d.acme.example/search/%d?q=%%3Csvg%%20onload%%3Dalert(1)%%3E", i%20, i), ResponseStatus: 200,
			Created: time.Now().Add(-time.Hour)}
	}
	return out
}

type scanBench struct {
	rdb   *redis.Client
	trips *redisTrips
	src   *memSource
	scans *jobs.Scans
}

func newScanBench(b *testing.B) *scanBench {
	srv := redistest.Start(b)
	rdb := srv.Client(b)
	sb := &scanBench{rdb: rdb, trips: &redisTrips{}, src: &memSource{}}
	rdb.AddHook(sb.trips)
	st := store.New(rdb, "opsbot:")
	routing := map[string]string{"critical": "page", "high": "page", "medium": "digest", "low": "digest", "information": "digest"}
	sb.scans = jobs.NewScans([]jobs.ScanClient{{Key: "acme", Name: "Acme", Profiles: []string{benchProfile}, Routing: routing, PagerRef: "acme"}},
		sb.src, st, jobs.NewAlerter(st, nil), jobs.ScanOptions{Channel: securityChannel})
	return sb
}

// scan starts a scan and follows it to its end (one pass: the memory
// scanner ends at once).
func (sb *scanBench) scan(b *testing.B) {
	ctx := context.Background()
	if _, err := sb.scans.Start(ctx, "acme", "UBENCH"); err != nil {
		b.Fatal(err)
	}
	if err := sb.scans.Run(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScan5000Findings applies scans of 5,000 findings (5 % high or
// critical, so paged): the first scan (all new: 250 alerts fire), a rescan
// that changes nothing (no alert), and a scan where every paged finding is
// patched (250 alerts recover). It reports findings processed per second,
// Redis round trips per finding, and Redis memory per finding (MEMORY USAGE
// of the client's findings hash over the count; alerts apart).
func BenchmarkScan5000Findings(b *testing.B) {
	const n = 5000
	for _, tc := range []struct {
		name   string
		before []string // vendor statuses of earlier scans ("": active)
		status string   // of this scan's paged findings
	}{
		{"first", nil, ""},
		{"rescan", []string{""}, ""},
		{"fixed", []string{""}, "patched"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sb := newScanBench(b)
			ctx := context.Background()
			var trips int64
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				sb.rdb.FlushDB(ctx)
				for _, st := range tc.before {
					sb.src.findings = benchFindings(n, st)
					sb.scan(b)
				}
				sb.src.findings = benchFindings(n, tc.status)
				before := sb.trips.n.Load()
				start := time.Now()
				b.StartTimer()
				sb.scan(b)
				b.StopTimer()
				elapsed += time.Since(start)
				trips += sb.trips.n.Load() - before
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "findings/s")
			b.ReportMetric(float64(trips)/float64(n*b.N), "trips/finding")
			mem, _ := sb.rdb.MemoryUsage(ctx, "opsbot:findings:acme", 0).Result()
			count, _ := sb.rdb.HLen(ctx, "opsbot:findings:acme").Result()
			if count != n {
				b.Fatalf("%d findings stored, want %d", count, n)
			}
			b.ReportMetric(float64(mem)/float64(count), "redis-B/finding")
			alert, _ := sb.rdb.MemoryUsage(ctx, "opsbot:alert:finding/acme/e26b149d-a124-44a6-a6c0-000000000001", 0).Result()
			b.ReportMetric(float64(alert), "redis-B/alert")
		})
	}
}
