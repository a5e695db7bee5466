package slacktest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/383project/opsbot/bot/slacktest"
)

// LinkShared arrives through slack-go as a parsed link_shared event, and a
// redelivery under EventCallbackWithID keeps the event_id.
func TestLinkSharedEvent(t *testing.T) {
	fake := newFake(t)
	b := startBot(t, fake)
	const issue = "https://github.com/acme/web/issues/42"
	env, eventID := fake.LinkShared("U1", "C1", "1700000000.000100", issue)
	evt := b.next(t)
	ev, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok || evt.Request.EnvelopeID != env {
		t.Fatalf("event = %T %+v", evt.Data, evt.Request)
	}
	ls, ok := ev.InnerEvent.Data.(*slackevents.LinkSharedEvent)
	if !ok {
		t.Fatalf("inner event = %T", ev.InnerEvent.Data)
	}
	if ls.User != "U1" || ls.Channel != "C1" || ls.MessageTimeStamp != "1700000000.000100" ||
		len(ls.Links) != 1 || ls.Links[0].URL != issue || ls.Links[0].Domain != "github.com" {
		t.Errorf("link_shared = %+v", ls)
	}
	var outer struct {
		EventID string `json:"event_id"`
		Event   struct {
			UnfurlID string `json:"unfurl_id"`
			Source   string `json:"source"`
		} `json:"event"`
	}
	if err := json.Unmarshal(evt.Request.Payload, &outer); err != nil {
		t.Fatal(err)
	}
	if outer.EventID != eventID || outer.Event.Source != "conversations_history" || outer.Event.UnfurlID == "" {
		t.Errorf("payload = %+v, want event_id %s", outer, eventID)
	}

	env2 := fake.EventCallbackWithID(eventID, slacktest.LinkSharedEvent("U1", "C1", "1700000000.000100", issue), 1)
	evt = b.next(t)
	if err := json.Unmarshal(evt.Request.Payload, &outer); err != nil {
		t.Fatal(err)
	}
	if evt.Request.EnvelopeID != env2 || env2 == env || outer.EventID != eventID || evt.Request.RetryAttempt != 1 {
		t.Errorf("redelivery: envelope %s (first %s), event_id %s, retry %d", evt.Request.EnvelopeID, env, outer.EventID, evt.Request.RetryAttempt)
	}
}

// chat.unfurl is recorded in both forms; one naming neither target is refused.
func TestChatUnfurl(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	const issue = "https://github.com/acme/web/issues/42"
	unfurls := map[string]slack.Attachment{issue: {Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*acme/web#42*", false, false), nil, nil)}}}}
	if _, _, _, err := api.UnfurlMessageContext(ctx, "C1", "1700000000.000100", unfurls); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UnfurlMessageByIDContext(ctx, "U1-uuid", "composer", unfurls); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UnfurlMessageContext(ctx, "C1", "", unfurls); slackErr(err) != "invalid_arguments" {
		t.Errorf("unfurl without ts: %v", err)
	}
	got := fake.Unfurls()
	if len(got) != 2 {
		t.Fatalf("Unfurls = %+v", got)
	}
	if u := got[0]; u.Channel != "C1" || u.TS != "1700000000.000100" || u.UnfurlID != "" {
		t.Errorf("by channel = %+v", u)
	}
	if u := got[1]; u.Channel != "" || u.UnfurlID != "U1-uuid" || u.Source != "composer" {
		t.Errorf("by unfurl_id = %+v", u)
	}
	for _, u := range got {
		var att struct {
			Blocks []struct {
				Type string `json:"type"`
				Text struct {
					Text string `json:"text"`
				} `json:"text"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(u.Unfurls[issue], &att); err != nil {
			t.Fatal(err)
		}
		if len(att.Blocks) != 1 || att.Blocks[0].Type != "section" || att.Blocks[0].Text.Text != "*acme/web#42*" {
			t.Errorf("unfurl blocks = %s", u.Unfurls[issue])
		}
	}
}
