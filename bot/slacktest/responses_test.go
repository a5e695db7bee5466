package slacktest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
)

// A slash command's reply in its ack is shown as a reply to its
// response_url is; a message in the ack of an envelope that takes none, or
// in a late ack, is never shown.
func TestReplyInAckIsShown(t *testing.T) {
	fake := newFake(t)
	b := startBot(t, fake)
	ack := func(id string, payload any) {
		t.Helper()
		evt := b.next(t)
		if evt.Request.EnvelopeID != id {
			t.Fatalf("event %s, want %s", evt.Request.EnvelopeID, id)
		}
		if err := b.sm.Ack(*evt.Request, payload); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitAck(id, wait); err != nil && !errors.Is(err, slacktest.ErrLateAck) {
			t.Fatal(err)
		}
	}

	cmd := fake.SlashCommand("U1", "C1", "help")
	ack(cmd, map[string]any{"response_type": "in_channel", "text": "What you can run"})
	c, err := fake.WaitResponse(cmd, wait)
	if err != nil {
		t.Fatal(err)
	}
	if c.Via != slacktest.ViaAck || c.Method != "response_url" || c.JSON["text"] != "What you can run" ||
		c.JSON["response_type"] != "in_channel" || c.Path == "" {
		t.Errorf("reply = %+v", c)
	}
	if calls := fake.Calls("response_url"); len(calls) != 1 || calls[0].Path != c.Path {
		t.Errorf("response_url calls = %+v", calls)
	}

	// A plain ack shows nothing; a later post to the response_url is the reply.
	cmd2 := fake.SlashCommand("U1", "C1", "status")
	ack(cmd2, nil)
	if c, err := fake.WaitResponse(cmd2, 100*time.Millisecond); !errors.Is(err, slacktest.ErrTimeout) {
		t.Fatalf("a plain ack showed %+v, %v", c, err)
	}

	// Slack ignores a message in the ack of a button click or of a late ack.
	btn := fake.BlockAction("U1", slacktest.BlockAction{ActionID: "ack", MessageTS: "1.1"})
	ack(btn, map[string]any{"text": "clicked"})
	fake.SetAckDeadline(time.Millisecond)
	late := fake.SlashCommand("U1", "C1", "late")
	evt := b.next(t)
	time.Sleep(5 * time.Millisecond)
	if err := b.sm.Ack(*evt.Request, map[string]any{"text": "too late"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitAck(late, wait); !errors.Is(err, slacktest.ErrLateAck) {
		t.Fatalf("late ack: %v", err)
	}
	if _, err := fake.WaitResponse(late, 100*time.Millisecond); !errors.Is(err, slacktest.ErrTimeout) {
		t.Fatalf("a late ack's message was shown: %v", err)
	}
	if calls := fake.Calls("response_url"); len(calls) != 1 {
		t.Errorf("%d replies shown, want 1: %+v", len(calls), calls)
	}
}
