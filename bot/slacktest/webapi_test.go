package slacktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/383project/opsbot/bot/slacktest"
)

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return fmt.Sprint(err)
}

func TestChatPostUpdateEphemeralAndResponseURL(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	blocks := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*down*", false, false), nil, nil))
	ch, ts, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("site down", false), blocks)
	if err != nil || ch != "C1" || ts != "1700000000.000100" {
		t.Fatalf("PostMessage = %q %q %v", ch, ts, err)
	}
	_, ts2, _ := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts))
	msgs := fake.Messages("C1")
	if len(msgs) != 2 || msgs[0].Text != "site down" || msgs[0].Blocks == nil || msgs[1].ThreadTS != ts || ts2 <= ts {
		t.Fatalf("Messages = %+v", msgs)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("site up", false)); err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages("ops")[0]; m.Text != "site up" || m.Updated != 1 {
		t.Errorf("updated message = %+v", m)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "1.2", slack.MsgOptionText("x", false)); slackErr(err) != "message_not_found" {
		t.Errorf("update unknown ts: %v", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	if c := fake.Calls("chat.postEphemeral"); len(c) != 1 || c[0].Form.Get("user") != "U1" || c[0].Form.Get("text") != "only you" {
		t.Errorf("ephemeral calls = %+v", c)
	}
	hook := fake.URL + "/hooks/commands/1"
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionResponseURL(hook, slack.ResponseTypeEphemeral), slack.MsgOptionText("later", false)); err != nil {
		t.Fatal(err)
	}
	c, err := fake.WaitCall("response_url", func(c slacktest.Call) bool { return c.JSON["text"] == "later" }, time.Second)
	if err != nil || c.Path != "/hooks/commands/1" || c.JSON["response_type"] != "ephemeral" {
		t.Errorf("response_url call = %+v, %v", c, err)
	}
	if _, _, _, err := api.UnfurlMessageContext(ctx, "C1", ts, map[string]slack.Attachment{"https://github.com/a/b/issues/1": {Text: "x"}}); err != nil {
		t.Errorf("chat.unfurl: %v", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"}); slackErr(err) != "unknown_method" {
		t.Errorf("unknown method: %v", err)
	}
	if n := len(fake.Calls("")); n != 8 {
		t.Errorf("recorded %d calls, want 8", n)
	}
}

func TestViewsTriggers(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	modal := slack.ModalViewRequest{Type: slack.VTModal, CallbackID: "incident_modal", PrivateMetadata: "C1",
		Title:  slack.NewTextBlockObject("plain_text", "Incident", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	trig := fake.NewTriggerID()
	resp, err := api.OpenViewContext(ctx, trig, modal)
	if err != nil || resp.ID == "" || resp.CallbackID != "incident_modal" || resp.Hash == "" {
		t.Fatalf("views.open = %+v, %v", resp, err)
	}
	if _, ok := fake.View(resp.ID); !ok {
		t.Error("view not stored")
	}
	if _, err := api.OpenViewContext(ctx, trig, modal); slackErr(err) != "trigger_exchanged" {
		t.Errorf("reused trigger: %v", err)
	}
	if _, err := api.OpenViewContext(ctx, "123.456.never", modal); slackErr(err) != "invalid_trigger_id" {
		t.Errorf("unknown trigger: %v", err)
	}
	fake.SetTriggerTTL(10 * time.Millisecond)
	old := fake.NewTriggerID()
	time.Sleep(30 * time.Millisecond)
	if _, err := api.OpenViewContext(ctx, old, modal); slackErr(err) != "expired_trigger_id" {
		t.Errorf("expired trigger: %v", err)
	}
	upd, err := api.UpdateViewContext(ctx, modal, "", resp.Hash, resp.ID)
	if err != nil || upd.ID != resp.ID || upd.Hash == resp.Hash {
		t.Errorf("views.update = %+v, %v", upd, err)
	}
	if _, err := api.UpdateViewContext(ctx, modal, "", resp.Hash, resp.ID); slackErr(err) != "hash_conflict" {
		t.Errorf("stale hash: %v", err)
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: modal.Blocks}
	pub, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil || pub.Type != slack.VTHomeTab {
		t.Errorf("views.publish = %+v, %v", pub, err)
	}
	// A view_submission for a view opened through the fake inherits its callback.
	b := startBot(t, fake)
	fake.ViewSubmission("U1", slacktest.ViewSubmission{ViewID: resp.ID})
	if cb := b.next(t).Data.(slack.InteractionCallback); cb.View.CallbackID != "incident_modal" || cb.View.PrivateMetadata != "C1" {
		t.Errorf("submission view = %+v", cb.View)
	}
}

func TestUsers(t *testing.T) {
	fake := newFake(t)
	for i := 2; i <= 5; i++ {
		fake.AddUser(slacktest.User{ID: fmt.Sprintf("U%d", i), Name: fmt.Sprintf("u%d", i), IsBot: i == 5})
	}
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	users, err := api.GetUsersContext(ctx, slack.GetUsersOptionLimit(2))
	if err != nil || len(users) != 5 || users[0].ID != "U1" || users[4].ID != "U5" || !users[4].IsBot {
		t.Fatalf("GetUsers = %+v, %v", users, err)
	}
	if n := len(fake.Calls("users.list")); n != 3 {
		t.Errorf("users.list called %d times, want 3", n)
	}
	u, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || u.Name != "alice" || u.RealName != "Alice A" || u.Profile.Email != "alice@example.com" || u.TZ != "Europe/London" {
		t.Errorf("users.info = %+v, %v", u, err)
	}
	if _, err := api.GetUserInfoContext(ctx, "U404"); slackErr(err) != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
	if u, err := api.GetUserByEmailContext(ctx, "ALICE@example.com"); err != nil || u.ID != "U1" {
		t.Errorf("lookupByEmail = %+v, %v", u, err)
	}
	ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U1"}})
	if err != nil || ch.ID != "DU1" {
		t.Errorf("conversations.open = %+v, %v", ch, err)
	}
}

func TestFailNextAndTokens(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	fake.FailNext("chat.postMessage", http.StatusTooManyRequests, "", http.Header{"Retry-After": {"1"}})
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("want RateLimitedError 1s, got %v", err)
	}
	fake.FailNext("chat.postMessage", http.StatusOK, `{"ok":false,"error":"channel_not_found"}`, nil)
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("injected error: %v", err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("after failures: %v", err)
	}
	if n := len(fake.Calls("chat.postMessage")); n != 3 {
		t.Errorf("recorded %d postMessage calls", n)
	}

	fake.SetTokens("xoxb-test", "xapp-good")
	if _, err := slack.New("xoxb-other", slack.OptionAPIURL(fake.APIURL())).AuthTest(); slackErr(err) != "invalid_auth" {
		t.Errorf("wrong bot token: %v", err)
	}
	if r, err := api.AuthTest(); err != nil || r.UserID != "UBOT" || r.TeamID != "T123" {
		t.Errorf("auth.test = %+v, %v", r, err)
	}
	sm := socketmode.New(api, socketmode.OptionLog(quiet)) // app token xapp-test is not xapp-good
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	go func() {
		for {
			select {
			case <-sm.Events:
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := sm.RunContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("socket mode with a bad app token: %v", err)
	}
}

func TestFileUpload(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	png := "\x89PNG fake chart"
	f, err := api.UploadFileContext(context.Background(), slack.UploadFileParameters{
		Content: png, FileSize: len(png), Filename: "cost.png", Title: "Daily cost", Channel: "C0CHAN0001"})
	if err != nil {
		t.Fatal(err)
	}
	files := fake.Files()
	if len(files) != 1 || files[0].ID != f.ID || string(files[0].Content) != png || files[0].Name != "cost.png" ||
		files[0].Title != "Daily cost" || files[0].Channel != "C0CHAN0001" {
		t.Errorf("Files() = %+v", files)
	}
	// Like Slack, completeUploadExternal takes conversation IDs only: a
	// user ID needs conversations.open (→ D…) first, a name resolving.
	for _, ch := range []string{"U0ALICE001", "#general", "C1"} {
		_, err := api.UploadFileContext(context.Background(), slack.UploadFileParameters{
			Content: png, FileSize: len(png), Filename: "cost.png", Channel: ch})
		if slackErr(err) != "invalid_arguments" {
			t.Errorf("upload to %q: %v, want invalid_arguments", ch, err)
		}
	}
	if len(fake.Files()) != 1 {
		t.Errorf("refused uploads were shared: %+v", fake.Files())
	}
}
