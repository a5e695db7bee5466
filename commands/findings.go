package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// FindingsStore is what the finding verbs read and write: everything from
// the state store, never from Detectify. *store.Store satisfies it.
type FindingsStore interface {
	FindingsOf(ctx context.Context, clients []string) (store.FindingsOverview, error)
	FindingsByPrefix(ctx context.Context, clients []string, prefix string) ([]store.Finding, error)
	AcceptFinding(ctx context.Context, a store.Acceptance, title string) error
	ScanSummaries(ctx context.Context, clients []string) (map[string]store.FindingSummary, error)
}

var errNoFindings = Reply{Text: ":warning: Detectify findings are not kept on this opsbot (no client has a `detectify:` block, or `DETECTIFY_API_KEY` is not set)."}

// runFindings is `findings [client] [--severity S] [--all]` and
// `findings accept <id> <duration> <reason> [--false-positive]`.
func runFindings(ctx context.Context, c *Call) (Reply, error) {
	fs := c.r.deps.Findings
	if fs == nil {
		return errNoFindings, nil
	}
	if len(c.Args) > 0 && strings.EqualFold(c.Args[0], "accept") {
		return runFindingsAccept(ctx, c, fs)
	}
	q, err := parseFindingsArgs(c.Args)
	if err != nil {
		return Reply{}, err
	}
	clients := c.findingClients(store.PermFindingsView)
	if q.client != "" {
		client, err := c.pickClient(store.PermFindingsView, q.client, clientsFor[bool](c, store.PermFindingsView, nil), "/ops findings")
		if err != nil {
			return Reply{}, err
		}
		if !c.r.deps.Detectify[client] {
			return Reply{}, userErrorf(findingsExample, "%s does not pay for Detectify scans (no `detectify:` block in opsbot.yaml), so it has no findings.", c.clientName(client))
		}
		clients = []string{client}
	}
	ov, err := fs.FindingsOf(ctx, clients)
	if err != nil {
		return Reply{}, err
	}
	return c.findingsReply(ov, clients, q), nil
}

// findingClients are the clients that pay for scans among those perm
// reaches for the caller.
func (c *Call) findingClients(perm store.Permission) []string {
	var out []string
	for _, k := range clientsFor[bool](c, perm, nil) {
		if c.r.deps.Detectify[k] {
			out = append(out, k)
		}
	}
	return out
}

// findingRow is one finding in the list, with what decides its place.
type findingRow struct {
	f   store.Finding
	acc *store.Acceptance
}

// findingsReply lists the findings of clients, worst first: the open ones
// needing work, and with --all the accepted and fixed ones too. Staff see
// the request that showed each finding; stakeholders do not.
func (c *Call) findingsReply(ov store.FindingsOverview, clients []string, q findingsQuery) Reply {
	staff := c.seesAll(store.PermFindingsView)
	var rows []findingRow
	open := map[string]int{}
	accepted := 0
	for _, k := range clients {
		for id, f := range ov.Findings[k] {
			var acc *store.Acceptance
			if a, ok := ov.Acceptances[k][id]; ok && a.Active(c.Now) {
				acc = &a
			}
			quiet := acc != nil || f.AcceptedAtVendor()
			if f.State.Open() && !quiet {
				open[f.Severity]++
			}
			if f.State.Open() && quiet {
				accepted++
			}
			if !severityAtLeast(f.Severity, q.severity) || (!q.all && (!f.State.Open() || quiet)) {
				continue
			}
			rows = append(rows, findingRow{f, acc})
		}
	}
	slices.SortStableFunc(rows, func(a, b findingRow) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		if d := a.f.FirstSeen.Compare(b.f.FirstSeen); d != 0 {
			return d
		}
		return strings.Compare(a.f.Client+a.f.ID, b.f.Client+b.f.ID)
	})
	title := "Findings — all your clients"
	if len(clients) == 1 {
		title = truncate(c.plainClientName(clients[0])+" — findings", 140)
	} else if staff {
		title = "Findings — all clients"
	}
	summary := c.findingsSummary(open, accepted, ov, clients)
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	if len(clients) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("None of the clients you can see pays for Detectify scans."), nil, nil))
		return Reply{Text: title + ": " + summary, Blocks: blocks}
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = c.findingLine(r, len(clients) > 1, staff)
	}
	if len(lines) == 0 {
		lines = []string{"Nothing to show with these filters. `--all` adds accepted and fixed findings."}
	}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-len(blocks))...)
	return Reply{Text: title + ": " + summary, Blocks: blocks}
}

// rank orders rows: open before accepted before fixed, then by severity.
func rank(r findingRow) int {
	group := 0
	switch {
	case !r.f.State.Open():
		group = 2
	case r.acc != nil || r.f.AcceptedAtVendor():
		group = 1
	}
	sev := slices.Index(findingSeverities, r.f.Severity)
	if sev < 0 {
		sev = len(findingSeverities)
	}
	return group*10 + sev
}

// findingsSummary is "4 open: 1 high, 3 medium · 1 accepted · last scan …".
func (c *Call) findingsSummary(open map[string]int, accepted int, ov store.FindingsOverview, clients []string) string {
	total := 0
	var parts []string
	for _, sev := range findingSeverities {
		if n := open[sev]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	s := fmt.Sprintf("%d open", total)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if accepted > 0 {
		s += fmt.Sprintf(" · %d accepted", accepted)
	}
	if len(clients) == 1 {
		if last, ok := ov.LastScan[clients[0]]; ok {
			s += fmt.Sprintf(" · last scan %s (%d new, %d fixed)", slackDate(last.At), last.New+last.Reopened, last.Fixed)
		} else {
			s += " · no completed scan yet (`/ops scan " + clients[0] + "`)"
		}
	}
	return s
}

// findingLine is one finding: severity, title, where, ID, category, age,
// state, and for staff the request that showed it. Vendor text is escaped.
func (c *Call) findingLine(r findingRow, withClient, staff bool) string {
	f := r.f
	title := Escape(truncate(oneLine(f.Title), 120))
	if u := chat.SafeURL(f.Link); u != "" {
		title = "<" + u + "|" + title + ">"
	}
	line := severityBadge(f.Severity) + " " + title
	if withClient {
		line += " · " + Escape(c.plainClientName(f.Client))
	}
	where := firstOf(f.Location, f.Host)
	line += "\n    " + Escape(truncate(where, 150)) + " · `" + Escape(shortFindingID(f.ID)) + "`"
	if f.OWASP != "" {
		line += " · " + Escape(f.OWASP)
	}
	line += " · first seen " + slackDate(f.FirstSeen)
	switch {
	case !f.State.Open():
		line += " · ✅ fixed " + slackDate(f.FixedAt)
	case r.acc != nil:
		line += fmt.Sprintf(" · ⏸️ %s until %s by %s: %s", r.acc.Kind(), slackDate(r.acc.Until), mention(r.acc.By), Escape(truncate(r.acc.Reason, 200)))
	case f.AcceptedAtVendor():
		line += " · ⏸️ " + Escape(strings.ReplaceAll(f.VendorStatus, "_", " ")) + " at Detectify"
	case f.State == store.FindingNew || f.State == store.FindingReopened:
		line += " · " + string(f.State)
	}
	if staff && f.Request != "" {
		req := "`" + strings.ReplaceAll(truncate(f.Request, 200), "`", "'") + "`"
		if f.ResponseStatus != 0 {
			req += fmt.Sprintf(" → %d", f.ResponseStatus)
		}
		line += "\n    " + Escape(req)
	}
	return line
}

// shortFindingID is the start of an ID that people type.
func shortFindingID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return "—"
}
