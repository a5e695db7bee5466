package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/awsmon/awsmontest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/store"
)

// TestChecklistEndToEnd: a launch whose verified items fail in the fakes
// turns green on Re-verify once the fakes are fixed; sign-off is refused
// while items fail (re-verified at sign-off: a pipeline broken just before
// blocks it) and names them; a waiver asked by one person and approved by
// another lets it through; bad input changes nothing.
func TestChecklistEndToEnd(t *testing.T) {
	e := startLaunch(t)
	ctx := context.Background()

	// Bad input: security may not open one, an unknown template.
	if got := e.commandIn(t, launchBob, "C0SUPPORT", "checklist new acme"); !strings.Contains(got, ":no_entry:") {
		t.Errorf("security opening a checklist: %s", got)
	}
	if got := e.commandIn(t, launchAlice, "C0SUPPORT", "checklist new acme gold"); !strings.Contains(got, "no checklist template called") || !strings.Contains(got, "default") {
		t.Errorf("unknown template: %s", got)
	}
	if list, _ := e.st.ClientChecklists(ctx, "acme"); len(list) != 0 {
		t.Fatalf("bad input created %d checklists", len(list))
	}
	if got := e.commandIn(t, launchAlice, "C0SUPPORT", "checklist new acme"); !strings.Contains(got, "L-1 opened") {
		t.Fatalf("new: %s\nlogs:\n%s", got, e.logs)
	}
	e.posted(t, "L-1")
	waitSiteUp(t, e)

	// First run: what the fakes say is wrong is red, in words.
	e.verify(t, launchAlice, "checklist.reverify", "L-1")
	cl := e.checklist(t, "L-1")
	got := states(cl, time.Now())
	for key, want := range map[string]store.ItemState{"quoted": store.ItemFailing, "pipeline": store.ItemFailing, "shield": store.ItemFailing,
		"training": store.ItemFailing, "monitoring": store.ItemVerified, "backups": store.ItemFailing, "loadtest": store.ItemFailing,
		"owasp": store.ItemNA, "pentest": store.ItemNA, "quote": store.ItemUnchecked, "compliance": store.ItemUnchecked} {
		if got[key] != want {
			it, _ := cl.Item(key)
			t.Errorf("%s: %s, want %s (%s)", key, got[key], want, it.Detail)
		}
	}
	e.threadHas(t, cl, "Deployment pipeline tested", "deploy-staging (failure)")
	e.threadHas(t, cl, "AWS Shield", "web-1")

	// Fixed in the fakes (and training recorded): Re-verify turns them green.
	e.forecast(1050)
	e.gh.SetRepo(githubtest.Repo{Owner: "acme", Name: "web", CheckRuns: []githubtest.CheckRun{
		{Name: "build", Status: "completed", Conclusion: "success"}, {Name: "deploy-staging", Status: "completed", Conclusion: "success"}}})
	e.sh.Protect("web-1", e.arn)
	e.ec.AddDBInstances(awsmontest.DBInstance{ID: "acme-db", Class: "db.t3.medium", Engine: "postgres", Region: "eu-west-1", StorageGiB: 100, BackupRetention: 7})
	e.s3.SetBucket("acme-uploads", "Enabled")
	if got := e.command(t, admin, "training record <@"+launchAlice+"> owasp-top-10 "+time.Now().UTC().Format(time.DateOnly)+" certificate"); !strings.Contains(got, "Recorded") {
		t.Fatalf("training record: %s", got)
	}
	calls := func() int {
		return len(e.gh.Requests()) + len(e.ce.Requests()) + len(e.sh.Calls()) + len(e.ec.Calls()) + len(e.elb.Calls()) + e.s3.Calls()
	}
	before := calls()
	took := e.verify(t, launchAlice, "checklist.reverify", "L-1")
	t.Logf("full re-verify of the default template: %v, %d API calls to the fakes", took, calls()-before)
	cl = e.checklist(t, "L-1")
	got = states(cl, time.Now())
	for _, key := range []string{"quoted", "pipeline", "shield", "training", "monitoring", "backups"} {
		if got[key] != store.ItemVerified {
			it, _ := cl.Item(key)
			t.Errorf("%s after the fix: %s (%s)", key, got[key], it.Detail)
		}
	}

	// Ticks: the role is checked, a verified item cannot be ticked.
	click := func(user, action, value string) string {
		return e.press(t, user, action, value)
	}
	if got := click(launchAlice, "checklist.attest", "L-1|quote"); !strings.Contains(got, "admin") {
		t.Errorf("support ticking an admin item: %s", got)
	}
	if got := click(admin, "checklist.attest", "L-1|quoted"); !strings.Contains(got, "cannot be ticked by hand") {
		t.Errorf("ticking a verified item: %s", got)
	}
	if got := states(e.checklist(t, "L-1"), time.Now()); got["quote"] != store.ItemUnchecked || got["quoted"] != store.ItemVerified {
		t.Fatalf("refused ticks changed items: %v", got)
	}
	// The hosting quote is ticked through its form: the quote and the
	// forecast opsbot measured, confirmed by the admin.
	if got := e.command(t, admin, "cost acme --refresh"); !strings.Contains(got, "$1,050.00") {
		t.Fatalf("cost refresh: %s", got)
	}
	quoteForm := e.openForm(t, admin, "checklist.attest", cl, "quote")
	if got := string(quoteForm.raw); !strings.Contains(got, "Hosting quote:* $1,000.00 a month") || !strings.Contains(got, "Forecast this month:* $1,050.00") {
		t.Fatalf("quote form: %s", got)
	}
	if got := e.submitForm(t, admin, "checklist.evidence", quoteForm.meta, vals(map[string]map[string]any{
		"cl_quote_confirm": {"type": "checkboxes", "selected_options": []any{map[string]any{"value": "reviewed"}}}, "cl_note": txt("")})); got != "" {
		t.Fatalf("quote form submitted: %s", got)
	}
	click(launchBob, "checklist.attest", "L-1|compliance")
	if cur := e.checklist(t, "L-1"); cur.Items[0].State != store.ItemAttested || !strings.Contains(cur.Items[0].Detail, "re-reviewed against the forecast $1,050.00") {
		t.Fatalf("quote after its form: %+v", cur.Items[0])
	}

	// Sign-off: not by support; by an admin it re-verifies first — the
	// pipeline broke meanwhile — and is refused naming what holds it back.
	if got := click(launchAlice, "checklist.signoff", "L-1"); !strings.Contains(got, ":no_entry:") {
		t.Errorf("support signing off: %s", got)
	}
	e.gh.SetRepo(githubtest.Repo{Owner: "acme", Name: "web", Statuses: []githubtest.Status{{Context: "ci/deploy", State: "failure"}}})
	e.verify(t, admin, "checklist.signoff", "L-1")
	cl = e.checklist(t, "L-1")
	if cl.SignedOff() {
		t.Fatal("signed off with failing items")
	}
	e.threadHas(t, cl, "sign-off by", "refused", "Deployment pipeline tested", "Load test passed")
	// ... and the admin who clicked is told, alone, what holds it back.
	if _, err := e.fake.WaitCall("chat.postEphemeral", func(c slacktest.Call) bool {
		txt := c.Form.Get("text")
		return c.Form.Get("user") == admin && c.Form.Get("channel") == cl.Channel && strings.Contains(txt, "Sign-off of L-1 refused") &&
			strings.Contains(txt, "*Deployment pipeline tested* — ") && strings.Contains(txt, "ci/deploy") && strings.Contains(txt, "*Load test passed*")
	}, wait); err != nil {
		t.Fatalf("the admin was not told why the sign-off was refused: %v\nlogs:\n%s", err, e.logs)
	}
	e.gh.SetRepo(githubtest.Repo{Owner: "acme", Name: "web", Statuses: []githubtest.Status{{Context: "ci/deploy", State: "success"}}})

	// Waivers: bad forms change nothing; four eyes.
	waive := func(user, key string, reason, days string) string {
		t.Helper()
		form := e.openForm(t, user, "checklist.waive", cl, key)
		return e.submitForm(t, user, "checklist.waiver", form.meta,
			vals(map[string]map[string]any{"cl_category": opt("business priority"), "cl_reason": txt(reason), "cl_days": txt(days)}))
	}
	if got := waive(launchAlice, "loadtest", "", "30"); !strings.Contains(got, "needs a reason") {
		t.Errorf("waiver without a reason: %s", got)
	}
	if got := waive(launchAlice, "loadtest", "loader.io account not bought yet", "400"); !strings.Contains(got, "90") {
		t.Errorf("waiver of 400 days: %s", got)
	}
	if cur := e.checklist(t, "L-1"); cur.Items[3].Key != "loadtest" || cur.Items[3].Waiver != nil {
		t.Fatalf("refused forms left a waiver: %+v", cur.Items[3])
	}
	waive(launchAlice, "loadtest", "loader.io account not bought yet", "14")
	waive(launchBob, "owasp", "n/a", "14") // not applicable: refused in the form
	if got := click(launchAlice, "checklist.approve", "L-1|loadtest"); !strings.Contains(got, "admin or a security") {
		t.Errorf("support approving: %s", got)
	}
	waive(launchBob, "pipeline", "CI flaky this week", "7")
	if got := click(launchBob, "checklist.approve", "L-1|pipeline"); !strings.Contains(got, "different person") {
		t.Errorf("approving one's own waiver: %s", got)
	}
	click(launchBob, "checklist.approve", "L-1|loadtest")

	e.verify(t, admin, "checklist.signoff", "L-1")
	cl = e.checklist(t, "L-1")
	if !cl.SignedOff() || cl.SignedOffBy != admin {
		t.Fatalf("not signed off: blockers %s\nlogs:\n%s", store.BlockerTitles(cl.Blockers(time.Now())), e.logs)
	}
	e.threadHas(t, cl, "signed off by")
	waitMessageIn(t, e, "C0SUPPORT", "Launch L-1 of Acme Ltd signed off")
	waitMessageIn(t, e, "C0ACMEGEN", "Launch L-1 of Acme Ltd signed off")
	if got := click(launchAlice, "checklist.reverify", "L-1"); !strings.Contains(got, "read-only") {
		t.Errorf("re-verifying a signed-off launch: %s", got)
	}
	if got := e.command(t, launchAlice, "checklist acme"); !strings.Contains(got, "signed off") {
		t.Errorf("list: %s", got)
	}

	// A waiver's expiry (the scheduled job) turns the item red again and
	// tells the launch: L-2's approved waiver is moved to a second ago.
	if got := e.commandIn(t, launchAlice, "C0SUPPORT", "checklist new acme"); !strings.Contains(got, "L-2 opened") {
		t.Fatalf("second checklist: %s", got)
	}
	cl = e.posted(t, "L-2")
	waive(launchAlice, "loadtest", "loader.io account not bought yet", "14")
	click(launchBob, "checklist.approve", "L-2|loadtest")
	if it := e.checklist(t, "L-2").Items[3]; it.Waiver == nil || it.Waiver.ApprovedBy != launchBob {
		t.Fatalf("L-2 waiver: %+v", it)
	}
	if _, err := e.st.UpdateChecklist(ctx, "L-2", time.Now(), func(c *store.Checklist) ([]store.OutboxItem, error) {
		c.Items[3].Waiver.Expires = time.Now().Add(-time.Second)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.threadHas(t, cl, "waiver of Load test passed expired")
	if it := e.checklist(t, "L-2").Items[3]; it.State != store.ItemFailing || it.Waiver != nil {
		t.Errorf("after the expiry: %+v", it)
	}
	if got := e.command(t, admin, "audit 40"); !strings.Contains(got, "checklist.signoff_refused") || !strings.Contains(got, "checklist.waiver_approve") {
		t.Errorf("audit lacks the checklist's steps: %s", got)
	}
}

func waitSiteUp(t *testing.T, e *launchEnv) {
	t.Helper()
	deadline := time.Now().Add(2 * wait)
	for {
		sites, _ := e.st.SiteStatuses(context.Background())
		for _, s := range sites {
			if s.Client == "acme" && s.State == "up" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the site never came up: %+v\nlogs:\n%s", sites, e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitMessageIn(t *testing.T, e *launchEnv, channel, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, m := range e.fake.Messages(channel) {
			if strings.Contains(m.Text, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %s: %+v", want, channel, e.fake.Messages(channel))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type openedForm struct {
	meta string
	raw  []byte
}

// openForm presses a button of an item that opens a form and returns the
// form opened (its sealed metadata and JSON).
func (e *launchEnv) openForm(t *testing.T, user, action string, cl store.Checklist, key string) openedForm {
	t.Helper()
	sent := time.Now()
	env := e.fake.BlockAction(user, slacktest.BlockAction{ActionID: action, BlockID: "cl-item-" + key, Value: cl.ID + "|" + key, ChannelID: cl.Channel, MessageTS: cl.MessageTS})
	if _, err := e.fake.WaitAck(env, wait); err != nil {
		t.Fatal(err)
	}
	call, err := e.fake.WaitCall("views.open", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait)
	if err != nil {
		t.Fatalf("no form for %s: %v\nlogs:\n%s", key, err, e.logs)
	}
	view, _ := call.JSON["view"].(map[string]any)
	meta, _ := view["private_metadata"].(string)
	raw, _ := json.Marshal(view)
	return openedForm{meta: meta, raw: raw}
}

// submitForm submits a form and returns the ack's payload ("" closes it).
func (e *launchEnv) submitForm(t *testing.T, user, callback, meta string, values map[string]map[string]any) string {
	t.Helper()
	sub := e.fake.ViewSubmission(user, slacktest.ViewSubmission{CallbackID: callback, PrivateMetadata: meta, Values: values})
	ack, err := e.fake.WaitAck(sub, wait)
	if err != nil {
		t.Fatal(err)
	}
	return string(ack.Payload)
}
