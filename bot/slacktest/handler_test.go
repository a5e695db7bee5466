package slacktest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/slack-go/slack/socketmode"

	"github.com/383project/opsbot/bot/slacktest"
)

// The real handler routes by command, action_id and callback_id.
func TestSocketmodeHandlerRouting(t *testing.T) {
	fake := newFake(t)
	api := newAPI(fake, "xapp-test")
	sm := socketmode.New(api, socketmode.OptionLog(quiet))
	h := socketmode.NewSocketmodeHandler(sm)
	h.HandleSlashCommand("/ops", func(e *socketmode.Event, c *socketmode.Client) { _ = c.Ack(*e.Request, map[string]any{"text": "cmd"}) })
	h.HandleInteractionBlockAction("ack", func(e *socketmode.Event, c *socketmode.Client) { _ = c.Ack(*e.Request, map[string]any{"text": "btn"}) })
	h.HandleViewSubmission("modal", func(e *socketmode.Event, c *socketmode.Client) { _ = c.Ack(*e.Request, map[string]any{"text": "view"}) })
	h.Handle(socketmode.EventTypeEventsAPI, func(e *socketmode.Event, c *socketmode.Client) { _ = c.Ack(*e.Request, map[string]any{"text": "ev"}) })
	h.HandleDefault(func(*socketmode.Event, *socketmode.Client) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.RunEventLoopContext(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	ev, _ := fake.EventCallback(map[string]any{"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.2"}, 0)
	want := map[string]string{
		fake.SlashCommand("U1", "C1", "x"):                                               "cmd",
		fake.BlockAction("U1", slacktest.BlockAction{ActionID: "ack", MessageTS: "1.1"}): "btn",
		fake.ViewSubmission("U1", slacktest.ViewSubmission{CallbackID: "modal"}):         "view",
		ev: "ev",
	}
	for id, text := range want {
		ack, err := fake.WaitAck(id, wait)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Text string }
		if json.Unmarshal(ack.Payload, &p); p.Text != text {
			t.Errorf("%s acked with %s, want text %q", id, ack.Payload, text)
		}
	}
	// Redelivery of the same envelope ID waits for the new ack.
	fake.SendEnvelopeWithID(ev, "events_api", json.RawMessage(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U1"}}`), false, 1)
	if _, err := fake.WaitAck(ev, wait); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Acks()); n != 5 {
		t.Errorf("Acks() = %d, want 5", n)
	}
}

func BenchmarkSlashCommandRoundTrip(b *testing.B) {
	fake := slacktest.New(b)
	bt := startBot(b, fake)
	go func() {
		for {
			select {
			case <-bt.ctx.Done():
				return
			case evt := <-bt.events:
				_ = bt.sm.AckCtx(bt.ctx, evt.Request.EnvelopeID, map[string]any{"text": "ok"})
			}
		}
	}()
	if err := fake.WaitConnected(wait); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := fake.WaitAck(fake.SlashCommand("U1", "C1", "status"), wait); err != nil {
			b.Fatal(err)
		}
	}
}
