package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// closedLoopUsers is how many people type commands at once in the
// closed-loop benchmarks: each sends the next only once it sees a reply.
const closedLoopUsers = 5

// BenchmarkCommandPathVsBare puts opsbot beside a bare slack-go Socket Mode
// bot that does only what every bot must (the same Redis role read and
// envelope de-duplication through the same store, then the reply in the
// ack), each on its own fake Slack and on one redis-server. Five people in
// a closed loop send `/ops help`; the two bots take turns in rounds, so
// both see the same machine. It reports each bot's ack p50 and time per
// command (until the person sees the reply), the ratios opsbot/bare (the
// goal is at most 1.2), Redis round trips and allocations per command
// (the allocations of the whole process during a bot's rounds, fake
// Slack and Redis client included).
func BenchmarkCommandPathVsBare(b *testing.B) {
	srv := redistest.Start(b)
	ops, bare := newLoopSide(b, srv.Addr), newLoopSide(b, srv.Addr)
	startOpsbot(b, ops)
	// The bare bot answers with the very reply opsbot renders.
	reply := ops.warm(b)
	startBareBot(b, bare, reply)
	bare.warm(b)

	const round = 50
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		ops.run(b, n)
		bare.run(b, n)
	}
	b.StopTimer()

	opsAck, bareAck := ops.ackP50(), bare.ackP50()
	opsCmd, bareCmd := ops.perCommand(), bare.perCommand()
	b.ReportMetric(opsAck, "ack-p50-ms")
	b.ReportMetric(bareAck, "bare-ack-p50-ms")
	b.ReportMetric(opsAck/bareAck, "ack-ratio")
	b.ReportMetric(opsCmd, "us/cmd")
	b.ReportMetric(bareCmd, "bare-us/cmd")
	b.ReportMetric(opsCmd/bareCmd, "time-ratio")
	b.ReportMetric(ops.perCmd(ops.roundTrips()), "redis-rt/cmd")
	b.ReportMetric(bare.perCmd(bare.roundTrips()), "bare-redis-rt/cmd")
	b.ReportMetric(ops.perCmd(ops.mallocs), "mallocs/cmd")
	b.ReportMetric(bare.perCmd(bare.mallocs), "bare-mallocs/cmd")
}

// loopSide is one bot under test with its fake Slack, store and tallies.
type loopSide struct {
	fake    *slacktest.Server
	st      *store.Store
	rt      *roundTrips
	rtBase  int64
	acks    []time.Duration
	elapsed time.Duration
	cmds    int
	mallocs uint64
}

func newLoopSide(b *testing.B, addr string) *loopSide {
	rt := &roundTrips{}
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	rdb.AddHook(rt)
	b.Cleanup(func() { _ = rdb.Close() })
	fake := slacktest.New(b)
	fake.SetAckDeadline(0)
	return &loopSide{fake: fake, st: store.New(rdb, fmt.Sprintf("bench%p:", rt)), rt: rt}
}

// startOpsbot runs opsbot's transport and router as app.Run wires them:
// Info-level JSON logs (to nowhere) and Prometheus metrics.
func startOpsbot(b *testing.B, s *loopSide) {
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := metrics.New()
	ob := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: s.fake.APIURL(), Logger: log, Metrics: m}, s.st)
	router, err := commands.New(commands.Deps{Roles: s.st, Audit: s.st, Directory: ob, Admins: []string{admin},
		SigningKey: []byte("0123456789abcdef0123456789abcdef"), Logger: log, Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	run(b, s.fake, func(ctx context.Context) error { return ob.Run(ctx, router) })
}

// startBareBot runs the baseline: slack-go's Socket Mode client, one
// goroutine per envelope, dedup and role read, reply in the ack.
func startBareBot(b *testing.B, s *loopSide, reply json.RawMessage) {
	api := slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-test"), slack.OptionAPIURL(s.fake.APIURL()))
	sm := socketmode.New(api)
	run(b, s.fake, func(ctx context.Context) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case evt := <-sm.Events:
					cmd, ok := evt.Data.(slack.SlashCommand)
					if !ok || evt.Request == nil {
						continue
					}
					go func() {
						first, err := s.st.FirstSeen(ctx, "envelope:"+evt.Request.EnvelopeID, store.MinDedupTTL)
						if err != nil || !first {
							_ = sm.AckCtx(ctx, evt.Request.EnvelopeID, nil)
							return
						}
						if _, err := s.st.Roles(ctx, cmd.UserID); err != nil {
							_ = sm.AckCtx(ctx, evt.Request.EnvelopeID, map[string]string{"text": "Roles unavailable."})
							return
						}
						_ = sm.AckCtx(ctx, evt.Request.EnvelopeID, reply)
					}()
				}
			}
		}()
		return sm.RunContext(ctx)
	})
}

// run starts a bot until the benchmark ends and waits for its socket.
func run(b *testing.B, fake *slacktest.Server, start func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = start(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if err := fake.WaitConnected(5 * time.Second); err != nil {
		b.Fatal(err)
	}
}

// warm sends a few commands (connections opened, caches filled) and
// returns the payload of a reply to `help`, as an ack would carry it.
func (s *loopSide) warm(b *testing.B) json.RawMessage {
	var reply map[string]any
	for i := range 2 * closedLoopUsers {
		env := s.fake.SlashCommand(loopUser(i), "C0OPS0001", "help")
		c, err := s.fake.WaitResponse(env, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		reply = c.JSON
	}
	delete(reply, "replace_original")
	delete(reply, "delete_original")
	raw, err := json.Marshal(reply)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func loopUser(i int) string { return fmt.Sprintf("UBENCH%04d", i%closedLoopUsers) }

// run sends n commands from closedLoopUsers people, each waiting to see
// the reply to one before sending the next, and adds to the tallies.
func (s *loopSide) run(b *testing.B, n int) {
	if s.cmds == 0 {
		s.rtBase = s.rt.n.Load()
	}
	envs := make([][]string, closedLoopUsers)
	var wg sync.WaitGroup
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for u := range closedLoopUsers {
		count := n / closedLoopUsers
		if u < n%closedLoopUsers {
			count++
		}
		wg.Go(func() {
			for range count {
				env := s.fake.SlashCommand(loopUser(u), "C0OPS0001", "help")
				if _, err := s.fake.WaitResponse(env, 10*time.Second); err != nil {
					b.Error(err)
					return
				}
				envs[u] = append(envs[u], env)
			}
		})
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	runtime.ReadMemStats(&after)
	s.mallocs += after.Mallocs - before.Mallocs
	s.cmds += n
	for _, env := range slices.Concat(envs...) {
		ack, err := s.fake.WaitAck(env, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		s.acks = append(s.acks, ack.At.Sub(ack.SentAt))
	}
}

func (s *loopSide) ackP50() float64 {
	slices.Sort(s.acks)
	return float64(s.acks[(len(s.acks)-1)/2].Microseconds()) / 1000
}

func (s *loopSide) perCommand() float64 {
	return float64(s.elapsed.Microseconds()) / float64(s.cmds)
}

func (s *loopSide) roundTrips() uint64 { return uint64(s.rt.n.Load() - s.rtBase) }

func (s *loopSide) perCmd(n uint64) float64 { return float64(n) / float64(s.cmds) }
