package slacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/383project/opsbot/bot/slacktest"
)

// rawSocket connects to the fake's Socket Mode endpoint without slack-go,
// which refuses to send an ack of 20 KB or more itself: only a raw client can
// show what Slack does with one.
func rawSocket(t *testing.T, fake *slacktest.Server) *websocket.Conn {
	t.Helper()
	_, wsURL, err := newAPI(fake, "xapp-test").StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if _, _, err := ws.ReadMessage(); err != nil { // hello
		t.Fatal(err)
	}
	return ws
}

// ackFrame is {"envelope_id":id,"payload":{"text":"xxx..."}} padded to
// exactly size bytes.
func ackFrame(id string, size int) []byte {
	empty := fmt.Sprintf(`{"envelope_id":%q,"payload":{"text":""}}`, id)
	return fmt.Appendf(nil, `{"envelope_id":%q,"payload":{"text":"%s"}}`, id, strings.Repeat("x", size-len(empty)))
}

func TestAckOf20KBDropped(t *testing.T) {
	fake := newFake(t)
	fake.ExpectRefusals()
	ws := rawSocket(t, fake)
	for _, tc := range []struct {
		size    int
		dropped bool
	}{{slacktest.MaxAckBytes - 1, false}, {slacktest.MaxAckBytes, true}} {
		id := fake.SlashCommand("U1", "C1", "status")
		if _, _, err := ws.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		frame := ackFrame(id, tc.size)
		if len(frame) != tc.size {
			t.Fatalf("frame is %d bytes, want %d", len(frame), tc.size)
		}
		if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			t.Fatal(err)
		}
		ack, err := fake.WaitAck(id, wait)
		switch {
		case tc.dropped && !errors.Is(err, slacktest.ErrAckDropped):
			t.Errorf("%d-byte ack: %v, want it dropped", tc.size, err)
		case !tc.dropped && (err != nil || len(ack.Payload) == 0):
			t.Errorf("%d-byte ack: %v", tc.size, err)
		}
	}
	d := fake.DroppedAcks()
	if len(d) != 1 || d[0].Size != slacktest.MaxAckBytes || !strings.Contains(d[0].Reason, "20480") {
		t.Errorf("DroppedAcks = %+v", d)
	}
	if n := len(fake.Acks()); n != 1 {
		t.Errorf("Acks() = %d, want only the small one", n)
	}
}

// A block_suggestion answered with more than 100 options, or a
// view_submission answered with a view over the limits, is dropped too.
func TestAckPayloadRulesAndBlockSuggestion(t *testing.T) {
	fake := newFake(t)
	fake.ExpectRefusals()
	b := startBot(t, fake)
	opts := func(n int) slack.OptionsResponse {
		var r slack.OptionsResponse
		for i := range n {
			r.Options = append(r.Options, slack.NewOptionBlockObject(fmt.Sprint(i), slack.NewTextBlockObject("plain_text", fmt.Sprint("c", i), false, false), nil))
		}
		return r
	}
	badView := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", strings.Repeat("t", 25), false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	for _, tc := range []struct {
		name    string
		send    func() string
		payload any
		dropped bool
	}{
		{"100 options", func() string {
			return fake.BlockSuggestion("U1", slacktest.BlockSuggestion{ActionID: "value", BlockID: "client", Value: "ac", CallbackID: "form"})
		}, opts(100), false},
		{"101 options", func() string { return fake.BlockSuggestion("U1", slacktest.BlockSuggestion{ActionID: "value"}) }, opts(101), true},
		{"update with a 25-character title", func() string { return fake.ViewSubmission("U1", slacktest.ViewSubmission{CallbackID: "form"}) },
			slack.NewUpdateViewSubmissionResponse(&badView), true},
		{"slash command reply over 50 blocks", func() string { return fake.SlashCommand("U1", "C1", "x") },
			map[string]any{"text": "x", "blocks": repeat(51, obj{"type": "divider"})}, true},
	} {
		id := tc.send()
		evt := b.next(t)
		if tc.name == "100 options" {
			cb := evt.Data.(slack.InteractionCallback)
			if cb.Type != slack.InteractionTypeBlockSuggestion || cb.ActionID != "value" || cb.BlockID != "client" || cb.Value != "ac" ||
				cb.View.CallbackID != "form" || cb.User.ID != "U1" || !evt.Request.AcceptsResponsePayload {
				t.Errorf("block_suggestion = %+v", cb)
			}
		}
		if err := b.sm.Ack(*evt.Request, tc.payload); err != nil {
			t.Fatalf("%s: slack-go refused the ack: %v", tc.name, err)
		}
		ack, err := fake.WaitAck(id, wait)
		if tc.dropped != errors.Is(err, slacktest.ErrAckDropped) || !tc.dropped && err != nil {
			t.Errorf("%s: WaitAck = %v, dropped want %v", tc.name, err, tc.dropped)
		}
		if !tc.dropped {
			var r slack.OptionsResponse
			if json.Unmarshal(ack.Payload, &r) != nil || len(r.Options) != 100 {
				t.Errorf("%s: payload %s", tc.name, ack.Payload)
			}
		}
	}
	if n := len(fake.DroppedAcks()); n != 3 {
		t.Errorf("DroppedAcks = %d, want 3", n)
	}
}

// TestErrorsOnlyUnderInputBlocks: a view_submission answered with errors
// for a block the opened view does not have as an input is refused, as
// Slack refuses it ("We had some trouble connecting" in the modal).
func TestErrorsOnlyUnderInputBlocks(t *testing.T) {
	fake := newFake(t)
	fake.ExpectRefusals()
	b := startBot(t, fake)
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Grant", false, false),
		Submit: slack.NewTextBlockObject("plain_text", "Grant", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Who?", false, false), nil, nil),
			slack.NewInputBlock("role", slack.NewTextBlockObject("plain_text", "Role", false, false), nil, slack.NewPlainTextInputBlockElement(nil, "value")),
		}}}
	opened, err := newAPI(fake, "xoxb-test").OpenView(fake.NewTriggerID(), view)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		block   string
		dropped bool
	}{{"role", false}, {"client", true}} {
		id := fake.ViewSubmission("U1", slacktest.ViewSubmission{ViewID: opened.ID, CallbackID: "form"})
		evt := b.next(t)
		if err := b.sm.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{tc.block: "Pick one."})); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitAck(id, wait); tc.dropped != errors.Is(err, slacktest.ErrAckDropped) {
			t.Errorf("errors under %q: WaitAck = %v, dropped want %v", tc.block, err, tc.dropped)
		}
	}
}
