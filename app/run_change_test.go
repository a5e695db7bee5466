package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/integrations/route53/route53test"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// People of the change request tests (besides admin, alice and bob).
const (
	carol = "UCAROL0001" // stakeholder of acme
	dave  = "UDAVE00001" // finance
	erin  = "UERIN00001" // stakeholder of beta
	zone  = "Z0123456789ABC"
	// globexZone is another client's hosted zone.
	globexZone = "Z0GLOBEX00000001"
)

// changeEnv is opsbot with a fake GitHub, a fake Route 53 and a smoke
// target standing in for the new infrastructure.
type changeEnv struct {
	*opsbot
	gh    *githubtest.Server
	r53   *route53test.Server
	smoke *httptest.Server
}

func startChanges(t testing.TB, rs redistest.Deployment) *changeEnv {
	t.Helper()
	return startChangesWith(t, rs, "", nil)
}

// startChangesWith adds extra YAML and lets route53URL rewrite the Route 53
// endpoint (to put a faulty proxy in front of the fake).
func startChangesWith(t testing.TB, rs redistest.Deployment, extra string, route53URL func(string) string) *changeEnv {
	t.Helper()
	e := &changeEnv{gh: githubtest.New(t), r53: route53test.New(t)}
	e.gh.AddIssue(githubtest.Issue{Owner: "acme", Repo: "web", Number: 42, Title: "Checkout times out at peak", Body: "Since Monday, checkout takes 30 s at 9pm."})
	e.r53.AddZone(zone, "acme.example.")
	e.r53.AddZone(globexZone, "globex.example.")
	e.r53.SetRecords(globexZone, route53test.Record{Name: "www.globex.example.", Type: "A", TTL: 300, Values: []string{"192.0.2.80"}})
	e.r53.SetRecords(zone,
		route53test.Record{Name: "www.acme.example.", Type: "A", TTL: 300, Values: []string{"198.51.100.7", "198.51.100.8"}},
		route53test.Record{Name: "acme.example.", Type: "TXT", TTL: 60, Values: []string{`"v=owner acme"`}})
	e.smoke = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "www.acme.example" {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		_, _ = w.Write([]byte("shop ok"))
	}))
	t.Cleanup(e.smoke.Close)
	r53URL := e.r53.URL
	if route53URL != nil {
		r53URL = route53URL(r53URL)
	}
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	// The smoke target listens on 127.0.0.1: smoke checks reach it only
	// through changes.smoke_allow (extra may add more changes settings).
	changes := "changes:\n  smoke_allow: [127.0.0.1]\n"
	if rest, ok := strings.CutPrefix(extra, "changes:\n"); ok {
		changes, extra = changes+rest, ""
	}
	yaml := extra + changes + `channels:
  support: "#ops-support"
  finance: "#finance"
clients:
  acme:
    name: Acme Ltd
    channels: {general: "#acme"}
    repos: [acme/web]
    dns_zones: [` + zone + `]
  beta:
    name: Beta
  globex:
    name: Globex
    repos: [globex/shop]
    dns_zones: [` + globexZone + `]
uptime:
  allow_private: true
integrations:
  github:
    api_url: ` + e.gh.APIURL() + `
  aws:
    region: us-east-1
    endpoint_url: ` + r53URL + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// AWS settings reach opsbot through Run's environment only, so these
	// tests may run in parallel.
	e.opsbot = startOn(t, map[string]string{"OPSBOT_CONFIG": cfg, "GITHUB_TOKEN": githubtest.Token,
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test", "AWS_CONFIG_FILE": os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}, rs)
	for _, u := range []slacktest.User{{ID: carol, Name: "carol"}, {ID: dave, Name: "dave"}, {ID: erin, Name: "erin"}} {
		e.fake.AddUser(u)
	}
	for _, g := range []string{"@alice support", "@bob engineer", "<@" + carol + "> stakeholder acme", "<@" + dave + "> finance", "<@" + erin + "> stakeholder beta"} {
		if got := e.command(t, admin, "role grant "+g); !strings.Contains(got, "now") {
			t.Fatalf("grant %s: %s", g, got)
		}
	}
	return e
}

func txt(v string) map[string]any { return map[string]any{"type": "plain_text_input", "value": v} }
func opt(v string) map[string]any {
	return map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}
}
func vals(kv map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for block, el := range kv {
		out[block] = map[string]any{"value": el}
	}
	return out
}

// click presses a button on the request's message and returns the reply
// the person sees (its response_url).
func (e *changeEnv) click(t testing.TB, user, action, value string) string {
	t.Helper()
	return e.replyTo(t, func() string {
		return e.fake.BlockAction(user, slacktest.BlockAction{ActionID: action, BlockID: "change_actions", Value: value, ChannelID: "C0SUPPORT", MessageTS: "1.1"})
	})
}

// afterStep presses a button that starts a long step (smoke checks, a
// cut-over, a restore or roll back), checks that the click is answered at
// once with started, and waits up to within for the step to end; it returns
// the request as the step left it.
func (e *changeEnv) afterStep(t testing.TB, user, action, id, started string, within time.Duration) store.ChangeRequest {
	t.Helper()
	if got := e.click(t, user, action, id); !strings.Contains(got, started) {
		t.Fatalf("%s %s: the click's reply lacks %q: %s\nlogs:\n%s", action, id, started, got, e.logs)
	}
	return e.stepEnded(t, id, within)
}

// stepEnded waits up to within until request id has no step running.
func (e *changeEnv) stepEnded(t testing.TB, id string, within time.Duration) store.ChangeRequest {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cr := e.change(t, id)
		if cr.Step == nil {
			return cr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: step %+v still running after %v\nlogs:\n%s", id, *cr.Step, within, e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openForm presses a button (or runs a command) that opens a modal and
// returns the opened view's ID and sealed metadata.
func (e *changeEnv) openForm(t testing.TB, send func() string) (viewID, meta string, view map[string]any) {
	t.Helper()
	sent := time.Now()
	env := send()
	if _, err := e.fake.WaitAck(env, wait); err != nil {
		t.Fatal(err)
	}
	call, err := e.fake.WaitCall("views.open", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait)
	if err != nil {
		t.Fatalf("no modal opened: %v\nlogs:\n%s", err, e.logs)
	}
	view, _ = call.JSON["view"].(map[string]any)
	meta, _ = view["private_metadata"].(string)
	return "", meta, view
}

// submit sends a view_submission and returns the ack payload (field errors).
func (e *changeEnv) submit(t testing.TB, user, callback, viewID, meta string, values map[string]map[string]any) string {
	t.Helper()
	env := e.fake.ViewSubmission(user, slacktest.ViewSubmission{CallbackID: callback, ViewID: viewID, PrivateMetadata: meta, Values: values})
	ack, err := e.fake.WaitAck(env, wait)
	if err != nil {
		t.Fatal(err)
	}
	return string(ack.Payload)
}

// waitDM waits for a direct message to user containing want.
func (e *changeEnv) waitDM(t testing.TB, user, want string) {
	t.Helper()
	if _, err := e.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == user && strings.Contains(c.Form.Get("text"), want)
	}, wait); err != nil {
		t.Fatalf("no DM to %s containing %q: %v\nlogs:\n%s", user, want, err, e.logs)
	}
}

// waitMessage waits until a message of channel satisfies ok and returns it.
func (e *changeEnv) waitMessage(t testing.TB, channel string, ok func(slacktest.Message) bool) slacktest.Message {
	t.Helper()
	return e.waitMessageWithin(t, channel, wait, ok)
}

func (e *changeEnv) waitMessageWithin(t testing.TB, channel string, within time.Duration, ok func(slacktest.Message) bool) slacktest.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, m := range e.fake.Messages(channel) {
			if ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching message in %s; have %+v\nlogs:\n%s", channel, e.fake.Messages(channel), e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requestMessage waits until CR-1's one message shows want.
func (e *changeEnv) requestMessage(t testing.TB, want string) slacktest.Message {
	t.Helper()
	return e.waitMessage(t, "C0SUPPORT", func(m slacktest.Message) bool {
		return m.ThreadTS == "" && strings.Contains(m.Text, "CR-1") && strings.Contains(m.Text+string(m.Blocks), want)
	})
}

func (e *changeEnv) change(t testing.TB, id string) store.ChangeRequest {
	t.Helper()
	cr, err := store.New(e.redis.Connect(t), "opsbot:").GetChange(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func proposal(start time.Time) map[string]map[string]any {
	return vals(map[string]map[string]any{
		"cr_plan": txt("Move the shop to two c7g.large behind a new load balancer"), "cr_magnitude": opt("major"),
		"cr_current": txt("600"), "cr_proposed": txt("$720.00"), "cr_rollback": txt("Point DNS back at the old servers"),
		"cr_start": txt(start.Format("2006-01-02 15:04")), "cr_end": txt(start.Add(4 * time.Hour).Format("2006-01-02 15:04")),
		"cr_zone": txt(zone), "cr_name": txt("www.acme.example"), "cr_type": txt("A"), "cr_values": txt("203.0.113.10\n203.0.113.11"),
	})
}

// openAndPropose takes CR-1 from a GitHub link to awaiting approval.
func openAndPropose(t testing.TB, e *changeEnv, windowStart time.Time) {
	t.Helper()
	viewID, meta := openAndInvestigate(t, e)
	if ack := e.submit(t, "UALICE0001", "change_propose", viewID, meta, proposal(windowStart)); ack != "" {
		t.Fatalf("propose ack: %s", ack)
	}
	e.requestMessage(t, "awaiting approval")
}

// openAndInvestigate takes CR-1 from a GitHub link to investigating and
// opens the proposal form.
func openAndInvestigate(t testing.TB, e *changeEnv) (viewID, meta string) {
	t.Helper()
	viewID, meta, view := e.openForm(t, func() string {
		return e.fake.SlashCommand("UBOB000001", "C0DEV0001", "change https://github.com/acme/web/issues/42")
	})
	raw, _ := json.Marshal(view)
	if !strings.Contains(string(raw), `"value":"acme"`) || !strings.Contains(string(raw), "Checkout times out at peak") &&
		!strings.Contains(string(raw), "couldn't read acme/web#42 from GitHub") {
		t.Fatalf("form neither pre-filled from the issue nor saying why not: %s", raw)
	}
	if ack := e.submit(t, "UBOB000001", "change_open", viewID, meta, vals(map[string]map[string]any{
		"cr_client": opt("acme"), "cr_title": txt("Checkout times out at peak"),
		"cr_problem": txt("Since Monday, checkout takes 30 s at 9pm."), "cr_issue": txt("https://github.com/acme/web/issues/42"),
	})); ack != "" {
		t.Fatalf("open ack: %s", ack)
	}
	e.requestMessage(t, "requested")
	if got := e.click(t, "UALICE0001", "change_step", "CR-1|requested|investigate"); !strings.Contains(got, "investigating") {
		t.Fatalf("investigate: %s", got)
	}
	viewID, meta, _ = e.openForm(t, func() string {
		return e.fake.BlockAction("UALICE0001", slacktest.BlockAction{ActionID: "change_propose", Value: "CR-1", ChannelID: "C0SUPPORT", MessageTS: "1.1"})
	})
	return viewID, meta
}

// openDMForm presses Approve on the approval request in user's DM and
// returns the form it opens.
func (e *changeEnv) openDMForm(t testing.TB, user string) (viewID, meta string, view map[string]any) {
	t.Helper()
	dm := e.waitMessage(t, user, func(m slacktest.Message) bool {
		return strings.Contains(string(m.Blocks), `"action_id":"change_approve"`)
	})
	return e.openForm(t, func() string {
		return e.fake.BlockAction(user, slacktest.BlockAction{ActionID: "change_approve", BlockID: "change_dm", Value: "CR-1|1", ChannelID: dm.Channel, MessageTS: dm.TS})
	})
}

// approve opens the approval form as user and submits it.
func (e *changeEnv) approve(t testing.TB, user, value string) string {
	t.Helper()
	viewID, meta, _ := e.openForm(t, func() string {
		return e.fake.BlockAction(user, slacktest.BlockAction{ActionID: "change_approve", Value: value, ChannelID: "C0SUPPORT", MessageTS: "1.1"})
	})
	return e.submit(t, user, "change_approve", viewID, meta, vals(map[string]map[string]any{"cr_comment": txt("ok for Q4")}))
}

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
