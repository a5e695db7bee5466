package bot_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/redis/go-redis/v9"
)

// roundTrips counts Redis network round trips (a pipeline counts once).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkCommandPath sends `/ops whoami` envelopes through the fake
// Slack's websocket into the real transport: ack, dedup and RBAC in a real
// redis-server, the router, and the reply posted to the response_url. Up to
// 64 commands are in flight, as from a busy workspace. It reports ack
// latency (envelope written → ack read by the fake), commands per second
// (until every reply is posted) and Redis round trips per command.
func BenchmarkCommandPath(b *testing.B) {
	rt := &roundTrips{}
	fake, _ := startBot(b, rt)
	fake.SetAckDeadline(0)
	const window = 64
	sem := make(chan struct{}, window)
	envs := make([]string, 0, b.N)
	before := rt.n.Load()

	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := 0
		_, _ = fake.WaitCall("response_url", func(slacktest.Call) bool {
			seen++
			<-sem
			return seen == b.N
		}, 5*time.Minute)
	}()
	for range b.N {
		sem <- struct{}{}
		envs = append(envs, fake.SlashCommand(admin, "C0OPS0001", "whoami"))
	}
	<-done
	elapsed := time.Since(start)
	b.StopTimer()

	reportAcks(b, fake, envs)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(float64(rt.n.Load()-before)/float64(b.N), "redis-rt/cmd")
}

// BenchmarkCommandPathAt1000 sends the same commands paced at 1,000 per
// second (the goal rate) and reports ack latency at that load, which is
// what a user feels; the saturated benchmark above measures the ceiling.
func BenchmarkCommandPathAt1000(b *testing.B) {
	fake, _ := startBot(b, nil)
	fake.SetAckDeadline(0)
	envs := make([]string, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		envs = append(envs, fake.SlashCommand(admin, "C0OPS0001", "whoami"))
	}
	if _, err := fake.WaitCall("response_url", countTo(b.N), time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportAcks(b, fake, envs)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
}

func countTo(n int) func(slacktest.Call) bool {
	seen := 0
	return func(slacktest.Call) bool { seen++; return seen == n }
}

func reportAcks(b *testing.B, fake *slacktest.Server, envs []string) {
	lat := make([]time.Duration, 0, len(envs))
	for _, env := range envs {
		ack, err := fake.WaitAck(env, time.Second)
		if err != nil {
			b.Fatalf("ack %s: %v", env, err)
		}
		lat = append(lat, ack.At.Sub(ack.SentAt))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "ack-p50-ms")
	b.ReportMetric(pct(0.99), "ack-p99-ms")
}
