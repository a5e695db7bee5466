package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Every reply in these tests also passes checkReply (f.run, f.click): Slack
// would take it. They feed each renderer the most it can be given.

// blocksOf counts the blocks of a reply and says whether the last one tells
// how many lines did not fit.
func summarised(r commands.Reply) bool {
	if len(r.Blocks) == 0 {
		return false
	}
	c, ok := r.Blocks[len(r.Blocks)-1].(*slack.ContextBlock)
	return ok && strings.Contains(c.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "more.")
}

func TestAudit200LongEntriesStaysWithinLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 200 {
		e := store.AuditEntry{At: time.Now(), Actor: admin, Action: "silence.add", Target: fmt.Sprintf("s-%06d", i),
			Client: "acme", Detail: strings.Repeat("a reason with <html> & more ", 22)}
		if err := f.st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := f.run(admin, "audit 200")
	if got.Text != "Audit log: newest 200" {
		t.Errorf("text fallback is %d characters: %.100q…", len(got.Text), got.Text)
	}
	// Each entry's detail is clipped, so 200 fit; the newest comes first.
	if len(got.Blocks) > 50 || !strings.Contains(text(got), "s-000199") {
		t.Errorf("%d blocks, summarised %v", len(got.Blocks), summarised(got))
	}
}

func TestSilences200LongReasonsStaysWithinLimits(t *testing.T) {
	f, clk := newSilenceFixture(t)
	ctx := context.Background()
	for i := range 200 {
		if _, err := f.st.AddSilence(ctx, store.Silence{Client: "acme", Site: fmt.Sprintf("site-%03d", i), CreatedBy: support,
			Reason: strings.Repeat("maintenance window ", 26), Start: clk.Now(), End: clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	f.grant(t, support, store.Grant{Role: store.Support})
	got := f.run(support, "silences")
	if got.Text != "Active silences (200)" || len(got.Blocks) > 50 || !summarised(got) {
		t.Errorf("text %.100q (%d characters), %d blocks", got.Text, len(got.Text), len(got.Blocks))
	}
}

// A stakeholder of 150 clients: whoami and role list still fit.
func TestManyGrantsStayWithinLimits(t *testing.T) {
	clients := map[string]string{}
	for i := range 150 {
		clients[fmt.Sprintf("client-%03d", i)] = fmt.Sprintf("Client number %03d with a long trading name Ltd", i)
	}
	f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) { d.Clients = clients })
	for k := range clients {
		f.grant(t, "UMANY00001", store.Grant{Role: store.Stakeholder, Client: k})
	}
	if got := text(f.run("UMANY00001", "whoami")); !strings.Contains(got, "You are <@UMANY00001>") {
		t.Errorf("whoami: %.300s", got)
	}
	if got := text(f.run(admin, "role list")); !strings.Contains(got, "*stakeholder*: <@UMANY00001>") {
		t.Errorf("role list: %.300s", got)
	}
}

// longIssue is a GitHub issue past every field of the change form.
type longIssue struct{ issueLinks }

func (longIssue) FetchIssue(context.Context, commands.IssueLink) (commands.Issue, error) {
	return commands.Issue{Title: strings.Repeat("Title é ", 40), Body: strings.Repeat("Body with ünïcode ", 300), State: "open"}, nil
}

// A long issue pre-fills the form cut to each field's max_length (Slack
// refuses an initial_value longer than it).
func TestChangeFormClipsLongIssue(t *testing.T) {
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Changes, d.Issues = st, longIssue{}
		d.ChangeSettings.ClientRepos = map[string][]string{"acme": {"acme/web"}}
	})
	f.grant(t, requester, store.Grant{Role: store.Engineer})
	got := f.run(requester, "change https://github.com/acme/web/issues/42")
	if got.Modal == nil {
		t.Fatalf("no form: %s", got.Text)
	}
	for _, b := range got.Modal.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		el, ok := in.Element.(*slack.PlainTextInputBlockElement)
		if !ok || in.BlockID != "cr_title" && in.BlockID != "cr_problem" {
			continue
		}
		if n := utf8.RuneCountInString(el.InitialValue); n > el.MaxLength || n < el.MaxLength-1 || !strings.HasSuffix(el.InitialValue, "…") {
			t.Errorf("%s: %d characters pre-filled into a %d field", in.BlockID, n, el.MaxLength)
		}
	}
}

// The cancel and waive forms name an example in their placeholder: Slack
// refuses an empty one.
func TestReasonFormsHavePlaceholders(t *testing.T) {
	f := newChangeFixture(t)
	createChange(t, f, "CR-1", "acme", "Acme site slow", requester, store.ChangeRequested)
	for _, tc := range []struct{ who, action string }{{requester, "change_cancel"}, {admin, "change_waive"}} {
		got := f.click(tc.who, tc.action, "CR-1")
		if got.Modal == nil {
			t.Fatalf("%s: no form: %s", tc.action, got.Text)
		}
		in := got.Modal.Blocks.BlockSet[1].(*slack.InputBlock)
		if ph := in.Element.(*slack.PlainTextInputBlockElement).Placeholder; ph == nil || ph.Text == "" {
			t.Errorf("%s: no placeholder", tc.action)
		}
	}
}

// 300 clients with long names: the cost overview, the server thresholds and
// an unknown client's refusal (which lists the clients) stay within limits.
func TestManyClientsOverviewsStayWithinLimits(t *testing.T) {
	clients := map[string]string{}
	quotes := map[string]float64{}
	for i := range 300 {
		k := fmt.Sprintf("client-%03d", i)
		clients[k], quotes[k] = strings.Repeat("Trading name ", 8)+k, 1000
	}
	cf := newCostFixture(t, func(d *commands.Deps) { d.Clients, d.CostQuotes = clients, quotes })
	for k := range clients {
		cf.cache(t, k, costSnapshot())
	}
	if got := cf.run(admin, "cost"); len(got.Blocks) > 50 || !strings.Contains(text(got), "client-299") {
		t.Errorf("cost overview: %d blocks:\n%.300s", len(got.Blocks), text(got))
	}
	for _, cmd := range []string{"cost nosuchclient", "status nosuchclient", "threshold list", "changes", "role list", "whoami", "help"} {
		cf.run(admin, cmd) // checkReply fails the test if Slack would refuse it
	}
}
