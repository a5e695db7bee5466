package app

import (
	"log/slog"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// newHome wires App Home (Slack only): app_home_opened and `/ops home`
// publish the person's Home, and every change of an alert or a request
// refreshes the Homes of the people who have looked at theirs (debounced).
// The router, built later, is named with serveHome.
func newHome(b *bot.Bot, st *store.Store, deps *commands.Deps, log *slog.Logger) *bot.Home {
	home := bot.NewHome(st, b.PublishHome, bot.HomeOptions{Logger: log.With("component", "home")})
	deps.HomeTab = home
	b.ServeHome(home)
	return home
}

// serveHome hands Home its builder and its change signal.
func serveHome(home *bot.Home, router *commands.Router, bg *background) {
	home.Serve(router)
	bg.onChange = append(bg.onChange, home.Changed)
}
