package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/integrations"
)

func newChannelBot(t *testing.T) (*slacktest.Server, *bot.Bot) {
	t.Helper()
	fake := slacktest.New(t)
	fake.AddChannel("C0SUPPORT", "ops-support")
	return fake, bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, nil)
}

// A configured #name is posted to by ID and the ID comes back, so the
// message can be updated: Slack refuses names in chat.update.
func TestPostByNameReturnsTheIDAndUpdates(t *testing.T) {
	fake, b := newChannelBot(t)
	ctx := context.Background()
	ch, ts, err := b.Post(ctx, "#ops-support", commands.Message{Text: "🔴 down"})
	if err != nil || ch != "C0SUPPORT" {
		t.Fatalf("Post = %q %q %v, want channel C0SUPPORT", ch, ts, err)
	}
	if err := b.Update(ctx, "#ops-support", ts, commands.Message{Text: "🟢 up"}); err != nil {
		t.Fatalf("Update by name: %v", err)
	}
	if err := b.Update(ctx, ch, ts, commands.Message{Text: "🟢 up again"}); err != nil {
		t.Fatalf("Update by ID: %v", err)
	}
	msgs := fake.Messages("C0SUPPORT")
	if len(msgs) != 1 || msgs[0].Text != "🟢 up again" || msgs[0].Updated != 2 {
		t.Fatalf("messages = %+v", msgs)
	}
	for _, c := range fake.Calls("chat.update") {
		if got := c.Form.Get("channel"); got != "C0SUPPORT" {
			t.Errorf("chat.update sent channel %q, want the ID", got)
		}
	}
	if n := len(fake.Calls("conversations.list")); n != 1 {
		t.Errorf("%d conversations.list calls, want 1 (cached)", n)
	}
}

// A name nobody has is refused without a retry: the outbox must not hammer
// Slack, and the error says what to check.
func TestPostToUnknownNameIsRefused(t *testing.T) {
	fake, b := newChannelBot(t)
	_, _, err := b.Post(context.Background(), "#no-such-channel", commands.Message{Text: "x"})
	var re *integrations.RetryableError
	if !errors.Is(err, bot.ErrUnknownChannel) || errors.As(err, &re) {
		t.Fatalf("err = %v, want ErrUnknownChannel, not retryable", err)
	}
	if n := len(fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("%d posts reached Slack", n)
	}
}

// The channel behind a name was deleted and a new one took the name: on
// channel_not_found the name is looked up afresh and the post lands there.
func TestNameResolvedAfreshWhenItsChannelIsGone(t *testing.T) {
	fake, b := newChannelBot(t)
	ctx := context.Background()
	if _, _, err := b.Post(ctx, "#ops-support", commands.Message{Text: "first"}); err != nil {
		t.Fatal(err)
	}
	fake.RenameChannel("C0SUPPORT", "ops-support-old")
	fake.AddChannel("C0NEWSUPP", "ops-support")
	fake.FailNext("chat.postMessage", 200, `{"ok":false,"error":"channel_not_found"}`, nil)
	ch, _, err := b.Post(ctx, "#ops-support", commands.Message{Text: "second"})
	if err != nil || ch != "C0NEWSUPP" {
		t.Fatalf("Post after the channel was replaced = %q, %v; want C0NEWSUPP", ch, err)
	}
	if msgs := fake.Messages("C0NEWSUPP"); len(msgs) != 1 || msgs[0].Text != "second" {
		t.Fatalf("new channel holds %+v", msgs)
	}
}

func TestResolveChannelsNamesTheMissing(t *testing.T) {
	_, b := newChannelBot(t)
	ids, err := b.ResolveChannels(context.Background(), []string{"#ops-support", "C0ALREADY", "#gone"})
	if ids["#ops-support"] != "C0SUPPORT" || ids["C0ALREADY"] != "C0ALREADY" {
		t.Errorf("ids = %v", ids)
	}
	if !errors.Is(err, bot.ErrUnknownChannel) || err == nil || !strings.Contains(err.Error(), "#gone") {
		t.Errorf("err = %v, want ErrUnknownChannel naming #gone", err)
	}
}

// Configured names become IDs at start, so later posts name the ID. When
// that ID is gone (the channel deleted, a new one under the same name), the
// post still lands: the ID is traced back to its name and looked up afresh.
func TestIDFromANameResolvedAfreshWhenGone(t *testing.T) {
	fake, b := newChannelBot(t)
	ctx := context.Background()
	ids, err := b.ResolveChannels(ctx, []string{"#ops-support"})
	if err != nil || ids["#ops-support"] != "C0SUPPORT" {
		t.Fatalf("ResolveChannels = %v, %v", ids, err)
	}
	fake.RenameChannel("C0SUPPORT", "ops-support-old")
	fake.AddChannel("C0NEWSUPP", "ops-support")
	fake.FailNext("chat.postMessage", 200, `{"ok":false,"error":"channel_not_found"}`, nil)
	ch, _, err := b.Post(ctx, "C0SUPPORT", commands.Message{Text: "alert"})
	if err != nil || ch != "C0NEWSUPP" {
		t.Fatalf("Post to the gone ID = %q, %v; want C0NEWSUPP", ch, err)
	}
	// An ID nobody configured by name is not guessed at.
	fake.FailNext("chat.postMessage", 200, `{"ok":false,"error":"channel_not_found"}`, nil)
	if _, _, err := b.Post(ctx, "C0UNNAMED", commands.Message{Text: "x"}); err == nil {
		t.Fatal("a post to an unknown ID succeeded")
	}
}

// A thread line whose reply was lost is found even in a long thread:
// replies come oldest first, so the look-up reads the thread to its end.
func TestFindPostReadsALongThreadToItsEnd(t *testing.T) {
	fake, b := newChannelBot(t)
	ctx := context.Background()
	ch, parent, err := b.Post(ctx, "C0SUPPORT", commands.Message{Text: "alert"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 {
		if _, _, err := b.Post(ctx, ch, commands.Message{Text: fmt.Sprintf("line %d", i), ThreadTS: parent}); err != nil {
			t.Fatal(err)
		}
	}
	fake.FailAfter("chat.postMessage", 500)
	if _, _, err := b.Post(ctx, ch, commands.Message{Text: "recovered", ThreadTS: parent, DeliveryID: "d-42"}); err == nil {
		t.Fatal("the lost reply was not reported")
	}
	_, ts, found, err := b.FindPost(ctx, ch, parent, "d-42")
	if err != nil || !found || ts == "" {
		t.Fatalf("FindPost = %q %v %v, want the line posted as 252nd of the thread", ts, found, err)
	}
}
