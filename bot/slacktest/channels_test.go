package slacktest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/slack-go/slack"
)

// Slack takes a #name only in chat.postMessage and chat.postEphemeral; the
// fake refuses it everywhere else, as Slack does.
func TestChannelNamesRefusedWhereSlackNeedsIDs(t *testing.T) {
	fake := newFake(t) // C1 is #ops
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	ch, ts, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("down", false))
	if err != nil || ch != "C1" {
		t.Fatalf("postMessage to #ops = %q, %v; want the ID C1", ch, err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "#ops", ts, slack.MsgOptionText("up", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("chat.update with a name: %v, want channel_not_found", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "ops", ts, slack.MsgOptionText("up", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("chat.update with a bare name: %v, want channel_not_found", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slack.MsgOptionText("up", false)); err != nil {
		t.Errorf("chat.update with the ID: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "#nowhere", slack.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("postMessage to an unknown name: %v, want channel_not_found", err)
	}
	png := "\x89PNG"
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: png, FileSize: len(png),
		Filename: "c.png", Channel: "#ops"}); slackErr(err) != "invalid_arguments" {
		t.Errorf("files.completeUploadExternal with a name: %v, want invalid_arguments", err)
	}
	// A user ID posts into the user's DM with the bot, as Slack does.
	if ch, _, err := api.PostMessageContext(ctx, "U1", slack.MsgOptionText("hi", false)); err != nil || ch != "DU1" {
		t.Errorf("postMessage to a user = %q, %v; want their DM", ch, err)
	}
}

func TestConversationsListPaginatesRenamesAndArchives(t *testing.T) {
	fake := newFake(t)
	for i := range 250 {
		fake.AddChannel(fmt.Sprintf("C%04d", i), fmt.Sprintf("team-%d", i))
	}
	api := newAPI(fake, "xapp-test")
	ctx := context.Background()
	pages := 0
	list := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		pages = 0
		params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 100}
		for ; ; pages++ {
			chans, next, err := api.GetConversationsContext(ctx, params)
			if err != nil || pages > 10 {
				t.Fatalf("conversations.list: %v (page %d)", err, pages)
			}
			for _, c := range chans {
				out[c.Name] = c.ID
			}
			if next == "" {
				pages++
				return out
			}
			params.Cursor = next
		}
	}
	got := list()
	if len(got) != 251 || got["team-249"] != "C0249" || got["ops"] != "C1" {
		t.Fatalf("listed %d channels (team-249=%q ops=%q), want 251", len(got), got["team-249"], got["ops"])
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3 of at most 100", pages)
	}
	if _, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Limit: 1001}); slackErr(err) != "invalid_limit" {
		t.Errorf("limit 1001: %v, want invalid_limit", err)
	}
	if _, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: "bogus"}); slackErr(err) != "invalid_cursor" {
		t.Errorf("bad cursor: %v, want invalid_cursor", err)
	}
	fake.RenameChannel("C1", "ops-old")
	fake.ArchiveChannel("C0001")
	got = list()
	if _, still := got["ops"]; still || got["ops-old"] != "C1" {
		t.Errorf("after rename: ops=%q ops-old=%q", got["ops"], got["ops-old"])
	}
	if _, still := got["team-1"]; still {
		t.Error("archived channel still listed with exclude_archived")
	}
	if _, _, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("x", false)); slackErr(err) != "channel_not_found" {
		t.Errorf("old name after rename: %v, want channel_not_found", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0001", slack.MsgOptionText("x", false)); slackErr(err) != "is_archived" {
		t.Errorf("post to archived: %v, want is_archived", err)
	}
}
