package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/github/githubtest"
	"github.com/383project/opsbot/store"
)

// startMany runs opsbot with 150 clients (more than a static_select lists)
// and a GitHub whose issue acme/web#7 is longer than every form field.
func startMany(t *testing.T) *opsbot {
	t.Helper()
	gh := githubtest.New(t)
	gh.AddIssue(githubtest.Issue{Owner: "acme", Repo: "web", Number: 7, Title: strings.Repeat("Long title ", 20), Body: strings.Repeat("A very long issue body. ", 200)})
	var y strings.Builder
	y.WriteString("clients:\n  acme:\n    name: Acme Ltd\n    repos: [acme/web]\n")
	for i := range 149 {
		fmt.Fprintf(&y, "  client-%03d:\n    name: Client number %03d\n", i, i)
	}
	y.WriteString("integrations:\n  github:\n    api_url: " + gh.APIURL() + "\n")
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg, "GITHUB_TOKEN": githubtest.Token})
	if got := o.command(t, admin, "role grant @bob engineer"); !strings.Contains(got, "now") {
		t.Fatalf("grant: %s", got)
	}
	return o
}

// The change form with 150 clients and a long issue passes Slack's checks
// (the fake fails the test otherwise); its client picker is answered by
// block_suggestion in the ack; the form then opens the request.
func TestChangeFormWithManyClientsAndLongIssue(t *testing.T) {
	o := startMany(t)
	sent := time.Now()
	env := o.fake.SlashCommand("UBOB000001", "C0DEV0001", "change https://github.com/acme/web/issues/7")
	if _, err := o.fake.WaitAck(env, wait); err != nil {
		t.Fatal(err)
	}
	call, err := o.fake.WaitCall("views.open", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait)
	if err != nil {
		t.Fatalf("no form: %v\n%s", err, o.logs)
	}
	view, _ := call.JSON["view"].(map[string]any)
	raw, _ := json.Marshal(view)
	meta, _ := view["private_metadata"].(string)
	if !strings.Contains(string(raw), `"type":"external_select"`) || strings.Contains(string(raw), "client-042") {
		t.Fatalf("client picker is not an external_select: %s", raw)
	}
	el, _ := view["blocks"].([]any)[0].(map[string]any)["element"].(map[string]any)
	if init, _ := el["initial_option"].(map[string]any); init["value"] != "acme" {
		t.Errorf("the issue's client is not pre-selected: %s", raw)
	}
	for _, v := range []string{"", "number 14"} {
		env := o.fake.BlockSuggestion("UBOB000001", slacktest.BlockSuggestion{ActionID: "value", BlockID: "cr_client", Value: v,
			CallbackID: "change_open", PrivateMetadata: meta})
		ack, err := o.fake.WaitAck(env, wait)
		if err != nil {
			t.Fatalf("suggestion %q: %v (dropped %+v)", v, err, o.fake.DroppedAcks())
		}
		var r struct{ Options []struct{ Value string } }
		_ = json.Unmarshal(ack.Payload, &r)
		if want := map[string]int{"": 100, "number 14": 9}[v]; len(r.Options) != want {
			t.Errorf("suggestion %q: %d options, want %d: %s", v, len(r.Options), want, ack.Payload)
		}
	}
	// Someone else replaying the form's metadata gets nothing.
	env = o.fake.BlockSuggestion("UALICE0001", slacktest.BlockSuggestion{ActionID: "value", BlockID: "cr_client", CallbackID: "change_open", PrivateMetadata: meta})
	if ack, err := o.fake.WaitAck(env, wait); err != nil || string(ack.Payload) != `{"options":[]}` {
		t.Errorf("another user's suggestion: %s, %v", ack.Payload, err)
	}
	env = o.fake.ViewSubmission("UBOB000001", slacktest.ViewSubmission{CallbackID: "change_open", PrivateMetadata: meta, Values: vals(map[string]map[string]any{
		"cr_client": {"type": "external_select", "selected_option": map[string]any{"value": "client-142"}},
		"cr_title":  txt("Checkout slow"), "cr_problem": txt("Pages time out."),
	})})
	if ack, err := o.fake.WaitAck(env, wait); err != nil || len(ack.Payload) != 0 {
		t.Fatalf("submit ack %s, %v", ack.Payload, err)
	}
	if _, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == "UBOB000001" && strings.Contains(c.Form.Get("text"), "CR-1")
	}, wait); err != nil {
		t.Fatalf("no notice: %v\n%s", err, o.logs)
	}
}

// /ops audit 200 and /ops silences with 200 long entries reach Slack: the
// text is a title, the blocks carry what fits, within 50.
func TestLongListsThroughSlack(t *testing.T) {
	o := start(t, nil)
	st := store.New(o.rdb, "opsbot:")
	ctx := context.Background()
	for i := range 200 {
		if _, err := st.AddSilence(ctx, store.Silence{Client: "acme", Site: fmt.Sprintf("site-%03d", i), CreatedBy: admin,
			Reason: strings.Repeat("long maintenance reason ", 25), Start: time.Now(), End: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []string{"audit 200", "silences"} {
		sent := time.Now()
		o.command(t, admin, cmd)
		call, err := o.fake.WaitCall("response_url", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := call.JSON["text"].(string)
		blocks, _ := call.JSON["blocks"].([]any)
		if n := utf8.RuneCountInString(text); n > 100 || len(blocks) < 20 || len(blocks) > 50 {
			t.Errorf("%s: text of %d characters, %d blocks", cmd, n, len(blocks))
		}
	}
}
