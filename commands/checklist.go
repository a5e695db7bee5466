package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// ChecklistStore keeps launch checklists (*store.Store).
type ChecklistStore interface {
	NextChecklistID(ctx context.Context) (string, error)
	CreateChecklist(ctx context.Context, c *store.Checklist, items ...store.OutboxItem) error
	UpdateChecklist(ctx context.Context, id string, now time.Time, fn func(*store.Checklist) ([]store.OutboxItem, error)) (store.Checklist, error)
	GetChecklist(ctx context.Context, id string) (store.Checklist, error)
	OpenChecklists(ctx context.Context) ([]store.Checklist, error)
	ClientChecklists(ctx context.Context, client string) ([]store.Checklist, error)
}

// ChecklistCheck proves one verified item for a client from the systems
// themselves (cost forecast, status, Shield, training, GitHub, loader.io).
// It never fails: what went wrong is the result's words.
type ChecklistCheck interface {
	Check(ctx context.Context, client string) store.CheckResult
}

// ChecklistProgressCheck is a check that takes minutes (a load test): it
// tells how it goes, and the checklist's message shows it.
type ChecklistProgressCheck interface {
	CheckProgress(ctx context.Context, client string, progress func(string)) store.CheckResult
}

// ChecklistSettings are the templates and where launches are announced.
type ChecklistSettings struct {
	Templates  map[string][]store.ItemSpec  // template name → items
	Conditions map[string]map[string]bool   // client → conditions it meets (pentest, detectify)
	Checks     map[string]ChecklistCheck    // check name → source; a missing one answers "not wired yet"
	Announce   func(client string) []string // channels told of a sign-off (support, the client's)
	// Budget bounds a whole re-verification (loader.io runs take minutes).
	Budget time.Duration
}

const checklistExample = "/ops checklist new acme"

// runChecklist is `checklist new <client> [template]`, `checklist [client]`
// and `checklist show <id>`.
func runChecklist(ctx context.Context, c *Call) (Reply, error) {
	d := c.r.deps
	if d.Checklists == nil {
		return Reply{Text: ":warning: Launch checklists are not wired on this opsbot yet."}, nil
	}
	cmd, err := ParseChecklistArgs(c.Args)
	if err != nil {
		return Reply{}, err
	}
	switch cmd.Sub {
	case "new":
		return c.checklistNew(ctx, cmd)
	case "show":
		return c.checklistShow(ctx, cmd.ID)
	}
	return c.checklistList(ctx, cmd.Client)
}

func (c *Call) checklistNew(ctx context.Context, cmd ChecklistArgs) (Reply, error) {
	d := c.r.deps
	if err := c.Require(store.PermChecklistTick, "open a launch checklist"); err != nil {
		return Reply{}, err
	}
	client, err := c.pickClient(store.PermChecklistTick, cmd.Client, clientsFor[string](c, store.PermChecklistTick, nil), "/ops checklist new")
	if err != nil {
		return Reply{}, err
	}
	names := slices.Sorted(maps.Keys(d.ChecklistSettings.Templates))
	specs, ok := d.ChecklistSettings.Templates[cmd.Template]
	if !ok {
		return Reply{}, userErrorf("/ops checklist new "+client+" default", "There is no checklist template called %q. Templates: %s.",
			Escape(truncate(cmd.Template, 40)), strings.Join(names, ", "))
	}
	if c.ChannelID == "" {
		return Reply{}, userErrorf(checklistExample, "Run this in a channel: the checklist's message is posted there.")
	}
	id, err := d.Checklists.NextChecklistID(ctx)
	if err != nil {
		return Reply{}, err
	}
	cl, err := store.NewChecklist(id, client, cmd.Template, specs, d.ChecklistSettings.Conditions[client], c.User.ID, c.Now)
	if err != nil {
		return Reply{}, err
	}
	cl.Channel = c.ChannelID
	items, err := c.r.checklistDeliveries(*cl, cl.Events(), c.Now)
	if err != nil {
		return Reply{}, err
	}
	if err := d.Checklists.CreateChecklist(ctx, cl, items...); err != nil && !errors.Is(err, store.ErrNotReplicated) {
		return Reply{}, err
	}
	c.r.nudge()
	return Reply{Text: fmt.Sprintf(":white_check_mark: Launch checklist %s opened for %s: its message follows in this channel. Press *Re-verify* on it to run the verified items.",
		id, c.clientName(client))}, nil
}

func (c *Call) checklistShow(ctx context.Context, id string) (Reply, error) {
	cl, err := c.visibleChecklist(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	text, blocks := c.r.checklistMessage(cl, c.Now)
	return Reply{Text: text, Blocks: blocks}, nil
}

// visibleChecklist loads id if the caller may see its client; otherwise
// the same answer as an unknown ID.
func (c *Call) visibleChecklist(ctx context.Context, id string) (store.Checklist, error) {
	cl, err := c.r.deps.Checklists.GetChecklist(ctx, id)
	if errors.Is(err, store.ErrChecklistNotFound) || (err == nil && !c.Principal.CanFor(store.PermChecklistView, cl.Client)) {
		return cl, userErrorf("/ops checklist", "There is no launch checklist %s that you can see. `/ops checklist` lists yours.", Escape(truncate(id, 20)))
	}
	return cl, err
}

func (c *Call) checklistList(ctx context.Context, word string) (Reply, error) {
	d := c.r.deps
	visible := clientsFor[string](c, store.PermChecklistView, nil)
	clients := visible
	if word != "" {
		client, err := c.pickClient(store.PermChecklistView, word, visible, "/ops checklist")
		if err != nil {
			return Reply{}, err
		}
		clients = []string{client}
	}
	var lines []string
	for _, k := range clients {
		list, err := d.Checklists.ClientChecklists(ctx, k)
		if err != nil {
			return Reply{}, err
		}
		for _, cl := range list {
			lines = append(lines, c.r.checklistLine(cl, c.Now))
		}
	}
	title := "Launch checklists"
	if word != "" && len(clients) == 1 {
		title += " — " + c.plainClientName(clients[0])
	}
	if len(lines) == 0 {
		return Reply{Text: title + ": none yet. Open one with `" + checklistExample + "`."}, nil
	}
	return listReply(title, lines), nil
}

// checklistLine is one launch in a list: where it stands, what holds it back.
func (r *Router) checklistLine(cl store.Checklist, now time.Time) string {
	ready, total := checklistCounts(cl, now)
	name := Escape(cmp.Or(r.deps.Clients[cl.Client], cl.Client))
	link := cl.ID
	if u := chat.MessageURL(cl.Channel, cl.MessageTS); u != "" {
		link = "<" + u + "|" + cl.ID + ">"
	}
	switch b := cl.Blockers(now); {
	case cl.SignedOff():
		return fmt.Sprintf("🚀 %s %s — signed off by <@%s> %s", link, name, cl.SignedOffBy, slackDate(cl.SignedOffAt))
	case len(b) == 0:
		return fmt.Sprintf("🟢 %s %s — %d/%d ready: ready to sign off", link, name, ready, total)
	default:
		return fmt.Sprintf("🔴 %s %s — %d/%d ready; held back by %s", link, name, ready, total, Escape(truncate(store.BlockerTitles(b), 300)))
	}
}

func checklistCounts(cl store.Checklist, now time.Time) (ready, total int) {
	return len(cl.Items) - len(cl.Blockers(now)), len(cl.Items)
}
