package app

import (
	"context"
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
