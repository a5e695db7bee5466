package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// ServersView is what `/ops servers` reads: the server monitor's last
// snapshots and the threshold overrides, all from the state store (Redis),
// never from AWS. *store.Store satisfies it.
type ServersView interface {
	AllServers(ctx context.Context) (map[string]store.ServerRecord, error)
	AllThresholds(ctx context.Context) (map[string]store.ServerThresholds, error)
}

const serversExample = "/ops servers acme"

var errNoServers = Reply{Text: ":warning: Server monitoring is not configured on this opsbot, so there are no servers to show. Ask an admin to give clients an `aws:` section (instances, databases or a resource tag) in opsbot.yaml."}

// serversData is everything read from Redis for one /ops servers.
type serversData struct {
	records   map[string]store.ServerRecord
	overrides map[string]store.ServerThresholds
}

// runServers is `servers [client]`.
func runServers(ctx context.Context, c *Call) (Reply, error) {
	view := c.r.deps.Servers
	if view == nil {
		return errNoServers, nil
	}
	if len(c.Args) > 1 {
		return Reply{}, userErrorf(serversExample, "`/ops servers` takes at most one client.")
	}
	recs, err := view.AllServers(ctx)
	if err != nil {
		return Reply{}, err
	}
	over, err := view.AllThresholds(ctx)
	if err != nil {
		return Reply{}, err
	}
	d := serversData{records: recs, overrides: over}
	visible := clientsFor(c, store.PermServersView, d.records)
	if len(c.Args) == 0 {
		return c.serversAll(d, visible), nil
	}
	client, err := c.pickClient(store.PermServersView, c.Args[0], visible, "/ops servers")
	if err != nil {
		return Reply{}, err
	}
	return c.serversOne(d, client), nil
}

// effective are client's thresholds in force, with their sources.
func (c *Call) effective(d serversData, client string) store.EffectiveThresholds {
	return store.ResolveThresholds(c.r.deps.ThresholdDefaults, c.r.deps.ServerThresholds[client], d.overrides[client])
}

// serversOne is one client: summary, data age, then a line per resource.
func (c *Call) serversOne(d serversData, client string) Reply {
	rec, has := d.records[client]
	eff := c.effective(d, client)
	title := truncate(c.plainClientName(client)+" — servers", 140)
	res := sortedResources(rec.Resources, eff)
	summary := resourceSummary(res, eff)
	if len(rec.Resources) == 0 {
		summary = "No instances or databases seen for this client yet."
		if !has || rec.TakenAt.IsZero() {
			summary = "No server data yet: the server monitor has not read this client's AWS account."
		}
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if note := c.dataNote(rec); note != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(note)))
	}
	lines := make([]string, len(res))
	for i, r := range res {
		lines[i] = resourceLine(r, eff)
	}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}

// serversAll is one summary line per client the caller may see.
func (c *Call) serversAll(d serversData, visible []string) Reply {
	title := "Servers — all your clients"
	if unscoped, _ := c.Principal.Scope(store.PermServersView); unscoped {
		title = "Servers — all clients"
	}
	type row struct {
		class int
		line  string
	}
	var rows []row
	var inst, dbs int
	counts := map[int]int{}
	for _, k := range visible {
		rec, has := d.records[k]
		eff := c.effective(d, k)
		res := sortedResources(rec.Resources, eff)
		for _, r := range res {
			if r.Kind == store.ResourceDatabase {
				dbs++
			} else {
				inst++
			}
			counts[resourceClass(r, eff)]++
		}
		class, line := 9, "⚪ "+c.clientName(k)+" — no server data yet"
		if has && !rec.TakenAt.IsZero() {
			class = 5
			if len(res) > 0 {
				class = resourceClass(res[0], eff)
			}
			line = classEmoji(class) + " " + c.clientName(k) + " — " + resourceSummary(res, eff) + " · " + c.age(rec)
		}
		if rec.FetchError != "" {
			line += " · ⚠️ " + Escape(truncate(oneLine(rec.FetchError), 120))
		}
		rows = append(rows, row{class, line})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.class - b.class })
	clients := "clients"
	if len(visible) == 1 {
		clients = "client"
	}
	summary := fmt.Sprintf("%d %s · %s", len(visible), clients, summaryText(inst, dbs, counts))
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if len(visible) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("You can't see any client yet. Ask an admin for a role, e.g. `/ops role grant @you stakeholder acme`."), nil, nil))
		return Reply{Text: title + ": " + summary, Blocks: blocks}
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = r.line
	}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}

// dataNote says how old the data is and why it may be stale.
func (c *Call) dataNote(rec store.ServerRecord) string {
	var parts []string
	if !rec.TakenAt.IsZero() {
		parts = append(parts, "Data from "+c.age(rec)+" ("+slackDate(rec.TakenAt)+"), read by the server monitor.")
	}
	if rec.FetchError != "" {
		parts = append(parts, fmt.Sprintf("⚠️ The latest read failed %s ago: %s", formatDuration(c.Now.Sub(rec.FetchErrorAt)), Escape(truncate(oneLine(rec.FetchError), 300))))
		if !rec.TakenAt.IsZero() {
			parts = append(parts, "Older data shown.")
		}
	}
	return strings.Join(parts, " ")
}

// age is "4m ago".
func (c *Call) age(rec store.ServerRecord) string {
	return formatDuration(c.Now.Sub(rec.TakenAt)) + " ago"
}
