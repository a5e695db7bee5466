package app

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/383project/opsbot/bot/console"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/httpapi"
	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
	"golang.org/x/sync/errgroup"
)

// runConsole serves /ops in the terminal (no Slack tokens): the local user
// is an admin; on the embedded store the monitors run here too.
func runConsole(ctx context.Context, cfg *config.Config, deps commands.Deps, st *store.Store, m *metrics.Metrics, o runOptions,
	getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer, log *slog.Logger) int {
	interactive := isTerminal(stdin)
	name := cmp.Or(getenv("USER"), "you")
	// On a shared Redis (REDIS_URL or redis.addrs) the console would take
	// deliveries and scheduled runs away from the running opsbot and print
	// Slack alerts to this terminal; it only serves commands there unless asked.
	embedded := cfg.RedisMode() == config.RedisEmbedded
	background := embedded || getenv("OPSBOT_CONSOLE_BACKGROUND") == "1"
	co := console.Options{In: stdin, Out: stdout, Interactive: interactive, Local: o.local,
		User: commands.User{ID: consoleUserID, Name: name}, FileDir: filepath.Join(os.TempDir(), "opsbot"),
		// Acting as someone else is for trying roles on a throwaway store:
		// on a shared Redis an approval made so would be a real one.
		AllowAs: embedded}
	if background {
		co.Settle = func(ctx context.Context) { settle(ctx, st, 30*time.Second) }
		o.world.outboxWorkers = cmp.Or(o.world.outboxWorkers, 1)
	}
	con := console.New(co)
	deps.Directory, deps.Files = con, con
	deps.Emails = o.emails
	deps.Admins = append(deps.Admins, consoleUserID)
	bg, router, err := newRouter(cfg, st, deps, con, o.world, m, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	if o.banner != "" {
		io.WriteString(stdout, o.banner)
	} else if interactive {
		console.Banner(stdout, true, co.AllowAs)
	}
	g, gctx := errgroup.WithContext(ctx)
	runCtx, endInput := context.WithCancel(gctx)
	if background {
		bg.start(runCtx, g)
		g.Go(func() error { return router.RunSteps(runCtx) })
	} else {
		fmt.Fprintln(stderr, "opsbot: console on a shared Redis (REDIS_URL or redis.addrs): monitors and deliveries are not started here; set OPSBOT_CONSOLE_BACKGROUND=1 to start them.")
	}
	if o.ready != nil {
		if err := o.ready(runCtx, bg, con); err != nil {
			endInput()
			_ = g.Wait()
			fmt.Fprintf(stderr, "opsbot: %v\n", err)
			return exitFailure
		}
	}
	g.Go(func() error { defer endInput(); return con.Run(runCtx, router) })
	if cfg.HTTP.Addr != "" {
		g.Go(func() error {
			return serveHTTP(runCtx, cfg.HTTP.Addr, withFreeze(st, cfg, httpapi.Handler(m.Handler(), redisReady(st, log))), log)
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintf(stderr, "opsbot: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// settle waits until no change request's long step (a cut-over, a
// rollback, smoke checks) is running and the outbox has delivered
// everything queued, at most limit: piped, the console calls it after each
// line, so what the line caused (a channel post, a DM, an updated message)
// prints before the next line runs. Items wait in the outbox only until
// delivered (or while a failing one is retried), never for a later time.
// The steps are read before the backlog: a step ends in the transaction
// that queues its last messages, so once it is seen ended they are counted.
func settle(ctx context.Context, st *store.Store, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		open, err := st.OpenChanges(ctx)
		if err != nil {
			return
		}
		if !slices.ContainsFunc(open, func(cr store.ChangeRequest) bool { return cr.Step != nil }) {
			queues, _, err := st.OutboxBacklog(ctx)
			if err != nil || queues == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
