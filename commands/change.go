package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// ChangeStore keeps change requests, their deliveries and the deploy
// freezes they open; it writes each step's audit entry with the step and
// closes a request's freeze when the request ends. *store.Store satisfies it.
type ChangeStore interface {
	NextChangeID(ctx context.Context) (string, error)
	CreateChange(ctx context.Context, cr *store.ChangeRequest, items ...store.OutboxItem) error
	UpdateChange(ctx context.Context, id string, now time.Time, fn func(*store.ChangeRequest) ([]store.OutboxItem, error)) (store.ChangeRequest, error)
	GetChange(ctx context.Context, id string) (store.ChangeRequest, error)
	OpenChanges(ctx context.Context) ([]store.ChangeRequest, error)
	AddFreeze(ctx context.Context, f store.Freeze) error
}

// IssueLink is a validated GitHub issue link.
type IssueLink struct {
	Ref  string // "owner/repo#42"
	Repo string // "owner/repo", lower-case
	URL  string // canonical https URL
}

// Issue is what a GitHub issue pre-fills in a change request.
type Issue struct {
	Title, Body, State string
}

// IssueSource validates GitHub issue links (no I/O: a refused link causes
// no request to any host), refusing repositories that are neither a
// client's nor in an allowed organisation, and reads issues. The GitHub
// integration satisfies it through an adapter in change.go.
type IssueSource interface {
	ParseIssueLink(text string) (IssueLink, error)
	FetchIssue(ctx context.Context, link IssueLink) (Issue, error)
}

// SmokeRunner runs smoke checks against new infrastructure.
type SmokeRunner interface {
	// VetSmoke refuses checks opsbot may not run for cr (an address outside
	// what smoke checks may reach, a keyword= against a host that is not the
	// client's), with an error whose text is fit to show the person.
	VetSmoke(cr store.ChangeRequest, checks []store.SmokeCheck) error
	RunSmoke(ctx context.Context, checks []store.SmokeCheck) []store.SmokeResult
}

// DNSCutter switches a DNS record for a cut-over and puts it back. ZoneName
// names a hosted zone ("acme.example."), to check a plan's record lies in
// it; Keep reads the records as they are (opaque bytes to store with the
// request); Apply sends the plan's values (an upsert: sending it again is
// harmless) and Restore what puts the kept records back exactly ("" when
// they already are), each returning the provider's change ID without
// waiting; Wait returns once that change is live (INSYNC), or ctx's error.
// Errors may carry a message fit for people (PlainError).
type DNSCutter interface {
	ZoneName(ctx context.Context, zoneID string) (string, error)
	Keep(ctx context.Context, plan store.DNSPlan) ([]byte, error)
	Apply(ctx context.Context, plan store.DNSPlan, kept []byte, comment string) (changeID string, err error)
	Restore(ctx context.Context, plan store.DNSPlan, kept []byte, comment string) (changeID string, err error)
	Wait(ctx context.Context, changeID string) error
}

// CostEstimate gives opsbot's own figure of a client's current monthly
// cost (the cost job's cached Cost Explorer forecast) and when it was
// fetched; ok false when there is none. Proposals take it as their cost
// basis whatever the form says.
type CostEstimate interface {
	CurrentMonthly(ctx context.Context, client string) (m store.CostMeasure, ok bool, err error)
}

// PlainError is an error with a message fit to show people (no SDK
// detail, no addresses), e.g. "Route 53 has no hosted zone Z0ACME".
type PlainError interface {
	error
	Plain() string
}

// ChangeSettings are the change process's configuration.
type ChangeSettings struct {
	Channel        string              // where requests' messages live (the support channel)
	FinanceChannel string              // notified of proposals and finished requests
	ClientChannels map[string]string   // client → channel announcing its freezes
	ClientRepos    map[string][]string // client → GitHub "owner/repo": its issues may be linked; frozen by its major changes
	AllowedOrgs    []string            // GitHub owners whose every repository may be linked, for any client
	ClientZones    map[string][]string // client → its Route 53 hosted zone IDs: the only zones its DNS plans may name
	Approvers      []string            // roles that approve a cost increase (default stakeholder, finance)
	ApprovalTTL    time.Duration       // how long an approval stays valid (0: forever)
	IssueComments  map[string]string   // client → "status" (default), "full" or "false": what its GitHub issues get
	Location       *time.Location      // time zone of typed windows (default UTC)
}

// Modes of ChangeSettings.IssueComments.
const (
	commentsFull = "full"
	commentsOff  = "false"
)

const (
	changeExample  = "/ops change https://github.com/acme/web/issues/42"
	changesExample = "/ops changes acme"
)

func (c *Call) changes() (ChangeStore, error) {
	if c.r.deps.Changes == nil {
		return nil, &UserError{Msg: "Change requests are not set up on this opsbot yet (no change store is wired)."}
	}
	return c.r.deps.Changes, nil
}

// runChange opens the change request form, pre-filled from a GitHub issue
// when a link is given.
func runChange(ctx context.Context, c *Call) (Reply, error) {
	if _, err := c.changes(); err != nil {
		return Reply{}, err
	}
	if len(c.Args) > 1 {
		return Reply{}, userErrorf(changeExample, "`/ops change` takes at most one GitHub issue link; the rest goes in the form.")
	}
	var pre changePrefill
	if len(c.Args) == 1 {
		src := c.r.deps.Issues
		if src == nil {
			return Reply{}, userErrorf("/ops change", "GitHub is not set up on this opsbot, so I can't read issue links. Run `/ops change` alone and describe the problem in the form.")
		}
		link, err := src.ParseIssueLink(c.Args[0])
		if err != nil {
			return Reply{}, userErrorf(changeExample, "That is not a GitHub issue link I can use: %s.", Escape(err.Error()))
		}
		// Checked before any request: opsbot's token must not read an
		// issue that belongs to no client (its body would fill the form).
		if err := c.linkAllowed(link, ""); err != nil {
			return Reply{}, userErrorf(changeExample, "I can't use that issue link: %s. Nothing was read from GitHub; link an issue of the client's repositories, or run `/ops change` alone.", Escape(err.Error()))
		}
		pre = c.prefill(ctx, link)
	}
	return Reply{Modal: changeOpenModal(c, pre)}, nil
}

// issueFetchBudget keeps the fetch inside the trigger's 3 s life.
const issueFetchBudget = 1500 * time.Millisecond

type changePrefill struct {
	Link    IssueLink
	Client  string
	Title   string
	Problem string
	Note    string // why the form is not filled, shown in it
}

// prefill reads the issue within the budget; a slow or failing GitHub
// leaves the fields empty with a note, never a lost form.
func (c *Call) prefill(ctx context.Context, link IssueLink) changePrefill {
	pre := changePrefill{Link: link, Client: c.clientOfRepo(link.Repo)}
	fctx, cancel := context.WithTimeout(ctx, issueFetchBudget)
	defer cancel()
	is, err := c.r.deps.Issues.FetchIssue(fctx, link)
	if err != nil {
		c.r.log.Warn("github issue not read for the change form", "issue", link.Ref, "err", err)
		pre.Note = "I couldn't read " + link.Ref + " from GitHub just now, so describe the problem yourself; the link is kept."
		return pre
	}
	pre.Title, pre.Problem = truncate(is.Title, maxTitleLen), truncate(is.Body, maxProblemLen)
	return pre
}

// clientOfRepo finds the client whose repositories include repo ("" if none or several).
func (c *Call) clientOfRepo(repo string) string {
	found := ""
	for client, repos := range c.r.deps.ChangeSettings.ClientRepos {
		if slices.Contains(repos, repo) {
			if found != "" {
				return ""
			}
			found = client
		}
	}
	return found
}

// runChanges lists the open requests the caller may see.
func runChanges(ctx context.Context, c *Call) (Reply, error) {
	st, err := c.changes()
	if err != nil {
		return Reply{}, err
	}
	mine, client := false, ""
	for _, a := range c.Args {
		switch {
		case strings.EqualFold(a, "--mine"):
			mine = true
		case client == "" && !strings.HasPrefix(a, "-"):
			if client, err = c.pickClient(store.PermChangesView, a, clientsFor[string](c, store.PermChangesView, nil), "/ops changes"); err != nil {
				return Reply{}, err
			}
		default:
			return Reply{}, userErrorf(changesExample, "I don't understand %q. Use `/ops changes [client] [--mine]`.", Escape(a))
		}
	}
	all, err := st.OpenChanges(ctx)
	if err != nil {
		return Reply{}, err
	}
	var lines []string
	for _, cr := range all {
		if (client != "" && cr.Client != client) || (mine && !involves(cr, c.User.ID)) || !c.mayView(cr) {
			continue
		}
		lines = append(lines, changeLine(c, cr))
	}
	if len(lines) == 0 {
		return Reply{Text: "No open change requests" + changesScope(c, client, mine) + ". Open one with `" + changeExample + "`."}, nil
	}
	title := fmt.Sprintf("Open change requests%s (%d)", changesScope(c, client, mine), len(lines))
	return listReply(title, lines), nil
}

func changesScope(c *Call, client string, mine bool) string {
	s := ""
	if client != "" {
		s += " for " + c.clientName(client)
	}
	if mine {
		s += " involving you"
	}
	return s
}

// mayView: stakeholders see their own clients' requests; other roles all.
func (c *Call) mayView(cr store.ChangeRequest) bool {
	all, clients := c.Principal.Scope(store.PermChangesView)
	return all || slices.Contains(clients, cr.Client) || cr.RequestedBy == c.User.ID
}

func involves(cr store.ChangeRequest, user string) bool {
	if cr.RequestedBy == user || (cr.Proposal != nil && cr.Proposal.By == user) {
		return true
	}
	return slices.ContainsFunc(cr.Approvals, func(a store.Approval) bool { return a.By == user })
}

// changeLine is one request in a list: ID, state, client, title, age.
func changeLine(c *Call, cr store.ChangeRequest) string {
	id := "*" + Escape(cr.ID) + "*"
	if link := chat.MessageURL(cr.Channel, cr.MessageTS); link != "" {
		id = "<" + link + "|" + Escape(cr.ID) + ">"
	}
	line := fmt.Sprintf("%s %s · %s · %s · %s", stateEmoji(cr.State), id, stateLabel(cr.State), c.clientName(cr.Client), Escape(truncate(cr.Title, 80)))
	if p := cr.Proposal; p != nil {
		line += " · " + store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly)
	}
	return line + " · opened " + slackDate(cr.CreatedAt)
}

// loadChange reads request id for a button or form; a missing one is a user error.
func (c *Call) loadChange(ctx context.Context, id string) (store.ChangeRequest, error) {
	st, err := c.changes()
	if err != nil {
		return store.ChangeRequest{}, err
	}
	cr, err := st.GetChange(ctx, id)
	if errors.Is(err, store.ErrChangeNotFound) {
		return cr, &UserError{Msg: fmt.Sprintf("There is no change request %s.", Escape(id)), Example: "/ops changes"}
	}
	return cr, err
}
