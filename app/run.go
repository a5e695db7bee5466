package app

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/console"
	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/httpapi"
	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // something broke while running
	exitUsage   = 2 // bad flags or configuration: fix and start again
)

// consoleUserID is the local console's user; it is always an admin.
const consoleUserID = "ULOCALUSER"

// Run is the whole program: wiring only. It returns the exit code. The
// arguments are injected (not read from os) so end-to-end tests drive it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("opsbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", getenv("OPSBOT_CONFIG"), "YAML config `file` (or OPSBOT_CONFIG)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: opsbot [--config FILE]\n       opsbot demo\n       opsbot config check FILE\n       opsbot healthcheck URL\n\nWithout SLACK_BOT_TOKEN and SLACK_APP_TOKEN opsbot runs a local console; opsbot demo runs it in a made-up world.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if rest := fs.Args(); len(rest) > 0 {
		switch {
		case len(rest) == 3 && rest[0] == "config" && rest[1] == "check":
			return checkConfig(ctx, rest[2], getenv, stdout, stderr)
		case len(rest) == 2 && rest[0] == "healthcheck":
			return healthcheck(ctx, rest[1], stderr)
		case len(rest) == 1 && rest[0] == "demo":
			return runDemo(ctx, getenv, stdin, stdout, stderr)
		}
		fs.Usage()
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath, getenv, probeRule)
	if err != nil {
		fmt.Fprintf(stderr, "opsbot: configuration problems:\n%v\n", err)
		return exitUsage
	}
	return serve(ctx, cfg, getenv, runOptions{}, stdin, stdout, stderr)
}

// runOptions are what one kind of run adds to opsbot. The zero value is
// plain `opsbot`; `opsbot demo` fills them (demo.go).
type runOptions struct {
	world  world
	emails commands.Emails          // people's emails, to act as them at PagerDuty; nil: unknown (console)
	local  map[string]console.Local // console-only commands, such as /demo
	banner string                   // printed when the console starts, piped or not
	// ready runs once the router is built and the background started,
	// before the console reads a line.
	ready func(ctx context.Context, bg *background, dir commands.Directory) error
}

// serve runs opsbot on cfg: on Slack with both tokens, else in the console.
func serve(ctx context.Context, cfg *config.Config, getenv func(string) string, o runOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	if consoleImpossible(cfg, getenv, stdin) {
		fmt.Fprintln(stderr, noSlackInContainer)
		return exitUsage
	}
	if o.world.getenv == nil {
		o.world.getenv = getenv
	}
	log := newLogger(cfg, stderr)
	redis.SetLogger(redisLog{log.With("component", "redis")})

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default handling: a second
	// Ctrl-C or SIGTERM ends the process at once.
	go func() { <-ctx.Done(); stop() }()

	conn, err := openRedis(ctx, cfg, log)
	if err != nil {
		log.Error("cannot open the state store", "err", err)
		return exitFailure
	}
	defer conn.close()
	st := conn.store(cfg)
	log.Info("state store", "mode", conn.mode, "key_prefix", st.Prefix(),
		"wait_replicas", cfg.RedisWaitReplicas(conn.cluster), "wait_timeout", cfg.Redis.WaitTimeout.String())
	signing, err := signingKey(ctx, st, getenv)
	if err != nil {
		log.Error("cannot reach Redis at start-up", "err", err)
		return exitFailure
	}
	m := metrics.New()
	deps := commands.Deps{Roles: st, Audit: st, Silences: st, Freezes: st, ChangeLog: st, Admins: cfg.Admins, Clients: clientNames(cfg),
		Channels: channelsOf(cfg), StepLeases: st, SigningKey: signing, Logger: log.With("component", "commands"), Metrics: m}

	if !cfg.SlackEnabled() {
		return runConsole(ctx, cfg, deps, st, m, o, getenv, stdin, stdout, stderr, log)
	}
	b := bot.New(bot.Config{BotToken: cfg.Secrets.SlackBotToken.Reveal(), AppToken: cfg.Secrets.SlackAppToken.Reveal(),
		APIURL: cfg.Slack.APIURL, Logger: log, Metrics: m}, st)
	deps.Directory, deps.Emails, deps.Files = b, b, b
	missing := resolveChannels(ctx, cfg, b, log)
	deps.Channels = channelsOf(cfg) // now IDs: --here compares them with the command's channel ID
	home := newHome(b, st, &deps, log)
	bg, router, err := newRouter(cfg, st, deps, b, o.world, m, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	serveHome(home, router, bg)
	addr := cmp.Or(cfg.HTTP.Addr, ":8080")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.Run(gctx, router) })
	bg.start(gctx, g)
	g.Go(func() error { return router.RunSteps(gctx) })
	g.Go(func() error { return home.Run(gctx) })
	g.Go(func() error {
		return serveHTTP(gctx, addr, withFreeze(st, cfg, httpapi.Handler(m.Handler(),
			redisReady(st, log),
			httpapi.Check{Name: "slack", Down: "not connected to Slack (Socket Mode)", Run: func(context.Context) error {
				if !b.Connected() {
					return errors.New("socket mode not connected")
				}
				return nil
			}},
			httpapi.Check{Name: "channels", Plain: true, Run: channelsCheck(b, missing)})), log)
	})
	log.Info("opsbot started", "mode", "slack", "http_addr", addr)
	if err := g.Wait(); err != nil {
		log.Error("opsbot stopped", "err", err)
		return exitFailure
	}
	log.Info("opsbot stopped cleanly")
	return exitOK
}

// newRouter builds the background machinery around poster (the Slack bot or
// the console) and the command router that uses it; both transports share it.
func newRouter(cfg *config.Config, st *store.Store, deps commands.Deps, poster chat.Poster, w world, m *metrics.Metrics,
	log *slog.Logger) (*background, *commands.Router, error) {
	bg, err := newBackground(cfg, st, poster, w, log)
	if err != nil {
		return nil, nil, fmt.Errorf("set up the monitors: %w", err)
	}
	bg.wire(&deps)
	bg.instrument(m)
	router, err := commands.New(deps)
	if err != nil {
		return nil, nil, fmt.Errorf("build the command router: %w", err)
	}
	bg.launch.router = router
	return bg, router, nil
}

// healthcheck GETs url and exits 0 on 200: the container image has no shell
// or curl, so the binary probes itself (docker-compose healthcheck).
func healthcheck(ctx context.Context, url string, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %s\n", url, resp.Status)
		return exitFailure
	}
	return exitOK
}

func signingKey(ctx context.Context, st *store.Store, getenv func(string) string) ([]byte, error) {
	if k := getenv("OPSBOT_SIGNING_KEY"); k != "" {
		return []byte(k), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return st.SigningKey(ctx)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	if !cfg.SlackEnabled() && level < slog.LevelWarn && cfg.Log.Level != "debug" {
		level = slog.LevelWarn // keep the console quiet unless asked
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func clientNames(cfg *config.Config) map[string]string {
	out := make(map[string]string, len(cfg.Clients))
	for k, c := range cfg.Clients {
		out[k] = c.Name
	}
	return out
}

// channelsOf says whose the configured channels are, for sharing files
// with --here: the team's (support, finance, security, change requests) and
// each client's own (alerts, general).
func channelsOf(cfg *config.Config) commands.Channels {
	ch := commands.Channels{Clients: map[string][]string{}}
	for _, c := range []string{cfg.Channels.Support, cfg.Channels.Finance, cfg.Channels.Security, cfg.Changes.Channel} {
		if c != "" && !slices.Contains(ch.Team, c) {
			ch.Team = append(ch.Team, c)
		}
	}
	for key, cl := range cfg.Clients {
		for _, c := range []string{cl.Channels.Alerts, cl.Channels.General} {
			if c != "" {
				ch.Clients[key] = append(ch.Clients[key], c)
			}
		}
	}
	return ch
}

// redisLog sends go-redis's internal messages to slog.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Debug(fmt.Sprintf(format, v...))
}
