// Package bot is the Slack transport: a Socket Mode loop that acks every
// envelope first, drops redeliveries, runs handlers on a bounded worker pool
// with panics contained, and delivers replies through the Web API. It knows
// Slack and the commands router, nothing else.
package bot

import (
	"context"
	"encoding/json"
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
}

// Deduper remembers envelopes already handled (Redis SET NX in production).
type Deduper interface {
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
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
}

// Bot is a Socket Mode connection plus the Web API client behind it.
type Bot struct {
	cfg       Config
	log       *slog.Logger
	api       *slack.Client
	sm        *socketmode.Client
	dedup     Deduper
	hooksHost map[string]bool // hosts a response_url may point at

	connected atomic.Bool
	everUp    atomic.Bool
	users     userCache
}

// New builds the clients; nothing connects until Run.
func New(cfg Config, dedup Deduper) *Bot {
	if cfg.APIURL == "" {
		cfg.APIURL = slack.APIURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Workers = cmpOr(cfg.Workers, 16)
	cfg.DedupTTL = cmpOr(cfg.DedupTTL, 10*time.Minute)
	cfg.HandlerTimeout = cmpOr(cfg.HandlerTimeout, 30*time.Second)
	lg := cfg.Logger.With("component", "slack")
	libLog := slogOutput{lg}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient),
		slack.OptionRetry(3),
		slack.OptionLog(libLog))
	opts := []socketmode.Option{socketmode.OptionLog(libLog)}
	if cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cfg.PingInterval))
	}
	hosts := map[string]bool{"hooks.slack.com": true}
	if u, err := url.Parse(cfg.APIURL); err == nil && u.Host != "" {
		hosts[u.Host] = true // a proxy or test server also serves the hooks
	}
	return &Bot{cfg: cfg, log: lg, api: api, sm: socketmode.New(api, opts...), dedup: dedup, hooksHost: hosts}
}

// Connected reports whether the Socket Mode connection is up (for /readyz).
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run checks the bot token, connects and serves envelopes until ctx ends,
// then waits for in-flight handlers. Bad tokens end it with an error.
func (b *Bot) Run(ctx context.Context, h Handler) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test with the bot token: %w", err)
	}
	b.log.Info("slack bot token accepted", "team", auth.Team, "bot_user_id", auth.UserID)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var inflight sync.WaitGroup
	sem := make(chan struct{}, b.cfg.Workers)
	runErr := make(chan error, 1)
	go func() { runErr <- b.sm.RunContext(ctx) }()

	defer inflight.Wait()
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
	}
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		return // lifecycle or unparseable frames: nothing to ack
	}
	b.cfg.Metrics.Envelope(string(evt.Type))
	b.log.Debug("envelope received", "type", evt.Type, "envelope_id", req.EnvelopeID, "retry_attempt", req.RetryAttempt)
	// Acknowledge first so Slack never times out, except view submissions:
	// their validation errors must travel in the ack itself.
	isSubmission := false
	if cb, ok := evt.Data.(slack.InteractionCallback); ok && cb.Type == slack.InteractionTypeViewSubmission {
		isSubmission = true
	}
	if !isSubmission {
		b.ack(req, nil)
	}
	// The slot is taken inside the goroutine so a busy pool never delays the
	// event loop, and with it the acks of the envelopes behind this one.
	inflight.Add(1)
	go func() {
		sem <- struct{}{}
		defer func() { <-sem; inflight.Done() }()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.HandlerTimeout)
		defer cancel()
		defer b.recoverPanic(req, isSubmission)
		if !b.firstSeen(hctx, dedupKey(req)) {
			if isSubmission {
				b.ack(req, nil)
			}
			return
		}
		b.handle(hctx, evt, h)
	}()
}

func (b *Bot) ack(req *socketmode.Request, payload any) {
	var err error
	if payload == nil {
		err = b.sm.Ack(*req)
	} else {
		err = b.sm.Ack(*req, payload)
	}
	if err != nil {
		b.log.Warn("ack failed", "envelope_id", req.EnvelopeID, "err", err)
	}
}

// firstSeen drops redeliveries. When the store is down the envelope is
// handled anyway: the handler then tells the user the store is unavailable.
func (b *Bot) firstSeen(ctx context.Context, key string) bool {
	first, err := b.dedup.FirstSeen(ctx, key, b.cfg.DedupTTL)
	if err != nil {
		b.log.Warn("dedup check failed; handling envelope", "key", key, "err", err)
		return true
	}
	if !first {
		b.cfg.Metrics.Duplicate()
		b.log.Info("duplicate envelope dropped", "key", key)
	}
	return first
}

// dedupKey is the event_id for Events API envelopes (Slack may redeliver an
// event under a new envelope) and the envelope_id otherwise.
func dedupKey(req *socketmode.Request) string {
	if req.Type == socketmode.RequestTypeEventsAPI {
		var p struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(req.Payload, &p) == nil && p.EventID != "" {
			return "event:" + p.EventID
		}
	}
	return "envelope:" + req.EnvelopeID
}

// slogOutput routes slack-go's logging to slog at debug level.
type slogOutput struct{ l *slog.Logger }

func (s slogOutput) Output(_ int, msg string) error {
	s.l.Debug(strings.TrimSpace(msg), "source", "slack-go")
	return nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

var errBadResponseURL = errors.New("response_url is not a Slack hooks URL")
