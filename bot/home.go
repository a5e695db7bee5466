package bot

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// HomeBuilder builds a person's App Home view (the commands router).
type HomeBuilder interface {
	Home(ctx context.Context, u commands.User) (slack.HomeTabViewRequest, error)
}

// HomeUsers remembers who has looked at App Home (*store.Store).
type HomeUsers interface {
	NoteHomeUser(ctx context.Context, userID string, at time.Time) error
	HomeUsers(ctx context.Context, since time.Time) ([]string, error)
}

// HomeOptions tune Home; zero values get defaults.
type HomeOptions struct {
	// Window is the least time between two publishes of one person's Home
	// (Slack rate-limits views.publish per person); 5 s.
	Window time.Duration
	// Gather is how long a change waits for others before Homes are
	// refreshed, so a burst of alerts is one publish, not one per alert; 2 s.
	Gather time.Duration
	Logger *slog.Logger
}

// Home publishes App Home views (views.publish): when a person opens the
// tab, when they ask (`/ops home`), and when what it shows changes. Each
// person's Home is published at most once per Window; a request inside it
// is served once at its end, and changes within Gather are served together.
type Home struct {
	users   HomeUsers
	publish func(ctx context.Context, userID string, view slack.HomeTabViewRequest) error
	o       HomeOptions
	kick    chan struct{}

	mu      sync.Mutex
	build   HomeBuilder
	last    map[string]time.Time // last publish per person
	pending map[string]bool      // a publish is scheduled
}

// NewHome builds the publisher; publish is views.publish (Bot.PublishHome).
// Serve names the builder before anything is published.
func NewHome(users HomeUsers, publish func(ctx context.Context, userID string, view slack.HomeTabViewRequest) error, o HomeOptions) *Home {
	o.Window, o.Gather = cmp.Or(o.Window, 5*time.Second), cmp.Or(o.Gather, 2*time.Second)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return &Home{users: users, publish: publish, o: o, kick: make(chan struct{}, 1),
		last: map[string]time.Time{}, pending: map[string]bool{}}
}

// Serve sets the builder of the views (the router, built after Home).
func (h *Home) Serve(b HomeBuilder) {
	h.mu.Lock()
	h.build = b
	h.mu.Unlock()
}

// Opened is app_home_opened: the person is looking, so they are
// remembered (to be refreshed on changes) and their Home is published.
func (h *Home) Opened(ctx context.Context, userID string) {
	if err := h.users.NoteHomeUser(ctx, userID, time.Now()); err != nil {
		h.o.Logger.Warn("home user not remembered", "user_id", userID, "err", err)
	}
	h.Refresh(userID)
}

// Refresh publishes userID's Home now, or at the end of its window.
func (h *Home) Refresh(userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[userID] {
		return
	}
	h.pending[userID] = true
	wait := time.Duration(0)
	if last, ok := h.last[userID]; ok {
		wait = max(0, h.o.Window-time.Since(last))
	}
	time.AfterFunc(wait, func() { h.publishNow(userID) })
}

// Changed says something Home shows has changed (an alert, a request).
func (h *Home) Changed() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Run refreshes the Homes of the people who have looked at theirs after
// each burst of changes, until ctx ends.
func (h *Home) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.kick:
		}
		select { // gather the burst
		case <-ctx.Done():
			return nil
		case <-time.After(h.o.Gather):
		}
		select {
		case <-h.kick:
		default:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		users, err := h.users.HomeUsers(rctx, time.Now().Add(-30*24*time.Hour))
		cancel()
		if err != nil {
			h.o.Logger.Warn("home refresh: who to refresh unknown", "err", err)
			continue
		}
		for _, u := range users {
			h.Refresh(u)
		}
	}
}

func (h *Home) publishNow(userID string) {
	h.mu.Lock()
	h.pending[userID] = false
	h.last[userID] = time.Now()
	b := h.build
	h.mu.Unlock()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	view, err := b.Home(ctx, commands.User{ID: userID})
	if err == nil {
		err = h.publish(ctx, userID, view)
	}
	if err != nil {
		h.o.Logger.Warn("home not published", "user_id", userID, "err", err)
	}
}

// PublishHome publishes view as userID's Home tab (views.publish).
func (b *Bot) PublishHome(ctx context.Context, userID string, view slack.HomeTabViewRequest) error {
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: view}); err != nil {
		return fmt.Errorf("slack: views.publish for %s: %w", userID, err)
	}
	return nil
}

// ServeHome makes app_home_opened events (Home tab) publish through h.
func (b *Bot) ServeHome(h *Home) { b.home = h }
