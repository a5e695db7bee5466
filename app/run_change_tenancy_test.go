package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// Tenancy and trust of change requests: each action touches only what
// belongs to the client it names.

// r53Writes counts the requests that would change DNS.
func r53Writes(e *changeEnv) int {
	n := 0
	for _, r := range e.r53.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func withDNS(zoneID, name string) map[string]map[string]any {
	p := proposal(time.Now().Add(time.Hour).UTC())
	p["cr_zone"] = map[string]any{"value": txt(zoneID)}
	p["cr_name"] = map[string]any{"value": txt(name)}
	return p
}

// TestChangeDNSPlanStaysInTheClientsZones: acme's plan naming globex's
// zone is refused without a call to Route 53, a record outside acme's zone
// is refused at proposal, and a stored plan on another client's zone is
// refused again at cut-over with Route 53 untouched.
func TestChangeDNSPlanStaysInTheClientsZones(t *testing.T) {
	e := startChanges(t, redistest.Start(t))
	viewID, meta := openAndInvestigate(t, e)

	ack := e.submit(t, "UALICE0001", "change_propose", viewID, meta, withDNS(globexZone, "www.globex.example"))
	if !strings.Contains(ack, `"cr_zone"`) || !strings.Contains(ack, "Hosted zone "+globexZone+" is not one of Acme Ltd's") {
		t.Fatalf("acme plan on globex's zone: ack %s", ack)
	}
	if reqs := e.r53.Requests(); len(reqs) != 0 {
		t.Fatalf("a foreign zone caused %d Route 53 requests: %+v", len(reqs), reqs)
	}
	ack = e.submit(t, "UALICE0001", "change_propose", viewID, meta, withDNS(zone, "www.globex.example"))
	if !strings.Contains(ack, "The record www.globex.example is not inside hosted zone "+zone+" (acme.example)") {
		t.Fatalf("record outside acme's zone: ack %s", ack)
	}
	if cr := e.change(t, "CR-1"); cr.State != store.ChangeInvestigating || cr.Proposal != nil {
		t.Fatalf("refused plans changed the request: %s, %+v", cr.State, cr.Proposal)
	}
	// The same form, fixed, goes through (a refusal leaves the form usable).
	if ack := e.submit(t, "UALICE0001", "change_propose", viewID, meta, withDNS(zone, "www.acme.example")); ack != "" {
		t.Fatalf("acme plan on acme's zone: %s", ack)
	}

	// A request stored with another client's zone (as before zones were
	// checked) is refused at cut-over: nothing is sent to Route 53.
	before := recordsXML(e.r53.Records(globexZone))
	at := time.Now()
	cr, err := store.NewChangeRequest("CR-9", "acme", "Move www", "slow", "", "UBOB000001", at)
	if err != nil {
		t.Fatal(err)
	}
	p := store.Proposal{Plan: "switch www", Magnitude: store.MagnitudeMinor, CurrentMonthly: 100, ProposedMonthly: 100,
		Measured: &store.CostMeasure{Monthly: 100, At: at},
		DNS:      &store.DNSPlan{ZoneID: globexZone, Name: "www.globex.example", Type: "A", NewValues: []string{"203.0.113.66"}}}
	for _, step := range []func() error{
		func() error { return cr.Investigate("UALICE0001", at) },
		func() error { return cr.Propose(p, nil, "UALICE0001", at) },
		func() error { return cr.Schedule("UALICE0001", at) },
		func() error { return cr.Provision("UALICE0001", at) },
		func() error { return cr.SmokeTest("UALICE0001", at) },
		func() error { return cr.Waive(admin, "checked by hand", at) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	cr.Channel = "C0SUPPORT"
	if err := store.New(e.rdb, "opsbot:").CreateChange(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	writes := r53Writes(e)
	if got := e.click(t, "UALICE0001", "change_cutover", "CR-9"); !strings.Contains(got, "I won't cut over CR-9") || !strings.Contains(got, "is not one of Acme Ltd") {
		t.Fatalf("cut-over on globex's zone: %s", got)
	}
	if r53Writes(e) != writes || recordsXML(e.r53.Records(globexZone)) != before {
		t.Fatalf("Route 53 changed by a refused cut-over:\n%s", recordsXML(e.r53.Records(globexZone)))
	}
	if got := e.change(t, "CR-9"); got.State != store.ChangeSmokeTesting || got.DNS != nil {
		t.Fatalf("refused cut-over changed the request: %s, %+v", got.State, got.DNS)
	}
}

// TestChangeIssueLinkOnlyFromTheClientsRepos: a link to a repository no
// client lists is refused before any GitHub request (its body never reaches
// the form); a repository of another client is refused for this client.
func TestChangeIssueLinkOnlyFromTheClientsRepos(t *testing.T) {
	e := startChanges(t, redistest.Start(t))
	e.gh.AddIssue(githubtest.Issue{Owner: "acme", Repo: "secret", Number: 1, Title: "Keys", Body: "PRIVATE: the root password is hunter2"})
	e.gh.AddIssue(githubtest.Issue{Owner: "globex", Repo: "shop", Number: 5, Title: "Globex cart", Body: "Globex's issue"})

	got := e.command(t, "UBOB000001", "change https://github.com/acme/secret/issues/1")
	if !strings.Contains(got, ":warning:") || !strings.Contains(got, "not one of a client's repositories") || strings.Contains(got, "hunter2") {
		t.Fatalf("unconfigured repository: %s", got)
	}
	if reqs := e.gh.Requests(); len(reqs) != 0 {
		t.Fatalf("an unconfigured repository caused %d GitHub requests: %+v", len(reqs), reqs)
	}
	// globex/shop is globex's: it may be read, but not used for acme.
	viewID, meta, view := e.openForm(t, func() string {
		return e.fake.SlashCommand("UBOB000001", "C0DEV0001", "change https://github.com/globex/shop/issues/5")
	})
	if raw, _ := json.Marshal(view); !strings.Contains(string(raw), "Globex cart") {
		t.Fatalf("globex's own issue not pre-filled: %s", raw)
	}
	ack := e.submit(t, "UBOB000001", "change_open", viewID, meta, vals(map[string]map[string]any{
		"cr_client": opt("acme"), "cr_title": txt("Cart"), "cr_problem": txt("slow"), "cr_issue": txt("https://github.com/globex/shop/issues/5"),
	}))
	if !strings.Contains(ack, `"cr_issue"`) || !strings.Contains(ack, "globex/shop belongs to Globex, not Acme Ltd") {
		t.Fatalf("globex's issue for an acme request: %s", ack)
	}
	// Typed into the form, an unconfigured repository is refused too.
	ack = e.submit(t, "UBOB000001", "change_open", viewID, meta, vals(map[string]map[string]any{
		"cr_client": opt("acme"), "cr_title": txt("Cart"), "cr_problem": txt("slow"), "cr_issue": txt("https://github.com/acme/secret/issues/1"),
	}))
	if !strings.Contains(ack, "not one of a client's repositories") {
		t.Fatalf("unconfigured repository in the form: %s", ack)
	}
	if open, _ := store.New(e.rdb, "opsbot:").OpenChanges(context.Background()); len(open) != 0 {
		t.Fatalf("refused links opened %d requests", len(open))
	}
	// Unfurls offer a request only under a client's issue links.
	e.fake.LinkShared("UBOB000001", "C0DEV0001", "1700000000.000300", "https://github.com/acme/secret/issues/1", "https://github.com/acme/web/issues/42")
	deadline := time.Now().Add(wait)
	for len(e.fake.Unfurls()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no unfurl")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if u := e.fake.Unfurls()[0].Unfurls; len(u) != 1 || u["https://github.com/acme/web/issues/42"] == nil {
		t.Fatalf("unfurls: %+v", u)
	}
	for _, r := range e.gh.Requests() {
		if strings.Contains(r.Path, "secret") || r.Method != http.MethodGet {
			t.Fatalf("GitHub request for a refused link: %+v", r)
		}
	}
}

// TestChangeFormSubmittedThreeTimesMakesOneRequest: a sealed form is
// accepted once; replays answer "already submitted" and change nothing.
func TestChangeFormSubmittedThreeTimesMakesOneRequest(t *testing.T) {
	e := startChanges(t, redistest.Start(t))
	viewID, meta, _ := e.openForm(t, func() string { return e.fake.SlashCommand("UBOB000001", "C0DEV0001", "change") })
	values := vals(map[string]map[string]any{"cr_client": opt("acme"), "cr_title": txt("Checkout slow"), "cr_problem": txt("30 s at 9pm")})
	envs := make([]string, 3)
	for i := range envs {
		envs[i] = e.fake.ViewSubmission("UBOB000001", slacktest.ViewSubmission{CallbackID: "change_open", ViewID: viewID, PrivateMetadata: meta, Values: values})
	}
	for _, env := range envs {
		if _, err := e.fake.WaitAck(env, wait); err != nil {
			t.Fatal(err)
		}
	}
	e.waitDM(t, "UBOB000001", "already submitted")
	e.requestMessage(t, "requested")
	open, err := store.New(e.rdb, "opsbot:").OpenChanges(context.Background())
	if err != nil || len(open) != 1 {
		t.Fatalf("three submissions of one form opened %d requests (%v)", len(open), err)
	}
	replies := 0
	for _, c := range e.fake.Calls("chat.postMessage") {
		if c.Form.Get("channel") == "UBOB000001" && strings.Contains(c.Form.Get("text"), "already submitted") {
			replies++
		}
	}
	if replies != 2 {
		t.Fatalf("%d 'already submitted' replies, want 2", replies)
	}
}

// TestChangeTypedCostBasisNeedsFinance: with no cost measured by opsbot, a
// typed 99,999 → 5,000 is not approved on the spot: finance must approve,
// and finance people get the request with buttons in their DMs.
func TestChangeTypedCostBasisNeedsFinance(t *testing.T) {
	e := startChanges(t, redistest.Start(t))
	viewID, meta := openAndInvestigate(t, e)
	p := proposal(time.Now().Add(time.Hour).UTC())
	p["cr_current"] = map[string]any{"value": txt("99999")}
	p["cr_proposed"] = map[string]any{"value": txt("5000")}
	if ack := e.submit(t, "UALICE0001", "change_propose", viewID, meta, p); ack != "" {
		t.Fatalf("propose: %s", ack)
	}
	cr := e.change(t, "CR-1")
	if cr.State != store.ChangeAwaitingApproval || !slices.Equal(cr.RequiredApprovers(), []string{"finance"}) {
		t.Fatalf("typed decrease without a measured figure: %s, required %v", cr.State, cr.RequiredApprovers())
	}
	e.waitDM(t, dave, "Your approval is needed as finance")
	fin := e.waitMessage(t, dave, func(m slacktest.Message) bool {
		return strings.Contains(string(m.Blocks), `"action_id":"change_approve"`)
	})
	if !strings.Contains(fin.Text, "−$94,999.00/month") {
		t.Fatalf("finance DM: %s", fin.Text)
	}
	// The stakeholder is told, not asked: no buttons in her DM.
	e.waitDM(t, carol, "Approval is asked of finance")
	for _, m := range e.fake.Messages(carol) {
		if strings.Contains(string(m.Blocks), "change_approve") {
			t.Fatalf("stakeholder asked to approve a finance-only request: %s", m.Blocks)
		}
	}
	if got := e.click(t, carol, "change_approve", "CR-1|1"); !strings.Contains(got, "takes the finance role") {
		t.Fatalf("stakeholder approving a finance-only request: %s", got)
	}
}

// TestChangeStatusCommentRecreatedWhenDeleted: if someone deletes the
// status comment on GitHub, the next state change writes a new one (the
// edit's 404 is not retried for ever).
func TestChangeStatusCommentRecreatedWhenDeleted(t *testing.T) {
	e := startChanges(t, redistest.Start(t))
	openAndPropose(t, e, time.Now().Add(time.Hour).UTC())
	waitComments := func(want string) []githubtest.Comment {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			c := e.gh.IssueComments("acme", "web", 42)
			if len(c) == 1 && strings.Contains(c[0].Body, want) {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("status comment never showed %q: %+v", want, c)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	first := waitComments("awaiting approval")
	e.gh.DeleteComment(first[0].ID)
	viewID, meta, _ := e.openForm(t, func() string {
		return e.fake.BlockAction("UBOB000001", slacktest.BlockAction{ActionID: "change_cancel", Value: "CR-1", ChannelID: "C0SUPPORT", MessageTS: "1.1"})
	})
	if ack := e.submit(t, "UBOB000001", "change_reason", viewID, meta, vals(map[string]map[string]any{"cr_comment": txt("fixed by a deploy")})); ack != "" {
		t.Fatalf("cancel: %s", ack)
	}
	again := waitComments("cancelled")
	if again[0].ID == first[0].ID || strings.Contains(again[0].Body, "fixed by a deploy") {
		t.Fatalf("status comment after the deletion: %+v", again)
	}
}
