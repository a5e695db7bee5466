package commands

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// HomeTab publishes people's App Home (the Slack transport); nil in the
// console, where `/ops home` shows Home as text instead.
type HomeTab interface {
	// Refresh publishes userID's Home soon (debounced per person).
	Refresh(userID string)
}

// maxHomeBlocks is Slack's limit of blocks in a Home tab view.
const maxHomeBlocks = 100

// homeSectionBlocks bounds one section, so one long list (forty sites down)
// cannot crowd out the rest of Home.
const homeSectionBlocks = 24

// homeSection is one part of Home: a title, its lines (packed into
// sections), then any blocks of its own (approval buttons), and where the
// whole list is when it does not fit.
type homeSection struct {
	title  string
	lines  []string
	blocks []slack.Block
	more   string // e.g. "`/ops status`"
	hint   string // always shown under the lines: the command that shows more
}

// Home builds the App Home of u for u: what waits for them and what is
// broken for their clients, by role, within Slack's 100 blocks. Buttons on
// it are the messages' own (same action IDs and values), so the same
// routes and guards apply when they are clicked.
func (r *Router) Home(ctx context.Context, u User) (slack.HomeTabViewRequest, error) {
	blocks, err := r.homeBlocks(ctx, u)
	if err != nil {
		return slack.HomeTabViewRequest{}, err
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "home", Blocks: slack.Blocks{BlockSet: blocks}}, nil
}

func (r *Router) homeBlocks(ctx context.Context, u User) ([]slack.Block, error) {
	now := r.deps.Now()
	p, err := r.principal(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	c := &Call{Principal: p, User: u, Now: now, r: r}
	d, err := c.loadHome(ctx)
	if err != nil {
		return nil, err
	}
	sections := []homeSection{c.homeYou(d)}
	if p.Can(store.PermIncidentManage) {
		sections = append(sections, c.homeIncidents(d), c.homeServers(d), c.homeInFlight(d), c.homeMutes(d))
	}
	if p.HasRole(store.Finance) {
		sections = append(sections, c.homeApprovals(d, store.ApproverFinance), c.homeCosts(d, nil), c.homeChangeLog(d))
	}
	if p.HasRole(store.Stakeholder) {
		_, clients := p.Scope(store.PermStatusView)
		sections = append(sections, c.homeApprovals(d, store.ApproverStakeholder), c.homeClients(d, clients), c.homeCosts(d, clients))
	}
	if d.sec != nil {
		sections = append(sections, c.homeFindings(d), c.homeShield(d), c.homeTraining(d))
	}
	if d.launches != nil {
		sections = append(sections, c.homeLaunches(d), c.homeWaivers(d))
	}
	head := []slack.Block{header("opsbot — your Home"),
		slack.NewContextBlock("", mrkdwn("Updated "+slackDate(now)+" · `/ops help` lists what you may run"))}
	return layoutHome(head, sections), nil
}

// layoutHome lays the sections out under head within Slack's 100 blocks. A
// section that no longer fits is named in a last line by the verb that
// lists what it would have shown.
func layoutHome(head []slack.Block, sections []homeSection) []slack.Block {
	blocks := head
	for i, s := range sections {
		if s.title == "" {
			continue
		}
		left := maxHomeBlocks - len(blocks) - 1 // keep one for "more below"
		if left < homeSectionMin {
			var verbs []string
			for _, rest := range sections[i:] {
				if rest.title != "" && rest.more != "" && !slices.Contains(verbs, rest.more) {
					verbs = append(verbs, rest.more)
				}
			}
			return append(blocks, slack.NewContextBlock("", mrkdwn("More than Home can show: see "+strings.Join(verbs, ", ")+".")))
		}
		blocks = append(blocks, s.render(min(left, homeSectionBlocks))...)
	}
	return blocks
}

// homeSectionMin is the least a section is laid out in: its divider and
// title, one section of lines and the line that counts the rest.
const homeSectionMin = 4

// render lays s out in at most budget blocks (at least homeSectionMin).
// The lines come first; when the budget is short the section's buttons,
// then its hint, give way.
func (s homeSection) render(budget int) []slack.Block {
	out := []slack.Block{slack.NewDividerBlock(), slack.NewSectionBlock(mrkdwn("*"+s.title+"*"), nil, nil)}
	extra, hint := s.blocks, s.hint
	room := budget - len(out) - 2 // one section of lines and its "… and N more"
	if len(extra) > room {
		extra = extra[:max(room, 0)]
	}
	room -= len(extra)
	if hint != "" && room >= 1 {
		room--
	} else {
		hint = ""
	}
	packed, used := packLines(s.lines, 1+max(room, 0))
	out = append(out, packed...)
	if used < len(s.lines) {
		more := fmt.Sprintf("… and %d more", len(s.lines)-used)
		if s.more != "" {
			more += ": " + s.more
		}
		out = append(out, slack.NewContextBlock("", mrkdwn(more+".")))
	}
	if hint != "" {
		out = append(out, slack.NewContextBlock("", mrkdwn(hint)))
	}
	return append(out, extra...)
}

// homeData is everything Home reads, once.
type homeData struct {
	alerts   []store.Alert
	sites    []store.SiteStatus
	changes  []store.ChangeRequest
	mutes    []store.Silence
	costs    map[string]store.CostRecord
	changelg []store.ChangeLogEntry
	oncall   []string          // lines
	sec      *homeSecurity     // security and admin only
	launches []store.Checklist // open launches the admin may see; nil: not read
}

func (c *Call) loadHome(ctx context.Context) (homeData, error) {
	var d homeData
	var err error
	if v := c.r.deps.Sites; v != nil {
		if d.alerts, err = v.Alerts(ctx); err != nil {
			return d, err
		}
		if d.sites, err = v.SiteStatuses(ctx); err != nil {
			return d, err
		}
		if d.mutes, err = v.Mutes(ctx, c.Now); err != nil {
			return d, err
		}
	}
	if s := c.r.deps.Changes; s != nil {
		if d.changes, err = s.OpenChanges(ctx); err != nil {
			return d, err
		}
	}
	if v := c.r.deps.Costs; v != nil && (c.Principal.HasRole(store.Finance) || c.Principal.HasRole(store.Stakeholder)) {
		if d.costs, err = v.CostRecords(ctx, keys(c.r.deps.CostQuotes)...); err != nil {
			return d, err
		}
	}
	if l := c.r.deps.ChangeLog; l != nil && c.Principal.HasRole(store.Finance) {
		if d.changelg, err = l.ChangeLog(ctx, c.Now.UTC().Format("2006-01")); err != nil {
			return d, err
		}
	}
	d.oncall = c.homeOnCall(ctx)
	if err := c.loadHomeSecurity(ctx, &d); err != nil {
		return d, err
	}
	if err := c.loadHomeLaunches(ctx, &d); err != nil {
		return d, err
	}
	return d, nil
}

// homeOnCall is who is on call now, in a line per schedule; PagerDuty is
// asked with a short deadline, as Home must not wait on it.
func (c *Call) homeOnCall(ctx context.Context) []string {
	src := c.r.deps.OnCall
	if src == nil || !c.Principal.Can(store.PermOncallView) {
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ids := make([]string, 0, len(c.r.deps.Schedules))
	for _, name := range keys(c.r.deps.Schedules) {
		ids = append(ids, c.r.deps.Schedules[name])
	}
	shifts, err := src.OnCalls(octx, ids, c.Now)
	if err != nil {
		return []string{"_PagerDuty did not answer; `/ops oncall` asks again._"}
	}
	seen := map[string]bool{}
	var lines []string
	for _, s := range shifts {
		where := strings.TrimSpace(s.Schedule + " " + s.EscalationPolicy)
		line := fmt.Sprintf("• %s — level %d: %s", Escape(where), s.Level, Escape(s.UserName))
		if !seen[line] {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	return lines
}

// keys are m's keys in order.
func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// runHome is `/ops home`: in Slack it refreshes the person's Home tab; in
// the console (no Home tab) it shows Home as text.
func runHome(ctx context.Context, c *Call) (Reply, error) {
	if h := c.r.deps.HomeTab; h != nil {
		h.Refresh(c.User.ID)
		return Reply{Text: "🏠 Your Home is refreshed: open opsbot's *Home* tab (the app's page in Slack's sidebar)."}, nil
	}
	blocks, err := c.r.homeBlocks(ctx, c.User)
	if err != nil {
		return Reply{}, err
	}
	if len(blocks) > maxBlocks {
		blocks = append(blocks[:maxBlocks-1], slack.NewContextBlock("", mrkdwn("… Home goes on in Slack's Home tab.")))
	}
	return Reply{Text: "opsbot — your Home", Blocks: blocks}, nil
}
