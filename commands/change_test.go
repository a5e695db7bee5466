package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// issueLinks accepts "https://github.com/<owner>/<repo>/issues/<n>" and
// nothing else; it is pure logic, so a stub is enough here.
type issueLinks struct{}

func (issueLinks) ParseIssueLink(text string) (commands.IssueLink, error) {
	rest, ok := strings.CutPrefix(text, "https://github.com/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || parts[2] != "issues" {
		return commands.IssueLink{}, errors.New("it should look like https://github.com/owner/repo/issues/42")
	}
	repo := strings.ToLower(parts[0] + "/" + parts[1])
	return commands.IssueLink{Ref: repo + "#" + parts[3], Repo: repo, URL: text}, nil
}

func (issueLinks) FetchIssue(context.Context, commands.IssueLink) (commands.Issue, error) {
	return commands.Issue{Title: "Site slow", Body: "Pages time out", State: "open"}, nil
}

const (
	crSupport  = "USUPPORT01"
	requester  = "UREQUEST01"
	betaHolder = "UBETASTAKE"
	financeOne = "UFINANCE01"
)

var changeT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// changeNow is the router's clock in these tests, an hour after the stored
// requests were made; claims of queued deliveries go by it too.
func changeNow() time.Time { return changeT0.Add(time.Hour) }

func newChangeFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Now = changeNow
		d.Changes = st
		d.Issues = issueLinks{}
		d.ChangeSettings = commands.ChangeSettings{Channel: "C0SUPPORT", FinanceChannel: "C0FINANCE",
			ClientRepos: map[string][]string{"acme": {"acme/web"}, "beta": {"beta/shop"}}}
	})
	f.grant(t, crSupport, store.Grant{Role: store.Support})
	f.grant(t, betaHolder, store.Grant{Role: store.Stakeholder, Client: "beta"})
	f.grant(t, requester, store.Grant{Role: store.Engineer})
	f.grant(t, financeOne, store.Grant{Role: store.Finance})
	return f
}

// createChange stores request id for client in state requested,
// investigating, awaiting_approval (a proposal raising the cost) or
// scheduled (a proposal that does not).
func createChange(t *testing.T, f *fixture, id, client, title, by string, state store.ChangeState) {
	t.Helper()
	cr, err := store.NewChangeRequest(id, client, title, "Pages time out at 9am", "", by, changeT0)
	if err != nil {
		t.Fatal(err)
	}
	if state != store.ChangeRequested {
		if err := cr.Investigate(crSupport, changeT0); err != nil {
			t.Fatal(err)
		}
	}
	if state == store.ChangeAwaitingApproval {
		p := store.Proposal{Plan: "Bigger instances", Magnitude: store.MagnitudeMinor, CurrentMonthly: 66000, ProposedMonthly: 78000}
		if err := cr.Propose(p, nil, crSupport, changeT0); err != nil {
			t.Fatal(err)
		}
	}
	if state == store.ChangeScheduled {
		p := store.Proposal{Plan: "Same size, newer AMI", Magnitude: store.MagnitudeMinor, CurrentMonthly: 66000, ProposedMonthly: 66000,
			Measured: &store.CostMeasure{Monthly: 66000, At: changeT0}}
		if err := cr.Propose(p, nil, crSupport, changeT0); err != nil {
			t.Fatal(err)
		}
		if err := cr.Schedule(crSupport, changeT0); err != nil {
			t.Fatal(err)
		}
	}
	if cr.State != state {
		t.Fatalf("built %s in %s, want %s", id, cr.State, state)
	}
	if err := f.st.CreateChange(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) click(user, actionID, value string) commands.Reply {
	return checkReply(f.t, actionID, f.r.Action(context.Background(), commands.Action{User: commands.User{ID: user}, ActionID: actionID, Value: value,
		ChannelID: "C0SUPPORT", MessageTS: "1700000000.000100", TriggerID: "T1"}))
}

// outbox claims everything queued so far.
func (f *fixture) outbox(t *testing.T) []store.OutboxItem {
	t.Helper()
	claimed, err := f.st.ClaimOutbox(context.Background(), changeNow().Add(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]store.OutboxItem, len(claimed))
	for i, c := range claimed {
		items[i] = c.Item
	}
	return items
}

func TestChangeWithoutStoreSaysSo(t *testing.T) {
	f := newFixture(t)
	for _, cmd := range []string{"change", "changes"} {
		got := f.run(admin, cmd).Text
		if !strings.HasPrefix(got, ":warning:") || !strings.Contains(got, "Change requests are not set up on this opsbot yet") {
			t.Errorf("/ops %s without a change store: %q", cmd, got)
		}
	}
}

func TestChangeBadArguments(t *testing.T) {
	f := newChangeFixture(t)
	tests := []struct{ who, in, want string }{
		{crSupport, "change a b", "takes at most one GitHub issue link; the rest goes in the form.\nFor example: `/ops change https://github.com/acme/web/issues/42`"},
		{crSupport, "change <script>", "That is not a GitHub issue link I can use: it should look like https://github.com/owner/repo/issues/42.\nFor example: `/ops change"},
		{crSupport, "changes --all", "I don't understand \"--all\". Use `/ops changes [client] [--mine]`.\nFor example: `/ops changes acme`"},
		{crSupport, "changes zzz", "I don't know a client called \"zzz\""},
		{crSupport, "changes acme beta", "I don't understand \"beta\""},
	}
	for _, tt := range tests {
		got := f.run(tt.who, tt.in)
		if !strings.HasPrefix(got.Text, ":warning:") || !strings.Contains(got.Text, tt.want) || got.Modal != nil {
			t.Errorf("/ops %s → %q (modal %v), want a warning containing %q", tt.in, got.Text, got.Modal != nil, tt.want)
		}
	}
	if got := f.run(crSupport, "change https://github.com/acme/web/issues/42"); got.Modal == nil {
		t.Fatalf("a good link opens no form: %q", got.Text)
	}
	if open, err := f.st.OpenChanges(context.Background()); err != nil || len(open) != 0 {
		t.Fatalf("bad arguments stored requests: %v, %v", open, err)
	}
}

func TestChangesLists(t *testing.T) {
	f := newChangeFixture(t)
	if got := f.run(crSupport, "changes").Text; !strings.Contains(got, "No open change requests. Open one with `/ops change https://github.com/acme/web/issues/42`.") {
		t.Fatalf("empty list: %q", got)
	}
	createChange(t, f, "CR-1", "acme", "Acme site slow <b>", requester, store.ChangeRequested)
	createChange(t, f, "CR-2", "beta", "Beta database full", crSupport, store.ChangeInvestigating)
	createChange(t, f, "CR-10", "acme", "Acme TLS expiring", crSupport, store.ChangeAwaitingApproval)

	tests := []struct {
		name, who, in string
		want, not     []string
	}{
		{"all", crSupport, "changes", []string{"Open change requests (3)", "*CR-1* · requested · Acme Ltd (`acme`) · Acme site slow &lt;b&gt;", "*CR-2* · investigating · Beta &amp; Co (`beta`)",
			"*CR-10* · awaiting approval", "+$120.00/month (+18 %)"}, []string{"<b>"}},
		{"one client", crSupport, "changes acme", []string{"Open change requests for Acme Ltd (`acme`) (2)", "CR-1", "CR-10"}, []string{"CR-2"}},
		{"client prefix", crSupport, "changes be", []string{"for Beta &amp; Co (`beta`) (1)", "CR-2"}, []string{"CR-1*"}},
		{"mine", requester, "changes --mine", []string{"Open change requests involving you (1)", "CR-1"}, []string{"CR-2", "CR-10"}},
		{"mine, proposer", crSupport, "changes --mine", []string{"(2)", "CR-2", "CR-10"}, []string{"CR-1*"}},
		{"mine and client", crSupport, "changes acme --mine", []string{"for Acme Ltd (`acme`) involving you (1)", "CR-10"}, []string{"CR-2", "CR-1*"}},
		{"stakeholder sees own client", betaHolder, "changes", []string{"Open change requests (1)", "CR-2"}, []string{"CR-1*", "CR-10", "Acme"}},
		{"stakeholder asks for another client", betaHolder, "changes acme", []string{":no_entry: \"acme\" is not one of the clients you can see. Clients you can see: Beta &amp; Co (`beta`)."}, []string{"CR-1", "CR-10", "Acme"}},
		{"stakeholder's prefix only matches their clients", betaHolder, "changes a", []string{"is not one of the clients you can see"}, []string{"CR-1", "Acme"}},
		{"nothing of mine", financeOne, "changes --mine", []string{"No open change requests involving you."}, []string{"CR-"}},
	}
	for _, tt := range tests {
		got := text(f.run(tt.who, tt.in))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: /ops %s lacks %q:\n%s", tt.name, tt.in, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: /ops %s shows %q:\n%s", tt.name, tt.in, n, got)
			}
		}
	}
}

func TestChangeStaleButtonChangesNothing(t *testing.T) {
	f := newChangeFixture(t)
	ctx := context.Background()
	createChange(t, f, "CR-1", "acme", "Acme site slow", requester, store.ChangeInvestigating)
	before, err := f.st.GetChange(ctx, "CR-1")
	if err != nil {
		t.Fatal(err)
	}
	// A step drawn for an old state is refused: the request has moved on.
	got := f.click(crSupport, "change_step", "CR-1|requested|investigate").Text
	if !strings.HasPrefix(got, ":warning:") || !strings.Contains(got, "*CR-1* has moved on: it is now *investigating*") {
		t.Fatalf("stale click: %q", got)
	}
	// So is the schedule step (which opens a freeze first).
	createChange(t, f, "CR-3", "acme", "Acme new AMI", requester, store.ChangeScheduled)
	got = f.click(crSupport, "change_step", "CR-3|approved|schedule").Text
	if !strings.Contains(got, "*CR-3* has moved on: it is now *scheduled*. Nothing was changed") {
		t.Fatalf("stale schedule click: %q", got)
	}
	if cr3, err := f.st.GetChange(ctx, "CR-3"); err != nil || cr3.Version != 1 || cr3.State != store.ChangeScheduled {
		t.Fatalf("stale schedule click changed CR-3: %+v, %v", cr3, err)
	}
	after, err := f.st.GetChange(ctx, "CR-1")
	if err != nil || after.Version != before.Version || len(after.History) != len(before.History) || after.State != store.ChangeInvestigating {
		t.Fatalf("stale click changed the request: version %d → %d, history %d → %d, %v", before.Version, after.Version, len(before.History), len(after.History), err)
	}
	if items := f.outbox(t); len(items) != 0 {
		t.Fatalf("stale click queued %d deliveries: %+v", len(items), items)
	}

	// The same button drawn for the current state goes through and queues
	// the updated message for the crSupport channel.
	createChange(t, f, "CR-2", "acme", "Acme cache <stale>", requester, store.ChangeRequested)
	if got := f.click(crSupport, "change_step", "CR-2|requested|investigate").Text; !strings.Contains(got, "*CR-2* is now *investigating*") {
		t.Fatalf("current click: %q", got)
	}
	var msg *store.ChangeMessage
	for _, it := range f.outbox(t) {
		if it.Kind == store.KindChangeMessage {
			msg = &store.ChangeMessage{}
			if err := json.Unmarshal(it.Payload, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	if msg == nil || msg.ID != "CR-2" || msg.Channel != "C0SUPPORT" || !strings.Contains(string(msg.Blocks), `"action_id":"change_propose"`) ||
		strings.Contains(string(msg.Blocks), `"value":"CR-2|requested|investigate"`) {
		t.Fatalf("queued message = %+v", msg)
	}
}

func TestChangeApproveNeedsFinanceOrTheClientsStakeholder(t *testing.T) {
	f := newChangeFixture(t)
	ctx := context.Background()
	createChange(t, f, "CR-1", "acme", "Acme site slow", requester, store.ChangeAwaitingApproval)
	before, err := f.st.GetChange(ctx, "CR-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, who, want string }{
		{"stakeholder of another client", betaHolder, "Approving CR-1 takes the stakeholder or finance role (a stakeholder for Acme Ltd). You hold none of them, so nothing was changed."},
		{"admin alone", admin, "You hold none of them, so nothing was changed."},
		{"support", crSupport, "use this button"},
	}
	for _, tt := range tests {
		got := f.click(tt.who, "change_approve", "CR-1|1")
		if !strings.Contains(got.Text, tt.want) || got.Modal != nil {
			t.Errorf("%s: approve → %q (modal %v), want %q", tt.name, got.Text, got.Modal != nil, tt.want)
		}
	}
	after, err := f.st.GetChange(ctx, "CR-1")
	if err != nil || after.Version != before.Version || len(after.Approvals) != 0 || after.State != store.ChangeAwaitingApproval {
		t.Fatalf("refused approvals changed the request: %+v, %v", after, err)
	}
	if items := f.outbox(t); len(items) != 0 {
		t.Fatalf("refused approvals queued %d deliveries", len(items))
	}
	// Finance may: the click opens the decision form (recorded at submission).
	if got := f.click(financeOne, "change_approve", "CR-1|1"); got.Modal == nil {
		t.Fatalf("finance approve opens no form: %q", got.Text)
	}
}
