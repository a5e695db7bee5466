package app

import (
	"strings"
	"testing"

	"github.com/383project/opsbot/bot/slacktest"
)

// Writing to opsbot in its Messages tab runs the text as /ops, through the
// same authorisation gate, and the answer comes back in that DM.
func TestDirectMessageEndToEnd(t *testing.T) {
	o := start(t, nil)
	o.fake.DirectMessage(admin, "whoami")
	call, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == slacktest.DMChannel(admin)
	}, wait)
	if err != nil {
		t.Fatalf("no answer in the DM: %v\nlogs:\n%s", err, o.logs)
	}
	if text := call.Form.Get("text") + call.Form.Get("blocks"); !strings.Contains(text, "admin") {
		t.Errorf("whoami answer %q does not name the admin role", text)
	}

	// No role: only help and whoami; the refusal is the same as for /ops.
	o.fake.DirectMessage("UALICE0001", "audit")
	call, err = o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == slacktest.DMChannel("UALICE0001")
	}, wait)
	if err != nil {
		t.Fatalf("no answer in alice's DM: %v", err)
	}
	if text := call.Form.Get("text"); !strings.Contains(text, "you need one of these roles") {
		t.Errorf("refusal %q", text)
	}
}
