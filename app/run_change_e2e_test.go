package app

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/route53/route53test"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

func TestChangeRequestEndToEnd(t *testing.T) {
	e := startChanges(t, redistest.Deploy(t, false))

	// A bad link: a clear error and no request to any host.
	for _, bad := range []string{"http://evil.example/o/r/issues/1", "javascript:alert(1)", "https://github.com/o/../r/issues/1",
		"https://github.com/o/r/issues/-1", "https://github.com/o/r/issues/99999999999999999999", strings.Repeat("x", 5000)} {
		if got := e.command(t, "UBOB000001", "change "+bad); !strings.Contains(got, ":warning:") || strings.Contains(got, "Something went wrong") {
			t.Fatalf("bad link %q: %s", bad[:min(len(bad), 40)], got)
		}
	}
	if reqs := e.gh.Requests(); len(reqs) != 0 {
		t.Fatalf("bad links caused %d GitHub requests", len(reqs))
	}

	start := time.Now().Add(-time.Minute).UTC()
	openAndPropose(t, e, start)
	// Finance and the stakeholder are told, with the difference in money and %.
	e.waitMessage(t, "C0FINANCE", func(m slacktest.Message) bool { return strings.Contains(m.Text, "+$120.00/month (+20 %)") })
	e.waitDM(t, carol, "Your approval is needed")
	// GitHub got a comment with the request ID and a link to the Slack message.
	deadline := time.Now().Add(wait)
	for c := e.gh.Comments("acme", "web", 42); len(c) == 0 || !strings.Contains(c[0], "CR-1") || !strings.Contains(c[0], "slack.com/archives/"); c = e.gh.Comments("acme", "web", 42) {
		if time.Now().After(deadline) {
			t.Fatalf("GitHub comments: %q", c)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Refused approvals change nothing.
	if got := e.click(t, "UBOB000001", "change_approve", "CR-1|1"); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("engineer approving: %s", got)
	}
	if got := e.click(t, erin, "change_approve", "CR-1|1"); !strings.Contains(got, "You hold none of them") {
		t.Fatalf("stakeholder of another client approving: %s", got)
	}
	forged := e.fake.ViewSubmission(dave, slacktest.ViewSubmission{CallbackID: "change_approve", ViewID: "V999",
		PrivateMetadata: "CR-1|1|finance|" + time.Now().Format("20060102"), Values: vals(map[string]map[string]any{"cr_comment": txt("")})})
	if _, err := e.fake.WaitAck(forged, wait); err != nil {
		t.Fatal(err)
	}
	e.waitDM(t, dave, "not opened for you")
	if cr := e.change(t, "CR-1"); len(cr.Approvals) != 0 || cr.State != store.ChangeAwaitingApproval {
		t.Fatalf("after refusals: %s with %d approvals", cr.State, len(cr.Approvals))
	}

	// The stakeholder approves where she is: the buttons of her DM open
	// the same sealed form, and the request's message updates for everyone.
	// She opens it twice; the second approval is not claimed as recorded.
	viewID, first, _ := e.openDMForm(t, carol)
	_, second, _ := e.openDMForm(t, carol)
	approved := vals(map[string]map[string]any{"cr_comment": txt("ok for Q4")})
	if ack := e.submit(t, carol, "change_approve", viewID, first, approved); ack != "" {
		t.Fatalf("stakeholder approval from the DM: %s", ack)
	}
	e.waitDM(t, carol, "still waits for finance")
	e.requestMessage(t, `stakeholder: \u003c@`+carol)
	if ack := e.submit(t, carol, "change_approve", viewID, second, approved); ack != "" {
		t.Fatalf("repeat approval ack: %s", ack)
	}
	e.waitDM(t, carol, "already approved *CR-1*")
	if cr := e.change(t, "CR-1"); len(cr.Approvals) != 1 {
		t.Fatalf("repeat approval recorded: %+v", cr.Approvals)
	}
	// Finance approves in the support channel's message.
	if ack := e.approve(t, dave, "CR-1|1"); ack != "" {
		t.Fatalf("finance approval ack: %s", ack)
	}
	e.requestMessage(t, "approved")
	if cr := e.change(t, "CR-1"); cr.State != store.ChangeApproved || len(cr.Approvals) != 2 {
		t.Fatalf("after approvals: %s with %+v", cr.State, cr.Approvals)
	}

	// Scheduling a major change freezes the client's repositories.
	if got := e.click(t, "UALICE0001", "change_step", "CR-1|approved|schedule"); !strings.Contains(got, "scheduled") {
		t.Fatalf("schedule: %s", got)
	}
	if code, body := e.get(t, "/v1/freeze?repo=acme/web"); code != 423 || !strings.Contains(body, `"change_id":"CR-1"`) {
		t.Fatalf("freeze: %d %s", code, body)
	}
	e.waitMessage(t, "C0ACMEGEN", func(m slacktest.Message) bool { return strings.Contains(m.Text, "Deploy freeze") })
	e.click(t, "UALICE0001", "change_step", "CR-1|scheduled|provision")

	// Smoke checks against the new infrastructure (by IP, with the Host header).
	viewID, meta, _ := e.openForm(t, func() string {
		return e.fake.BlockAction("UALICE0001", slacktest.BlockAction{ActionID: "change_smoke", Value: "CR-1", ChannelID: "C0SUPPORT", MessageTS: "1.1"})
	})
	if ack := e.submit(t, "UALICE0001", "change_smoke", viewID, meta, vals(map[string]map[string]any{
		"cr_checks": txt(e.smoke.URL + "/health host=www.acme.example status=200 keyword=ok")})); ack != "" {
		t.Fatalf("smoke ack: %s", ack)
	}
	if got := e.click(t, "UALICE0001", "change_cutover", "CR-1"); !strings.Contains(got, "smoke checks have not all passed") {
		t.Fatalf("cut-over before smoke passed: %s", got)
	}
	if cr := e.afterStep(t, "UALICE0001", "change_smoke_run", "CR-1", "Running the 1 smoke check", wait); !cr.SmokePassed() {
		t.Fatalf("smoke run: %+v", cr.SmokeResults)
	}
	e.requestMessage(t, "✅ `")

	// Cut-over changes the records; rollback restores them byte for byte.
	before := recordsXML(e.r53.Records(zone))
	if cr := e.afterStep(t, "UALICE0001", "change_cutover", "CR-1", "Switching DNS", 30*time.Second); cr.State != store.ChangeCutOver {
		t.Fatalf("cut-over: %s %+v\nlogs:\n%s", cr.State, cr.DNS, e.logs)
	}
	e.requestMessage(t, "DNS switched")
	after := recordsXML(e.r53.Records(zone))
	if after == before || !strings.Contains(after, "203.0.113.10") || strings.Contains(after, "198.51.100.7") {
		t.Fatalf("records after cut-over:\n%s", after)
	}
	if cr := e.afterStep(t, "UALICE0001", "change_rollback", "CR-1", "Rolling back DNS", 30*time.Second); cr.State != store.ChangeRolledBack {
		t.Fatalf("rollback: %s", cr.State)
	}
	if restored := recordsXML(e.r53.Records(zone)); restored != before {
		t.Fatalf("rollback did not restore the records:\nbefore:\n%s\nafter:\n%s", before, restored)
	}
	if code, _ := e.get(t, "/v1/freeze?repo=acme/web"); code != 200 {
		t.Fatalf("freeze still on after the request ended: %d", code)
	}

	// The change log: an entry posted to finance, listed, and exported as CSV.
	e.waitMessage(t, "C0FINANCE", func(m slacktest.Message) bool {
		return strings.Contains(m.Text, "Change log") && strings.Contains(m.Text, "rolled back")
	})
	e.requestMessage(t, "rolled back")
	month := time.Now().UTC().Format("2006-01")
	if got := e.command(t, dave, "changelog "+month); !strings.Contains(got, "CR-1") {
		t.Fatalf("changelog: %s", got)
	}
	e.command(t, dave, "changelog export "+month)
	files := e.fake.Files()
	if len(files) == 0 {
		t.Fatal("no CSV uploaded")
	}
	rows, err := csv.NewReader(strings.NewReader(string(files[len(files)-1].Content))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV: %v rows, %v", len(rows), err)
	}
	line := strings.Join(rows[1], "|")
	for _, want := range []string{"CR-1", "acme", "rolled back", carol, dave, "120.00"} {
		if !strings.Contains(line, want) {
			t.Fatalf("CSV row lacks %q: %s", want, line)
		}
	}
	// The issue has one status comment, edited in place at each state
	// change; it shows states only (github_comments defaults to status):
	// no cost figures, no reasons.
	ghc := e.gh.IssueComments("acme", "web", 42)
	if len(ghc) != 1 || ghc[0].Edits < 8 || !strings.Contains(ghc[0].Body, "rolled back") ||
		strings.Contains(ghc[0].Body, "$") || strings.Contains(ghc[0].Body, "ok for Q4") || strings.Contains(ghc[0].Body, "Slack") && !strings.Contains(ghc[0].Body, "[Open in Slack]") {
		t.Fatalf("GitHub status comment: %+v", ghc)
	}
	// The thread holds the history: who did what. The outbox posts it
	// after the request's message, so it may still be arriving.
	cr := e.change(t, "CR-1")
	thread := 0
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		thread = 0
		for _, m := range e.fake.Messages("C0SUPPORT") {
			if m.ThreadTS == cr.MessageTS {
				thread++
			}
		}
		if thread >= 10 || time.Now().After(deadline) {
			break
		}
	}
	if thread < 10 {
		t.Fatalf("thread has %d lines for %d history events", thread, len(cr.History))
	}

	// An alert of acme, acknowledged from its message by support.
	fireAlert(t, e.opsbot, "C0ACMEGEN")
	alert := e.waitMessage(t, "C0ACMEGEN", func(m slacktest.Message) bool { return strings.Contains(string(m.Blocks), "alert_ack") })
	if got := e.replyTo(t, func() string {
		return e.fake.BlockAction("UALICE0001", slacktest.BlockAction{ActionID: "alert_ack", BlockID: "alert_actions", Value: "uptime/acme/www", ChannelID: "C0ACMEGEN", MessageTS: alert.TS})
	}); !strings.Contains(got, "Acknowledged") {
		t.Fatalf("alert ack: %s", got)
	}

	// The audit log has every step, with who, the object, from → to and the reasons.
	audit := e.command(t, admin, "audit acme --since 1d 200")
	for _, want := range []string{
		"`change.open` CR-1", "`change.investigate` CR-1", "`change.propose` CR-1", "`change.await_approval` CR-1",
		"<@" + carol + "> · `change.approve` CR-1", "<@" + dave + "> · `change.approve` CR-1", "`change.approved` CR-1",
		"`change.schedule` CR-1", "`freeze.open` CR-1", "`change.provision` CR-1", "`change.smoke_checks` CR-1",
		"`change.smoke_run` CR-1", "`change.cutover_begin` CR-1", "`change.cutover` CR-1", "smoke testing → cut over",
		"`change.rollback_begin` CR-1", "`change.rollback` CR-1", "reason: rolled back from Slack", "`freeze.close` CR-1",
		"<@UALICE0001> · `alert.acknowledge` uptime/acme/www", "firing → acknowledged",
		"`role.grant` <@" + carol + "> *stakeholder*",
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("/ops audit lacks %q:\n%s", want, audit)
		}
	}
	if bob := e.command(t, admin, "audit @bob"); !strings.Contains(bob, "`change.open` CR-1") || strings.Contains(bob, "change.investigate") {
		t.Errorf("/ops audit @bob:\n%s", bob)
	}
	if got := e.command(t, "UALICE0001", "audit"); !strings.Contains(got, ":no_entry:") {
		t.Errorf("support reading the audit log: %s", got)
	}
	// The export goes to the admin's DM, not the channel typed in.
	e.command(t, admin, "audit export")
	var export slacktest.File
	for deadline := time.Now().Add(wait); export.Name == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, f := range e.fake.Files() {
			if strings.HasPrefix(f.Name, "audit-") {
				export = f
			}
		}
	}
	if export.Channel != "D"+admin || !strings.Contains(string(export.Content), "change.rollback,CR-1,acme") {
		t.Fatalf("audit export: %q to %s (want the admin's DM):\n%s", export.Name, export.Channel, export.Content)
	}
}

// fireAlert makes the acme/www alert fire the way the uptime monitor would,
// posting to channel.
func fireAlert(t *testing.T, o *opsbot, channel string) {
	t.Helper()
	st := store.New(o.rdb, "opsbot:")
	subj := jobs.Subject{Key: "uptime/acme/www", Monitor: "uptime", Client: "acme", Name: "www", URL: "https://www.acme.example/",
		Channel: channel, Thresholds: store.Thresholds{FailAfter: 1, RecoverAfter: 1}}
	if _, err := jobs.NewAlerter(st, nil).Observe(context.Background(), subj, false, "status 503", time.Now(), false); err != nil {
		t.Fatal(err)
	}
}

func recordsXML(recs []route53test.Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.XML() + "\n")
	}
	return b.String()
}
