package app

import (
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
)

// TestAsIsNotReachableInSlack: /as lives in the console only. In Slack,
// "/ops as @alice" is an unknown verb and so is "/as @alice" typed in
// opsbot's DM; afterwards the admin is still themselves and alice still has
// no role (the app's manifest declares /ops alone: bot/manifest_test.go).
func TestAsIsNotReachableInSlack(t *testing.T) {
	o := start(t, nil)
	if got := o.command(t, admin, "as @alice"); !strings.Contains(got, "I don't know `as`") {
		t.Errorf("/ops as @alice answered %q, want an unknown verb", got)
	}
	for _, text := range []string{"/as @alice", "as @alice"} {
		sent := time.Now()
		o.fake.DirectMessage(admin, text)
		call, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
			return c.Form.Get("channel") == slacktest.DMChannel(admin) && !c.At.Before(sent)
		}, wait)
		if err != nil {
			t.Fatalf("no answer to %q in the DM: %v", text, err)
		}
		if got := call.Form.Get("text"); !strings.Contains(got, "I don't know") {
			t.Errorf("DM %q answered %q, want an unknown verb", text, got)
		}
	}
	if got := o.command(t, admin, "whoami"); !strings.Contains(got, "<@"+admin+">") || !strings.Contains(got, "admin") {
		t.Errorf("after the /as attempts, whoami is %q, want the admin", got)
	}
	if got := o.command(t, "UALICE0001", "whoami"); !strings.Contains(got, "You have no role yet") {
		t.Errorf("alice gained a role: %q", got)
	}
}
