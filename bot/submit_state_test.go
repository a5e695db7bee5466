package bot_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
)

// A view_submission without view.state (Slack sends one with every form; a
// changed payload or a proxy might not) is acked, the user is told by DM that
// nothing was saved, the router never sees it, and no panic is logged.
func TestSubmissionWithoutStateIsAnsweredKindly(t *testing.T) {
	var submits atomic.Int32
	h := &stubRouter{submit: func(context.Context, commands.Submission) commands.SubmitResult {
		submits.Add(1)
		return commands.SubmitResult{}
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	payload := map[string]any{
		"type": "view_submission", "api_app_id": slacktest.AppID, "token": slacktest.VerificationToken,
		"trigger_id": s.fake.NewTriggerID(),
		"user":       map[string]any{"id": user, "username": "jane", "name": "jane", "team_id": slacktest.TeamID},
		"team":       map[string]any{"id": slacktest.TeamID, "domain": "fake"},
		"view": map[string]any{"id": "V0NOSTATE", "type": "modal", "callback_id": "incident_modal",
			"private_metadata": "", "team_id": slacktest.TeamID, "app_id": slacktest.AppID},
		"response_urls": []any{},
	}
	env := s.fake.SendEnvelope("interactive", payload, true, 0)
	ack, err := s.fake.WaitAck(env, 3*time.Second)
	if err != nil {
		t.Fatalf("no ack: %v", err)
	}
	if !plainAck(ack) {
		t.Errorf("ack carries a payload: %s", ack.Payload)
	}
	call := dmTo(t, s.fake, "nothing was saved")
	if text := call.Form.Get("text"); !strings.Contains(text, "open") {
		t.Errorf("DM %q does not say what to do", text)
	}
	if n := submits.Load(); n != 0 {
		t.Errorf("router saw %d submissions, want 0", n)
	}
	if logs := s.logs.String(); strings.Contains(logs, "panicked") {
		t.Errorf("a panic was logged:\n%s", logs)
	}
}
