package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// FreezeView is what `/ops freeze` reads. *store.Store satisfies it.
type FreezeView interface {
	ActiveFreezes(ctx context.Context, now time.Time) ([]store.Freeze, error)
}

var errNoFreezes = Reply{Text: ":warning: Deploy freezes are not configured on this opsbot yet (no freeze store is wired), so there are none to list."}

// runFreeze lists the active deploy freezes the caller may see (a
// stakeholder: their clients' only), the soonest to end first.
func runFreeze(ctx context.Context, c *Call) (Reply, error) {
	v := c.r.deps.Freezes
	if v == nil {
		return errNoFreezes, nil
	}
	if len(c.Args) > 0 {
		return Reply{}, userErrorf("/ops freeze", "`/ops freeze` takes no arguments; it lists the active deploy freezes of the clients you can see.")
	}
	all, err := v.ActiveFreezes(ctx, c.Now)
	if err != nil {
		return Reply{}, err
	}
	if !c.seesAll(store.PermFreezeView) {
		all = slices.DeleteFunc(all, func(f store.Freeze) bool { return !c.Principal.CanFor(store.PermFreezeView, f.Client) })
	}
	if len(all) == 0 {
		none := "No deploy freeze is active."
		if !c.seesAll(store.PermFreezeView) {
			none = "No deploy freeze is active for your clients."
		}
		return Reply{Text: none}, nil
	}
	lines := make([]string, 0, len(all))
	for _, f := range all {
		lines = append(lines, freezeLine(c, f))
	}
	title := fmt.Sprintf("Active deploy freezes (%d)", len(all))
	return listReply(title, lines), nil
}

// freezeLine is one freeze: change, client, repositories, end and reason.
func freezeLine(c *Call, f store.Freeze) string {
	repos := "_no repositories_ (announced only)"
	if len(f.Repos) > 0 {
		quoted := make([]string, len(f.Repos))
		for i, r := range f.Repos {
			quoted[i] = "`" + Escape(strings.ReplaceAll(r, "`", "'")) + "`"
		}
		repos = strings.Join(quoted, ", ")
	}
	line := fmt.Sprintf("🧊 *%s* · %s · %s · until %s (%s left)",
		Escape(f.ChangeID), c.clientName(f.Client), repos, slackDate(f.End), formatDuration(f.End.Sub(c.Now)))
	if reason := strings.TrimSpace(f.Reason); reason != "" {
		line += " · " + Escape(truncate(reason, maxReasonLen))
	}
	return line
}
