// Package bot is the Slack transport: a Socket Mode loop that acks every
// envelope in time (a slash command's quick reply and a form's answer in
// the ack, everything else first), drops redeliveries, runs handlers on a
// bounded worker pool with panics contained, and delivers replies through
// the Web API. It knows Slack and the commands router, nothing else.
package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/metrics"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Handler is the commands router.
type Handler interface {
	Command(ctx context.Context, c commands.Command) commands.Reply
	Action(ctx context.Context, a commands.Action) commands.Reply
	Submit(ctx context.Context, s commands.Submission) commands.SubmitResult
	// Suggest lists the options of an external_select as the person types
	// (block_suggestion); nil means none.
	Suggest(ctx context.Context, s commands.Suggestion) []*slack.OptionBlockObject
	// LinkShared answers a link_shared event with URL → unfurl attachment;
	// nil (or empty) means no unfurl.
	LinkShared(ctx context.Context, ev commands.LinkShared) map[string]slack.Attachment
}

// Config configures the transport. Tokens are only handed to slack-go.
type Config struct {
	BotToken   string // xoxb-...
	AppToken   string // xapp-... (connections:write)
	APIURL     string // Web API base ending in "/"; default https://slack.com/api/
	HTTPClient *http.Client
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	Workers    int           // concurrent handlers; default 16
	DedupTTL   time.Duration // default 10 minutes
	// HandlerTimeout bounds one handler's work, including after shutdown
	// begins, so in-flight commands finish before exit; default 30 s.
	HandlerTimeout time.Duration
	// PingInterval is how long without a ping from Slack before the socket
	// is considered dead; 0 keeps slack-go's default (30 s).
	PingInterval time.Duration
	// SubmitAckBudget is how long a view_submission's ack waits for the
	// router: past it the modal is closed with a plain ack (Slack allows 3 s)
	// and the outcome reaches the user as a DM; default 2.5 s.
	SubmitAckBudget time.Duration
	// CommandAckBudget is how long a slash command's ack waits for its
	// reply, which then travels in the ack; past it the command is acked
	// plain and the reply posted to its response_url; default 100 ms, so
	// an ack never waits long on stuck work (a Redis stall, a slow API).
	CommandAckBudget time.Duration
}

// Bot is a Socket Mode connection plus the Web API client behind it.
type Bot struct {
	cfg       Config
	log       *slog.Logger
	api       *slack.Client
	outboxAPI *slack.Client // no in-library retry: the outbox reschedules
	sm        *socketmode.Client
	dedup     Deduper
	hooksHost map[string]bool // hosts a response_url may point at
	// selfID is the bot's user ID from auth.test, set by Run before any
	// envelope is handled; events from it (its own messages) are ignored.
	selfID string

	home      *Home // App Home publisher; nil: app_home_opened is ignored
	connected atomic.Bool
	lastAck   atomic.Int64   // when an ack was last queued (Unix ns), for flushAcks
	unacked   sync.WaitGroup // envelopes taken and not yet acked, for waitAcked
	everUp    atomic.Bool
	users     userCache
	channels  channelDirectory
}

// New builds the clients; nothing connects until Run.
func New(cfg Config, dedup Deduper) *Bot {
	if cfg.APIURL == "" {
		cfg.APIURL = slack.APIURL
	}
	cfg.Workers = cmp.Or(cfg.Workers, 16)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: newTransport(cfg.Workers)}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.DedupTTL = cmp.Or(cfg.DedupTTL, 10*time.Minute)
	cfg.HandlerTimeout = cmp.Or(cfg.HandlerTimeout, 30*time.Second)
	cfg.SubmitAckBudget = cmp.Or(cfg.SubmitAckBudget, 2500*time.Millisecond)
	cfg.CommandAckBudget = cmp.Or(cfg.CommandAckBudget, 100*time.Millisecond)
	lg := cfg.Logger.With("component", "slack")
	libLog := slogOutput{lg}
	common := []slack.Option{slack.OptionAppLevelToken(cfg.AppToken), slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient), slack.OptionLog(libLog)}
	api := slack.New(cfg.BotToken, append(common, slack.OptionRetry(3))...)
	// Posts and updates come from the outbox, which retries with Retry-After
	// itself: slack-go's own retry would sleep out a 429 holding a worker.
	outbox := slack.New(cfg.BotToken, common...)
	opts := []socketmode.Option{socketmode.OptionLog(libLog)}
	if cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.PingInterval))
	}
	hosts := map[string]bool{"hooks.slack.com": true}
	if u, err := url.Parse(cfg.APIURL); err == nil && u.Host != "" {
		hosts[u.Host] = true // a proxy or test server also serves the hooks
	}
	return &Bot{cfg: cfg, log: lg, api: api, outboxAPI: outbox, sm: socketmode.New(api, opts...), dedup: dedup, hooksHost: hosts}
}

// newTransport is the one HTTP transport of the Web API and response_url
// posts. It keeps an idle connection to Slack for every worker (plus the
// outbox's and App Home's): the default two per host made most posts of a
// busy pool open a new TLS connection.
func newTransport(workers int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = workers + 4
	t.MaxIdleConns = max(t.MaxIdleConns, 2*t.MaxIdleConnsPerHost)
	return t
}

// Connected reports whether the Socket Mode connection is up (for /readyz).
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run checks the bot token, connects and serves envelopes until ctx ends,
// then waits for in-flight handlers. Bad tokens end it with an error; other
// auth.test failures (network, 5xx) are retried until ctx ends.
func (b *Bot) Run(ctx context.Context, h Handler) error {
	auth, err := b.authTest(ctx)
	if err != nil {
		return err
	}
	if auth == nil {
		return nil // ctx ended before Slack answered
	}
	b.log.Info("slack bot token accepted", "team", auth.Team, "bot_user_id", auth.UserID)
	b.selfID = auth.UserID

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var inflight sync.WaitGroup
	sem := make(chan struct{}, b.cfg.Workers)
	runErr := make(chan error, 1)
	// The socket outlives ctx until every envelope taken has been acked: a
	// command being answered when the stop comes still needs the socket for
	// its ack (and the reply riding in it). Handlers already acked finish
	// without it, so the socket is not held (and fed envelopes nobody reads)
	// for a handler's whole timeout. No envelope is dispatched after ctx ends.
	sockCtx, closeSocket := context.WithCancel(context.WithoutCancel(ctx))
	go func() { runErr <- b.sm.RunContext(sockCtx) }()

	defer inflight.Wait()
	defer closeSocket()
	defer b.flushAcks()
	defer b.waitAcked(ackDrainTimeout)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			b.connected.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt := <-b.sm.Events:
			b.dispatch(ctx, evt, h, sem, &inflight)
		}
	}
}

func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event, h Handler, sem chan struct{}, inflight *sync.WaitGroup) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		return
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !b.connected.Swap(true) && evt.Type == socketmode.EventTypeConnected {
			if b.everUp.Swap(true) {
				b.cfg.Metrics.Reconnect()
				b.log.Info("slack socket reconnected")
			} else {
				b.log.Info("slack socket connected")
			}
		}
		return
	case socketmode.EventTypeDisconnect, socketmode.EventTypeConnectionError:
		b.connected.Store(false)
		return
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("slack rejected the app token (invalid_auth)")
		return
	case socketmode.EventTypeErrorBadMessage:
		b.ackUnparsed(evt)
		return
	}
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		return // lifecycle or unparseable frames: nothing to ack
	}
	b.cfg.Metrics.Envelope(string(evt.Type))
	if b.log.Enabled(ctx, slog.LevelDebug) { // its arguments cost allocations on every envelope
		b.log.Debug("envelope received", "type", evt.Type, "envelope_id", req.EnvelopeID, "retry_attempt", req.RetryAttempt)
	}
	a := newEnvAck(b, req)
	// View submissions and block suggestions carry their answer (validation
	// errors, options) in the ack, so they are acked after the router
	// answers, within SubmitAckBudget. They skip the shared pool: waiting
	// for a slot could cost the 3 s Slack allows.
	if cb, ok := evt.Data.(slack.InteractionCallback); ok {
		var serve func()
		switch cb.Type {
		case slack.InteractionTypeViewSubmission:
			serve = func() { b.serveSubmission(ctx, a, cb, h) }
		case slack.InteractionTypeBlockSuggestion:
			serve = func() { b.serveSuggestion(ctx, a, cb, h) }
		}
		if serve != nil {
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				defer b.recoverPanic(a)
				serve()
			}()
			return
		}
	}
	// A slash command's reply rides in its ack when it is ready in time.
	if cmd, ok := evt.Data.(slack.SlashCommand); ok && req.AcceptsResponsePayload {
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			b.serveCommand(ctx, a, cmd, h, sem)
		}()
		return
	}
	// Everything else is acknowledged first so Slack never times out.
	a.send(nil)
	// The slot is taken inside the goroutine so a busy pool never delays the
	// event loop, and with it the acks of the envelopes behind this one.
	inflight.Add(1)
	go func() {
		sem <- struct{}{}
		defer func() { <-sem; inflight.Done() }()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.HandlerTimeout)
		defer cancel()
		defer b.recoverPanic(a)
		if !b.firstSeen(hctx, dedupKey(req)) {
			return
		}
		b.handle(hctx, evt, h)
	}()
}

// slogOutput routes slack-go's logging to slog at debug level.
type slogOutput struct{ l *slog.Logger }

func (s slogOutput) Output(_ int, msg string) error {
	s.l.Debug(strings.TrimSpace(msg), "source", "slack-go")
	return nil
}

var errBadResponseURL = errors.New("response_url is not a Slack hooks URL")
