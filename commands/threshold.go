package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// ThresholdStore keeps the per-client threshold overrides; *store.Store
// satisfies it. SetThreshold writes the override and its audit entry in one
// atomic step.
type ThresholdStore interface {
	AllThresholds(ctx context.Context) (map[string]store.ServerThresholds, error)
	SetThreshold(ctx context.Context, actor, client string, v store.ThresholdValue, now time.Time) (prev float64, changed bool, err error)
}

const (
	thresholdExample    = "/ops threshold set acme cpu 85"
	thresholdSetUsage   = "`/ops threshold set <client> <metric> <value>` (metrics: cpu, free_storage_gb, periods, spike_factor; value `default` removes the override)"
	thresholdListPrefix = "/ops threshold list"
)

var errNoThresholds = Reply{Text: ":warning: Threshold overrides are not available on this opsbot (server monitoring is not configured). Thresholds come from `servers.thresholds` and each client's `thresholds` in opsbot.yaml."}

// runThreshold is `threshold list [client]` and `threshold set <client> <metric> <value>`.
func runThreshold(ctx context.Context, c *Call) (Reply, error) {
	if c.r.deps.Thresholds == nil {
		return errNoThresholds, nil
	}
	if len(c.Args) == 0 {
		return Reply{}, userErrorf(thresholdExample, "Say what to do: `/ops threshold list [client]` or %s.", thresholdSetUsage)
	}
	switch strings.ToLower(c.Args[0]) {
	case "list":
		return thresholdList(ctx, c, c.Args[1:])
	case "set":
		if err := c.Require(store.PermThresholdSet, "change alert thresholds"); err != nil {
			return Reply{}, err
		}
		return thresholdSet(ctx, c, c.Args[1:])
	}
	return Reply{}, userErrorf(thresholdExample, "%q is not something `/ops threshold` does: use `list` or `set`.", Escape(truncate(c.Args[0], 40)))
}

// thresholdSet validates everything before writing anything: a bad client,
// metric or value stores nothing and writes no audit entry.
func thresholdSet(ctx context.Context, c *Call, args []string) (Reply, error) {
	if len(args) != 3 {
		return Reply{}, userErrorf(thresholdExample, "%s takes a client, a metric and a value: %s.", "`/ops threshold set`", thresholdSetUsage)
	}
	client, err := c.resolveClient(args[0], thresholdExample)
	if err != nil {
		return Reply{}, err
	}
	v, err := store.ParseThreshold(args[1], args[2])
	var ie *store.ThresholdInputError
	if errors.As(err, &ie) {
		return Reply{}, &UserError{Msg: Escape(ie.Msg), Example: "/ops threshold set " + client + " " + ie.Example}
	}
	if err != nil {
		return Reply{}, err
	}
	prev, changed, err := c.r.deps.Thresholds.SetThreshold(ctx, c.User.ID, client, v, c.Now)
	if err != nil {
		if storeTrouble(err) {
			return Reply{}, err
		}
		ref := newRef()
		c.r.log.Error("threshold change refused: audit entry not written", "ref", ref, "client", client, "metric", string(v.Metric), "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not write the audit entry, so the threshold was not changed (ref %s). Tell the support team.", ref)}, nil
	}
	all, err := c.r.deps.Thresholds.AllThresholds(ctx)
	if err != nil {
		return Reply{}, err
	}
	eff := store.ResolveThresholds(c.r.deps.ThresholdDefaults, c.r.deps.ServerThresholds[client], all[client])
	now := store.FormatThreshold(v.Metric, eff.Get(v.Metric)) + " (" + string(eff.Sources[v.Metric]) + ")"
	switch {
	case !changed && v.Default:
		return Reply{Text: fmt.Sprintf("%s has no override for *%s*; nothing changed. In force: %s.", c.clientName(client), v.Metric, now)}, nil
	case !changed:
		return Reply{Text: fmt.Sprintf("*%s* for %s is already overridden to %s; nothing changed.", v.Metric, c.clientName(client), v.Format())}, nil
	case v.Default:
		return Reply{Text: fmt.Sprintf(":white_check_mark: Removed the *%s* override (%s) for %s. In force now: %s. Recorded in the audit log.",
			v.Metric, store.FormatThreshold(v.Metric, prev), c.clientName(client), now)}, nil
	}
	was := ""
	if prev > 0 {
		was = " (override was " + store.FormatThreshold(v.Metric, prev) + ")"
	}
	return Reply{Text: fmt.Sprintf(":white_check_mark: *%s* for %s is now %s%s. The server monitor uses it from its next round. Recorded in the audit log.",
		v.Metric, c.clientName(client), v.Format(), was)}, nil
}

// thresholdList shows the thresholds in force and where each comes from.
func thresholdList(ctx context.Context, c *Call, args []string) (Reply, error) {
	if len(args) > 1 {
		return Reply{}, userErrorf(thresholdListPrefix+" acme", "`/ops threshold list` takes at most one client.")
	}
	all, err := c.r.deps.Thresholds.AllThresholds(ctx)
	if err != nil {
		return Reply{}, err
	}
	visible := clientsFor(c, store.PermThresholdList, all)
	if len(args) == 1 {
		client, err := c.pickClient(store.PermThresholdList, args[0], visible, thresholdListPrefix)
		if err != nil {
			return Reply{}, err
		}
		return c.thresholdsOne(client, all[client]), nil
	}
	d := c.r.deps.ThresholdDefaults
	parts := make([]string, len(store.ThresholdMetrics))
	for i, m := range store.ThresholdMetrics {
		parts[i] = string(m) + " " + store.FormatThreshold(m, d.Get(m))
	}
	blocks := []slack.Block{header("Alert thresholds"),
		slack.NewSectionBlock(mrkdwn("Built-in defaults: "+strings.Join(parts, " · ")+"\nEach value shows where it comes from: default, config (opsbot.yaml) or override (`/ops threshold set`)."), nil, nil)}
	lines := make([]string, 0, len(visible))
	for _, k := range visible {
		eff := store.ResolveThresholds(d, c.r.deps.ServerThresholds[k], all[k])
		vals := make([]string, len(store.ThresholdMetrics))
		for i, m := range store.ThresholdMetrics {
			vals[i] = fmt.Sprintf("%s %s (%s)", m, store.FormatThreshold(m, eff.Get(m)), eff.Sources[m])
		}
		lines = append(lines, c.clientName(k)+": "+strings.Join(vals, " · "))
	}
	if len(lines) == 0 {
		lines = append(lines, "No clients are configured yet.")
	}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: fmt.Sprintf("Alert thresholds of %s", plural(len(visible), "client")), Blocks: blocks}, nil
}

// thresholdsOne lists one client's thresholds with every layer.
func (c *Call) thresholdsOne(client string, over store.ServerThresholds) Reply {
	d, conf := c.r.deps.ThresholdDefaults, c.r.deps.ServerThresholds[client]
	eff := store.ResolveThresholds(d, conf, over)
	title := truncate("Alert thresholds — "+c.plainClientName(client), 140)
	lines := make([]string, len(store.ThresholdMetrics))
	for i, m := range store.ThresholdMetrics {
		layers := []string{"default " + store.FormatThreshold(m, d.Get(m))}
		if v := conf.Get(m); v > 0 {
			layers = append(layers, "config "+store.FormatThreshold(m, v))
		}
		if v := over.Get(m); v > 0 {
			layers = append(layers, "override "+store.FormatThreshold(m, v))
		}
		lines[i] = fmt.Sprintf("*%s* %s — from %s (%s)", m, store.FormatThreshold(m, eff.Get(m)), eff.Sources[m], strings.Join(layers, ", "))
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(strings.Join(lines, "\n")), nil, nil),
		slack.NewContextBlock("", mrkdwn("Change one with `/ops threshold set "+client+" <metric> <value>`; `default` removes an override."))}
	return Reply{Text: title, Blocks: blocks}
}
