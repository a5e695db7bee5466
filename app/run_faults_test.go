package app

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
)

func TestReconnectAfterDisconnectAndDrop(t *testing.T) {
	o := start(t, nil)
	o.fake.Disconnect("refresh_requested")
	if err := o.fake.WaitConnections(2, wait); err != nil {
		t.Fatal(err)
	}
	if got := o.command(t, admin, "whoami"); !strings.Contains(got, "You are <@UADMIN0001>") {
		t.Fatalf("after disconnect:\n%s", got)
	}
	o.fake.DropSocket()
	if err := o.fake.WaitConnections(3, wait); err != nil {
		t.Fatal(err)
	}
	if got := o.command(t, admin, "whoami"); !strings.Contains(got, "You are <@UADMIN0001>") {
		t.Fatalf("after drop:\n%s", got)
	}
	_, body := o.get(t, "/metrics")
	if !strings.Contains(body, "opsbot_slack_reconnects_total 2") {
		t.Fatalf("reconnects not counted:\n%s", grep(body, "reconnects"))
	}
}

func TestRedisStoppedMidRun(t *testing.T) {
	o := start(t, nil)
	o.redis.Stop()
	began := time.Now()
	got := o.command(t, admin, "whoami")
	if !strings.Contains(got, "state store (Redis) is not answering") {
		t.Fatalf("reply with Redis down:\n%s", got)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("reply took %v with Redis down", d)
	}
	if code, body := o.get(t, "/readyz"); code != 503 || !strings.Contains(body, "redis") {
		t.Fatalf("/readyz with Redis down = %d %s", code, body)
	}
	if err := o.redis.Restart(); err != nil {
		t.Fatal(err)
	}
	// go-redis holds dials shut for up to a second after a run of failed
	// ones (its circuit breaker), so the first command may still be refused.
	restarted := time.Now()
	got = o.command(t, admin, "role grant @bob engineer")
	for strings.Contains(got, "is not answering") && time.Since(restarted) < 5*time.Second {
		time.Sleep(200 * time.Millisecond)
		got = o.command(t, admin, "role grant @bob engineer")
	}
	if !strings.Contains(got, "is now *engineer*") {
		t.Fatalf("after Redis restart:\n%s", got)
	}
	t.Logf("commands work again %v after Redis restarted", time.Since(restarted).Round(10*time.Millisecond))
	if code, _ := o.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz after restart = %d", code)
	}
}

func TestForgedButtonAndModalRefused(t *testing.T) {
	o := start(t, nil)
	ctx := context.Background()
	o.command(t, admin, "role grant @bob engineer")
	o.command(t, admin, "role grant @alice support")

	// An engineer forges the admin-only Undo button for alice's grant.
	forge := func() string {
		return o.fake.BlockAction("UBOB000001", slacktest.BlockAction{ActionID: "role_undo", BlockID: "role_actions", Value: "UALICE0001|support|", ChannelID: "C0OPS0001", MessageTS: "1700000000.000100"})
	}
	if got := o.replyTo(t, forge); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("forged button reply:\n%s", got)
	}
	if roles := o.rdb.SMembers(ctx, o.key("roles:UALICE0001")).Val(); len(roles) != 1 {
		t.Fatalf("forged button changed roles: %v", roles)
	}

	// A view_submission for a modal nobody opened: refused, nothing stored.
	values := map[string]map[string]any{
		"role_user": {"value": map[string]any{"type": "users_select", "selected_user": "UBOB000001"}},
		"role_role": {"value": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "admin"}}},
	}
	env := o.fake.ViewSubmission("UBOB000001", slacktest.ViewSubmission{CallbackID: "role_grant", ViewID: "V999", PrivateMetadata: "", Values: values})
	if _, err := o.fake.WaitAck(env, wait); err != nil {
		t.Fatal(err)
	}
	if _, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == "UBOB000001" && strings.Contains(c.Form.Get("text"), "not opened for you")
	}, wait); err != nil {
		t.Fatalf("no refusal notice: %v", err)
	}
	if roles := o.rdb.SMembers(ctx, o.key("roles:UBOB000001")).Val(); len(roles) != 1 || roles[0] != "engineer" {
		t.Fatalf("forged modal changed roles: %v", roles)
	}

	// The genuine flow: the admin opens the form, a bad answer stays in the
	// form as a field error, a good one grants.
	o.fake.SlashCommand(admin, "C0OPS0001", "role grant")
	open, err := o.fake.WaitCall("views.open", nil, wait)
	if err != nil {
		t.Fatalf("modal not opened: %v", err)
	}
	view, _ := open.JSON["view"].(map[string]any)
	meta, _ := view["private_metadata"].(string)
	if view["callback_id"] != "role_grant" || meta == "" {
		t.Fatalf("opened view = %v", view)
	}
	values["role_role"]["value"] = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "stakeholder"}}
	env = o.fake.ViewSubmission(admin, slacktest.ViewSubmission{CallbackID: "role_grant", ViewID: "V1", PrivateMetadata: meta, Values: values})
	ack, err := o.fake.WaitAck(env, wait)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(ack.Payload, &resp)
	// No clients configured, so the form has no client field: the error is
	// under the role (Slack refuses errors naming a block the view lacks).
	if resp.ResponseAction != "errors" || !strings.Contains(resp.Errors["role_role"], "no clients are configured") {
		t.Fatalf("ack for stakeholder without client = %s", ack.Payload)
	}
	values["role_role"]["value"] = map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "security"}}
	env = o.fake.ViewSubmission(admin, slacktest.ViewSubmission{CallbackID: "role_grant", ViewID: "V1", PrivateMetadata: meta, Values: values})
	if ack, err := o.fake.WaitAck(env, wait); err != nil || len(ack.Payload) != 0 {
		t.Fatalf("valid submission ack = %s, %v", ack.Payload, err)
	}
	if _, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == admin && strings.Contains(c.Form.Get("text"), "is now *security*")
	}, wait); err != nil {
		t.Fatalf("no grant notice: %v", err)
	}
}

func TestNoTokenInLogsOrErrors(t *testing.T) {
	o := start(t, nil)
	o.command(t, admin, "role grant @alice support")
	o.command(t, admin, "role grant @nobody support")
	o.fake.FailNext("chat.postMessage", 500, `{"ok":false,"error":"internal_error"}`, nil)
	o.fake.Disconnect("warning")
	_ = o.fake.WaitConnections(2, wait)
	o.stop()
	<-o.exit
	o.exit <- 0 // for the cleanup
	// A second run whose tokens Slack rejects: its error path must not echo them.
	fake := slacktest.New(t)
	fake.SetTokens("xoxb-other", "xapp-other")
	var out syncBuffer
	vars := map[string]string{"SLACK_BOT_TOKEN": botToken, "SLACK_APP_TOKEN": appToken, "SLACK_API_URL": fake.APIURL(),
		"OPSBOT_HTTP_ADDR": freeAddr(t), "OPSBOT_LOG_LEVEL": "debug"}
	maps.Copy(vars, o.redis.Env())
	code := Run(context.Background(), []string{"opsbot"}, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &out)
	if code != exitFailure || !strings.Contains(out.String(), "invalid_auth") {
		t.Fatalf("bad token run: exit %d, output:\n%s", code, out.String())
	}
	for _, secret := range []string{botToken, appToken, "SECRETBOTTOKENVALUE", "SECRETAPPTOKENVALUE"} {
		for name, text := range map[string]string{"run logs": o.logs.String(), "bad-token run": out.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain the token %q", name, secret)
			}
		}
	}
	if !strings.Contains(o.logs.String(), `"level":"DEBUG"`) {
		t.Fatal("debug logging was not on, so the scan proves little")
	}
}
