package commands

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// SiteView is what `/ops status` reads: everything comes from the state
// store (Redis), never from a vendor. *store.Store satisfies it.
type SiteView interface {
	SiteStatuses(ctx context.Context) ([]store.SiteStatus, error)
	SourceStatuses(ctx context.Context) ([]store.SourceStatus, error)
	Alerts(ctx context.Context) ([]store.Alert, error)
	// Mutes are the silences and change windows in force at now.
	Mutes(ctx context.Context, now time.Time) ([]store.Silence, error)
}

const (
	statusExample = "/ops status acme"
	maxSiteError  = 200 // characters of a down site's error shown
	maxSourceWhy  = 200 // characters of a source's failure reason shown
)

var errNoSites = Reply{Text: ":warning: Uptime monitoring is not configured on this opsbot, so there is no status to show yet. Ask an admin to set up StatusCake or the own probes under `uptime:` in opsbot.yaml."}

// slackUserID recognises a Slack user ID (alerts record who acknowledged them).
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// siteView is one site with everything `/ops status` says about it.
type siteView struct {
	st       store.SiteStatus
	alert    *store.Alert // open (firing or acknowledged) alert, if any
	silenced bool
	window   string // the change whose window mutes it, if one does
}

// class orders and colours a site: lower is more urgent.
func (s siteView) class() int {
	switch {
	case s.silenced:
		if s.st.State == "down" {
			return 2
		}
		return 4
	case s.alert != nil && s.alert.Status == store.AlertAcknowledged:
		return 1
	case s.st.State == "down":
		return 0
	case s.st.State == "up":
		return 5
	}
	return 3 // unknown
}

// attention says whether the site belongs in the "down first" list.
func (s siteView) attention() bool {
	return s.st.State == "down" || (s.alert != nil && s.alert.Status == store.AlertAcknowledged)
}

// word is the emoji and status word (never colour alone, UX.md).
func (s siteView) word() string {
	state := s.st.State
	switch {
	case s.window != "":
		return "⏸️ *change window* " + Escape(s.window) + " (" + stateWord(state) + ")"
	case s.silenced:
		return "⏸️ *silenced* (" + stateWord(state) + ")"
	case s.alert != nil && s.alert.Status == store.AlertAcknowledged:
		return "🟠 *acknowledged* (" + stateWord(state) + ")"
	case state == "down":
		return "🔴 *down*"
	case state == "up":
		return "🟢 *up*"
	}
	return "⚪ *unknown*"
}

func stateWord(state string) string {
	switch state {
	case "up", "down":
		return state
	}
	return "unknown"
}

// statusData is everything read from Redis for one /ops status.
type statusData struct {
	sites   map[string][]siteView // client → sites, sorted
	sources []store.SourceStatus
	scans   string // one client's Detectify line ("" when scans are not wired)
}

func loadStatus(ctx context.Context, v SiteView, now time.Time) (statusData, error) {
	sites, err := v.SiteStatuses(ctx)
	if err != nil {
		return statusData{}, err
	}
	month := now.UTC().Format("2006-01")
	for i := range sites {
		if sites[i].Month != month {
			sites[i].MonthUptime = -1 // last month's figure until the SLA job runs
		}
	}
	alerts, err := v.Alerts(ctx)
	if err != nil {
		return statusData{}, err
	}
	sils, err := v.Mutes(ctx, now)
	if err != nil {
		return statusData{}, err
	}
	sources, err := v.SourceStatuses(ctx)
	if err != nil {
		return statusData{}, err
	}
	open := map[string]*store.Alert{}
	for i := range alerts {
		if a := &alerts[i]; a.Status == store.AlertFiring || a.Status == store.AlertAcknowledged {
			open[a.Key] = a
		}
	}
	d := statusData{sites: map[string][]siteView{}, sources: sources}
	for _, st := range sites {
		sv := siteView{st: st, alert: open[st.Key]}
		if i := slices.IndexFunc(sils, func(s store.Silence) bool { return s.Matches(st.Client, st.Site, now) }); i >= 0 {
			sv.silenced, sv.window = true, sils[i].Change
		}
		d.sites[st.Client] = append(d.sites[st.Client], sv)
	}
	for _, list := range d.sites {
		slices.SortFunc(list, func(a, b siteView) int {
			if c := a.class() - b.class(); c != 0 {
				return c
			}
			return strings.Compare(a.st.Site, b.st.Site)
		})
	}
	return d, nil
}

// runStatus is `status [client]`.
func runStatus(ctx context.Context, c *Call) (Reply, error) {
	view := c.r.deps.Sites
	if view == nil {
		return errNoSites, nil
	}
	if len(c.Args) > 1 {
		return Reply{}, userErrorf(statusExample, "`/ops status` takes at most one client.")
	}
	d, err := loadStatus(ctx, view, c.Now)
	if err != nil {
		return Reply{}, err
	}
	visible := clientsFor(c, store.PermStatusView, d.sites)
	if len(c.Args) == 0 {
		return c.statusAll(d, visible), nil
	}
	client, err := c.pickClient(store.PermStatusView, c.Args[0], visible, "/ops status")
	if err != nil {
		return Reply{}, err
	}
	if d.scans, err = c.scansLine(ctx, client); err != nil {
		return Reply{}, err
	}
	return c.statusOne(d, client), nil
}

func (c *Call) clientList(keys []string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = c.clientName(k)
	}
	return strings.Join(names, ", ")
}

// statusOne is the view of one client: summary, then one line per site.
func (c *Call) statusOne(d statusData, client string) Reply {
	sites := d.sites[client]
	title := truncate(c.plainClientName(client)+" — status", 140)
	summary := siteSummary(sites)
	if target, ok := c.r.deps.SLATargets[client]; ok {
		summary += " · SLA target " + pct(target)
	}
	if len(sites) == 0 {
		summary = "No sites are monitored for this client yet."
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if src := c.sourceLine(d.sources); src != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(src)))
	}
	if d.scans != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(d.scans)))
	}
	target, hasTarget := c.r.deps.SLATargets[client]
	budget := maxBlocks - len(blocks) - 1
	for i, s := range sites {
		if i == budget {
			more := fmt.Sprintf("… and %d more sites not shown (the most urgent are listed first; the summary above counts them all).", len(sites)-i)
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(more)))
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(c.siteLine(s, "", target, hasTarget)), nil, nil))
	}
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}

// statusAll is the view across every client the caller may see: summary,
// then the sites needing attention, then one compact line per client.
func (c *Call) statusAll(d statusData, visible []string) Reply {
	var all, attention []siteView
	var clientLines []string
	for _, k := range visible {
		sites := d.sites[k]
		all = append(all, sites...)
		for _, s := range sites {
			if s.attention() {
				attention = append(attention, s)
			}
		}
		clientLines = append(clientLines, c.clientLine(k, sites))
	}
	slices.SortStableFunc(attention, func(a, b siteView) int { return a.class() - b.class() })
	clients := "clients"
	if len(visible) == 1 {
		clients = "client"
	}
	summary := fmt.Sprintf("%d %s · %s", len(visible), clients, siteSummary(all))
	title := "Status — all your clients"
	if unscoped, _ := c.Principal.Scope(store.PermStatusView); unscoped {
		title = "Status — all clients"
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if src := c.sourceLine(d.sources); src != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(src)))
	}
	if len(visible) == 0 {
		empty := "You can't see any client yet. Ask an admin for a role, e.g. `/ops role grant @you stakeholder acme`."
		if len(c.r.deps.Clients) == 0 {
			empty = "No clients are configured yet: add them, with their `sites`, under `clients:` in opsbot.yaml (see deploy/opsbot.example.yaml)."
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(empty), nil, nil))
		return Reply{Text: title + ": " + summary, Blocks: blocks}
	}
	// The client lines always show; the attention list gets what is left.
	clientBlocks, shown := packLines(clientLines, maxBlocks-len(blocks)-2)
	budget := maxBlocks - len(blocks) - len(clientBlocks) - 1
	more := len(clientLines) - shown
	for i, s := range attention {
		if i == budget {
			more += len(attention) - i
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(c.siteLine(s, s.st.Client, 0, false)), nil, nil))
	}
	blocks = append(blocks, clientBlocks...)
	if more > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more — `/ops status <client>` for one client.", more))))
	}
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}
