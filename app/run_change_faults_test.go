package app

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

func slackAction(action, value string) slacktest.BlockAction {
	return slacktest.BlockAction{ActionID: action, BlockID: "change_actions", Value: value, ChannelID: "C0SUPPORT", MessageTS: "1.1"}
}

func TestChangeRoute53FailureMidCutOverKeepsRecordsAndRestores(t *testing.T) {
	// Route 53 accepts the change but then refuses GetChange: the records
	// are already changed when the cut-over fails.
	var front *httptest.Server
	e := startChangesWith(t, redistest.Deploy(t, false), "", func(target string) string {
		u, _ := url.Parse(target)
		proxy := httputil.NewSingleHostReverseProxy(u)
		front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2013-04-01/change/") {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: route53:GetChange</Message></Error><RequestId>r1</RequestId></ErrorResponse>`))
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		return front.URL
	})
	openAndPropose(t, e, time.Now().Add(-time.Minute).UTC())
	waiveToCutOver(t, e)
	before := recordsXML(e.r53.Records(zone))
	cr := e.afterStep(t, "UALICE0001", "change_cutover", "CR-1", "Switching DNS", 30*time.Second)
	if f := cr.DNS.Failure; !strings.Contains(f, "not allowed to do this (route53:GetChange") ||
		!strings.Contains(f, "(ref ") || strings.Contains(f, "operation error") || strings.Contains(f, "request r1") {
		t.Fatalf("cut-over failure (want plain words and a ref, no SDK error): %q", f)
	}
	if cr.State != store.ChangeSmokeTesting || len(cr.DNS.Kept) == 0 {
		t.Fatalf("after the failure: %s %+v", cr.State, cr.DNS)
	}
	e.requestMessage(t, "Cut-over failed")
	e.requestMessage(t, "change_restore") // Restore DNS is offered
	if changed := recordsXML(e.r53.Records(zone)); changed == before {
		t.Fatal("the fault did not hit after the change was sent")
	}
	// Restore DNS puts the kept records back exactly (Restore waits for
	// INSYNC too, which still fails: the records are back regardless).
	e.afterStep(t, "UALICE0001", "change_restore", "CR-1", "Restoring DNS", 30*time.Second)
	if restored := recordsXML(e.r53.Records(zone)); restored != before {
		t.Fatalf("restore:\nbefore:\n%s\nafter:\n%s", before, restored)
	}
	// Route 53 unreachable: the failure says so in words, without the SDK's
	// error and the addresses it dialled (the SDK retries the refused
	// connections with backoff: allow for it).
	front.Close()
	cr = e.afterStep(t, "UALICE0001", "change_cutover", "CR-1", "Switching DNS", 60*time.Second)
	if f := cr.DNS.Failure; !strings.Contains(f, "Route 53 did not answer") || strings.Contains(f, "127.0.0.1") || strings.Contains(f, "dial tcp") {
		t.Fatalf("cut-over with Route 53 unreachable: %q", f)
	}
	if !strings.Contains(e.logs.String(), "dial tcp") {
		t.Fatal("the SDK error is not in the log")
	}
}

// waiveToCutOver approves CR-1, schedules and provisions it, lists a check
// and has the admin waive it, so the cut-over may go ahead.
func waiveToCutOver(t *testing.T, e *changeEnv) {
	t.Helper()
	for _, u := range []string{carol, dave} {
		if ack := e.approve(t, u, "CR-1|1"); ack != "" {
			t.Fatalf("approval by %s: %s", u, ack)
		}
	}
	for _, step := range []string{"approved|schedule", "scheduled|provision"} {
		e.click(t, "UALICE0001", "change_step", "CR-1|"+step)
	}
	viewID, meta, _ := e.openForm(t, func() string {
		return e.fake.BlockAction("UALICE0001", slackAction("change_smoke", "CR-1"))
	})
	if ack := e.submit(t, "UALICE0001", "change_smoke", viewID, meta, vals(map[string]map[string]any{"cr_checks": txt("https://203.0.113.10/health host=www.acme.example")})); ack != "" {
		t.Fatalf("smoke ack: %s", ack)
	}
	// Support may not waive; the admin may, with a reason.
	if got := e.click(t, "UALICE0001", "change_waive", "CR-1"); !strings.Contains(got, "Only an admin") {
		t.Fatalf("support waiving: %s", got)
	}
	viewID, meta, _ = e.openForm(t, func() string { return e.fake.BlockAction(admin, slackAction("change_waive", "CR-1")) })
	if ack := e.submit(t, admin, "change_reason", viewID, meta, vals(map[string]map[string]any{"cr_comment": txt("")})); !strings.Contains(ack, "reason") {
		t.Fatalf("waiver without a reason: %s", ack)
	}
	if ack := e.submit(t, admin, "change_reason", viewID, meta, vals(map[string]map[string]any{"cr_comment": txt("checked by hand on staging")})); ack != "" {
		t.Fatalf("waiver ack: %s", ack)
	}
	e.requestMessage(t, "Waived by")
}

func TestChangeApprovalsSurviveRedisRestartAndEditsVoidThem(t *testing.T) {
	rs := redistest.Deploy(t, true)
	e := startChanges(t, rs)
	openAndPropose(t, e, time.Now().Add(time.Hour).UTC())
	if ack := e.approve(t, carol, "CR-1|1"); ack != "" {
		t.Fatalf("stakeholder approval: %s", ack)
	}
	rs.Stop()
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	if ack := e.approve(t, dave, "CR-1|1"); ack != "" {
		t.Fatalf("finance approval after the restart: %s", ack)
	}
	cr := e.change(t, "CR-1")
	if cr.State != store.ChangeApproved || len(cr.Approvals) != 2 {
		t.Fatalf("after restart: %s with %+v", cr.State, cr.Approvals)
	}

	// Editing the proposal voids both approvals and asks again.
	viewID, meta, _ := e.openForm(t, func() string { return e.fake.BlockAction("UALICE0001", slackAction("change_propose", "CR-1")) })
	edit := proposal(time.Now().Add(time.Hour).UTC())
	edit["cr_proposed"] = map[string]any{"value": txt("800")}
	if ack := e.submit(t, "UALICE0001", "change_propose", viewID, meta, edit); ack != "" {
		t.Fatalf("edit: %s", ack)
	}
	cr = e.change(t, "CR-1")
	if cr.State != store.ChangeAwaitingApproval || len(cr.Approvals) != 0 || cr.Proposal.Version != 2 {
		t.Fatalf("after edit: %s v%d with %+v", cr.State, cr.Proposal.Version, cr.Approvals)
	}
	// A click on the message drawn for v1 is refused; v2 is approved afresh.
	if got := e.click(t, carol, "change_approve", "CR-1|1"); !strings.Contains(got, "changed since") {
		t.Fatalf("stale approval click: %s", got)
	}
	// A form opened for v1 and submitted after the edit is void.
	if ack := e.approve(t, carol, "CR-1|2"); ack != "" {
		t.Fatalf("approval of v2: %s", ack)
	}
	if cr := e.change(t, "CR-1"); len(cr.Approvals) != 1 || cr.Approvals[0].ProposalVersion != 2 {
		t.Fatalf("v2 approvals: %+v", cr.Approvals)
	}
	// The proposer and the requester cannot approve (four eyes), even as finance.
	e.command(t, admin, "role grant @alice finance")
	if got := e.click(t, "UALICE0001", "change_approve", "CR-1|2"); !strings.Contains(got, "Four eyes") {
		t.Fatalf("proposer approving: %s", got)
	}
}

func TestChangeApprovalExpires(t *testing.T) {
	e := startChangesWith(t, redistest.Deploy(t, false), "changes:\n  approval_ttl: 1s\n", nil)
	openAndPropose(t, e, time.Now().Add(time.Hour).UTC())
	viewID, meta, _ := e.openForm(t, func() string { return e.fake.BlockAction(carol, slackAction("change_approve", "CR-1|1")) })
	time.Sleep(2100 * time.Millisecond) // the approval form was seen more than 1 s ago
	e.submit(t, carol, "change_approve", viewID, meta, vals(map[string]map[string]any{"cr_comment": txt("")}))
	e.waitDM(t, carol, "expired")
	if cr := e.change(t, "CR-1"); len(cr.Approvals) != 0 {
		t.Fatalf("expired approval recorded: %+v", cr.Approvals)
	}
}

func TestChangeGitHubDownCommentRetriedAndLinkUnfurled(t *testing.T) {
	e := startChanges(t, redistest.Deploy(t, false))
	// GitHub answers 502 to the issue read (the form opens unfilled,
	// saying so) and 503 to the first comment (retried by the outbox).
	e.gh.ServerErrorNext(502)
	e.gh.ServerErrorNext(503)
	openAndPropose(t, e, time.Now().Add(time.Hour).UTC())
	if cr := e.change(t, "CR-1"); cr.State != store.ChangeAwaitingApproval {
		t.Fatalf("request did not proceed with GitHub down: %s", cr.State)
	}
	// One status comment, written once the 503 is retried, then edited in
	// place (opened, investigating, awaiting approval).
	deadline := time.Now().Add(15 * time.Second)
	for c := e.gh.IssueComments("acme", "web", 42); len(c) != 1 || c[0].Edits < 2 || !strings.Contains(c[0].Body, "awaiting approval"); c = e.gh.IssueComments("acme", "web", 42) {
		if time.Now().After(deadline) {
			t.Fatalf("status comment not retried and kept: %+v\nlogs:\n%s", c, e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	posts, patches := 0, 0
	for _, r := range e.gh.Requests() {
		switch r.Method {
		case http.MethodPost:
			posts++
		case http.MethodPatch:
			patches++
		}
	}
	if c := e.gh.IssueComments("acme", "web", 42); posts != 2 || patches != c[0].Edits {
		t.Fatalf("want one failed POST retried, then edits: %d posts, %d patches, comments %+v", posts, patches, c)
	}
	// Unfurls: a GitHub issue link gets the offer, anything else nothing.
	e.fake.LinkShared("UBOB000001", "C0DEV0001", "1700000000.000200", "https://github.com/acme/web/issues/42", "http://evil.example/o/r/issues/1")
	deadline = time.Now().Add(wait)
	for len(e.fake.Unfurls()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no unfurl")
		}
		time.Sleep(20 * time.Millisecond)
	}
	u := e.fake.Unfurls()[0]
	if len(u.Unfurls) != 1 || !strings.Contains(string(u.Unfurls["https://github.com/acme/web/issues/42"]), "Open change request") {
		t.Fatalf("unfurls: %+v", u.Unfurls)
	}
}
