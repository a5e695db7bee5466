package commands

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// ShieldView reads the Shield check's last results (*store.Store).
type ShieldView interface {
	ShieldRecords(ctx context.Context) (map[string]store.ShieldRecord, error)
}

// ShieldRefresher checks one client now, through the daily job's path
// (*jobs.Shield).
type ShieldRefresher interface {
	Refresh(ctx context.Context, client string) (store.ShieldRecord, error)
}

const shieldExample = "/ops shield acme"

var errNoShield = Reply{Text: ":warning: The Shield check is not configured on this opsbot: no client has an `aws:` section. " +
	"Ask an admin to add one (with `shield: advanced` for clients that pay for Shield Advanced) in opsbot.yaml."}

// verdictEmoji pairs each verdict with an emoji and its word (never colour alone).
var verdictEmoji = map[string]string{"unprotected": "🔴", "unprotectable": "🟠", "protected": "🟢", "private": "⚪"}

// verdictOrder shows the worst first.
var verdictOrder = []string{"unprotected", "unprotectable", "protected", "private"}

// runShield is `shield [client] [--refresh]`.
func runShield(ctx context.Context, c *Call) (Reply, error) {
	d := c.r.deps
	if d.Shield == nil || len(d.ShieldLevels) == 0 {
		return errNoShield, nil
	}
	var words []string
	refresh := false
	for _, w := range c.Args {
		switch lw := strings.ToLower(w); {
		case lw == "--refresh" || lw == "refresh":
			refresh = true
		case strings.HasPrefix(lw, "-"):
			return Reply{}, userErrorf(shieldExample, "`/ops shield` knows the option `--refresh`; %q is not one.", Escape(truncate(w, 30)))
		default:
			words = append(words, w)
		}
	}
	if len(words) > 1 {
		return Reply{}, userErrorf(shieldExample, "`/ops shield` takes at most one client.")
	}
	recs, err := d.Shield.ShieldRecords(ctx)
	if err != nil {
		return Reply{}, err
	}
	visible := slices.Sorted(maps.Keys(d.ShieldLevels))
	if len(words) == 0 {
		if refresh {
			return Reply{}, userErrorf(shieldExample+" --refresh", "Name the client to check now.")
		}
		return c.shieldAll(recs, visible), nil
	}
	client, err := c.pickClient(store.PermShieldView, words[0], visible, "/ops shield")
	if err != nil {
		return Reply{}, err
	}
	rec, has := recs[client]
	if (refresh || !has) && d.ShieldRefresh != nil {
		fresh, ferr := d.ShieldRefresh.Refresh(ctx, client)
		if ferr != nil {
			c.r.log.Warn("shield check failed", "client", client, "user_id", c.User.ID, "err", ferr)
		}
		rec = fresh
	}
	return c.shieldOne(client, rec), nil
}

// shieldAll is one line per client.
func (c *Call) shieldAll(recs map[string]store.ShieldRecord, clients []string) Reply {
	title := "Shield — all clients"
	lines := make([]string, 0, len(clients))
	for _, k := range clients {
		rec, has := recs[k]
		line := "⚪ " + c.clientName(k) + " — not checked yet"
		if has && !rec.TakenAt.IsZero() {
			line = shieldSummary(rec, c.r.deps.ShieldLevels[k])
			line = c.clientName(k) + " — " + line + " · " + formatDuration(c.Now.Sub(rec.TakenAt)) + " ago"
			if inactive, exposed := rec.Gaps(); inactive || len(exposed) > 0 {
				line = "🔴 " + line
			} else {
				line = "🟢 " + line
			}
		}
		if rec.FetchError != "" {
			line += " · ⚠️ the latest check failed"
		}
		lines = append(lines, line)
	}
	summary := fmt.Sprintf("%d clients. `/ops shield <client>` shows each instance.", len(clients))
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}

// shieldSummary is the verdict counts ("Shield Advanced, subscription
// ACTIVE: 4 instances: 1 unprotected, ...").
func shieldSummary(rec store.ShieldRecord, level string) string {
	if level != "advanced" {
		public := 0
		for _, i := range rec.Instances {
			if i.PublicIP != "" {
				public++
			}
		}
		return fmt.Sprintf("Shield Standard: automatic, not verifiable · %d running instances, %d public", len(rec.Instances), public)
	}
	counts := map[string]int{}
	for _, i := range rec.Instances {
		counts[i.Verdict]++
	}
	var parts []string
	for _, v := range verdictOrder {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	s := fmt.Sprintf("Shield Advanced, subscription %s · %d running instances", strings.ToLower(rec.Subscription), len(rec.Instances))
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// shieldOne is one client: the subscription, then each instance.
func (c *Call) shieldOne(client string, rec store.ShieldRecord) Reply {
	level := c.r.deps.ShieldLevels[client]
	title := truncate(c.plainClientName(client)+" — Shield", 140)
	if rec.TakenAt.IsZero() {
		text := "Not checked yet."
		if rec.FetchError != "" {
			text = "The check failed: " + Escape(truncate(oneLine(rec.FetchError), 300))
		}
		return Reply{Text: title + ": " + text, Blocks: []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(text), nil, nil)}}
	}
	summary := shieldSummary(rec, level)
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	var lines []string
	if level == "advanced" {
		if rec.Subscription != "ACTIVE" {
			lines = append(lines, "🔴 *The Shield Advanced subscription is "+Escape(strings.ToLower(rec.Subscription))+"*: nothing in this account is protected. Renew it in the Shield console.")
		}
		ins := slices.Clone(rec.Instances)
		slices.SortStableFunc(ins, func(a, b store.ShieldInstance) int {
			return slices.Index(verdictOrder, a.Verdict) - slices.Index(verdictOrder, b.Verdict)
		})
		for _, i := range ins {
			lines = append(lines, verdictEmoji[i.Verdict]+" "+Escape(i.Label())+" — "+Escape(store.ShieldAdvice(i)))
		}
	} else {
		for _, i := range rec.Instances {
			if i.PublicIP != "" {
				lines = append(lines, "🌐 "+Escape(i.Label())+" — public address "+Escape(i.PublicIP))
			}
		}
		if len(lines) == 0 {
			lines = append(lines, "No public instances.")
		}
	}
	note := "Checked " + formatDuration(c.Now.Sub(rec.TakenAt)) + " ago (" + slackDate(rec.TakenAt) + ") by the daily Shield check."
	if rec.FetchError != "" {
		note += " ⚠️ The latest check failed: " + Escape(truncate(oneLine(rec.FetchError), 300)) + " Older data shown."
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(note)))
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}
