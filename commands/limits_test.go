package commands_test

import (
	"testing"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
)

// checkReply holds a reply to Slack's limits, as the fake Slack does for the
// transport: the message (text and blocks) and any modal it opens. what
// names the command or button in the failure.
func checkReply(t testing.TB, what string, r commands.Reply) commands.Reply {
	t.Helper()
	if r.Text != "" || len(r.Blocks) > 0 {
		if err := slacktest.CheckMessage(r.Text, r.Blocks); err != nil {
			t.Errorf("%s: Slack would refuse the reply: %v", what, err)
		}
	}
	if r.Modal != nil {
		if err := slacktest.CheckView(r.Modal); err != nil {
			t.Errorf("%s: Slack would refuse the modal: %v", what, err)
		}
	}
	return r
}

// checkSubmit holds a submission's result to the limits: the view it
// updates to and the notice it sends.
func checkSubmit(t testing.TB, what string, res commands.SubmitResult) commands.SubmitResult {
	t.Helper()
	if res.Update != nil {
		if err := slacktest.CheckView(res.Update); err != nil {
			t.Errorf("%s: Slack would refuse the updated modal: %v", what, err)
		}
	}
	if res.Notice != nil {
		checkReply(t, what, *res.Notice)
	}
	return res
}
