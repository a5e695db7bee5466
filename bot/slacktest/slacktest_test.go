package slacktest_test

import (
	"context"
	"errors"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/383project/opsbot/bot/slacktest"
)

var quiet = log.New(io.Discard, "", 0)

const wait = 5 * time.Second

// bot is a real slack-go Socket Mode client connected to the fake; request
// events (slash commands, interactions, Events API) arrive on events.
type bot struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event
	runErr chan error
	ctx    context.Context // cancelled when the test ends
}

func newAPI(fake *slacktest.Server, appToken string) *slack.Client {
	return slack.New("xoxb-test", slack.OptionAppLevelToken(appToken),
		slack.OptionAPIURL(fake.APIURL()), slack.OptionLog(quiet))
}

// startBot runs the client until the test ends (its cleanup runs before the
// fake's, which was registered earlier).
func startBot(t testing.TB, fake *slacktest.Server, opts ...socketmode.Option) *bot {
	t.Helper()
	b := &bot{api: newAPI(fake, "xapp-test"), events: make(chan socketmode.Event, 100), runErr: make(chan error, 1)}
	b.sm = socketmode.New(b.api, append([]socketmode.Option{socketmode.OptionLog(quiet)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	b.ctx = ctx
	var wg sync.WaitGroup
	wg.Go(func() { b.runErr <- b.sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-b.sm.Events:
				switch evt.Type {
				case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
					select {
					case b.events <- evt:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return b
}

func (b *bot) next(t testing.TB) socketmode.Event {
	t.Helper()
	select {
	case evt := <-b.events:
		return evt
	case <-time.After(wait):
		t.Fatal("no event from the socket")
		return socketmode.Event{}
	}
}

func newFake(t testing.TB) *slacktest.Server {
	fake := slacktest.New(t)
	fake.AddChannel("C1", "ops")
	fake.AddUser(slacktest.User{ID: "U1", Name: "alice", RealName: "Alice A", Email: "alice@example.com", TZ: "Europe/London"})
	return fake
}

func TestSlashCommandAckWithPayload(t *testing.T) {
	fake := newFake(t)
	b := startBot(t, fake)
	if err := fake.WaitConnected(wait); err != nil {
		t.Fatal(err)
	}
	id := fake.SlashCommand("U1", "C1", "incident new")
	evt := b.next(t)
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("got %T, want slack.SlashCommand", evt.Data)
	}
	if evt.Request.EnvelopeID != id || !evt.Request.AcceptsResponsePayload {
		t.Errorf("request = %+v", evt.Request)
	}
	if cmd.Command != "/ops" || cmd.Text != "incident new" || cmd.UserName != "alice" || cmd.ChannelName != "ops" ||
		cmd.TeamID != "T123" || cmd.APIAppID != "A123" || cmd.TriggerID == "" || cmd.IsEnterpriseInstall {
		t.Errorf("command = %+v", cmd)
	}
	if !strings.HasPrefix(cmd.ResponseURL, fake.URL+"/hooks/commands/") {
		t.Errorf("response_url = %q", cmd.ResponseURL)
	}
	if err := b.sm.Ack(*evt.Request, map[string]any{"response_type": "ephemeral", "text": "Working"}); err != nil {
		t.Fatal(err)
	}
	ack, err := fake.WaitAck(id, wait)
	if err != nil {
		t.Fatal(err)
	}
	if string(ack.Payload) != `{"response_type":"ephemeral","text":"Working"}` {
		t.Errorf("payload = %s", ack.Payload)
	}
	if ack.SentAt.IsZero() || ack.At.Before(ack.SentAt) {
		t.Errorf("times: sent %v, acked %v", ack.SentAt, ack.At)
	}
	if n := len(fake.Acks()); n != 1 {
		t.Errorf("Acks() has %d entries", n)
	}
	if !waitFor(func() bool { return fake.Pongs() > 0 }) || fake.Connections() != 1 {
		t.Errorf("connections %d, pongs %d", fake.Connections(), fake.Pongs())
	}
}

func waitFor(cond func() bool) bool {
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

func TestWaitAckTimeoutAndQueueBeforeConnect(t *testing.T) {
	fake := newFake(t)
	id := fake.SlashCommand("U1", "C1", "queued") // no socket yet: queued
	if _, err := fake.WaitAck(id, 20*time.Millisecond); !errors.Is(err, slacktest.ErrTimeout) {
		t.Fatalf("WaitAck before connect: %v", err)
	}
	b := startBot(t, fake)
	evt := b.next(t)
	if evt.Data.(slack.SlashCommand).Text != "queued" {
		t.Fatalf("got %+v", evt.Data)
	}
	_ = b.sm.Ack(*evt.Request)
	ack, err := fake.WaitAck(id, wait)
	if err != nil || ack.Payload != nil {
		t.Fatalf("ack %+v, err %v", ack, err)
	}
}

func testReconnect(t *testing.T, cut func(*slacktest.Server)) {
	fake := newFake(t)
	b := startBot(t, fake)
	if err := fake.WaitConnected(wait); err != nil {
		t.Fatal(err)
	}
	cut(fake)
	id := fake.SlashCommand("U1", "C1", "after") // may be queued until the client is back
	evt := b.next(t)
	if evt.Request.EnvelopeID != id {
		t.Fatalf("got envelope %s, want %s", evt.Request.EnvelopeID, id)
	}
	_ = b.sm.Ack(*evt.Request)
	if _, err := fake.WaitAck(id, wait); err != nil {
		t.Fatal(err)
	}
	if err := fake.WaitConnections(2, wait); err != nil {
		t.Fatal(err)
	}
	if n := fake.Connections(); n != 2 {
		t.Errorf("Connections() = %d, want 2", n)
	}
	if n := len(fake.Calls("apps.connections.open")); n != 2 {
		t.Errorf("apps.connections.open called %d times", n)
	}
}

func TestDisconnectReconnects(t *testing.T) {
	testReconnect(t, func(s *slacktest.Server) { s.Disconnect("refresh_requested") })
}

func TestDropSocketReconnects(t *testing.T) { testReconnect(t, (*slacktest.Server).DropSocket) }

func TestNoPingsMeansReconnect(t *testing.T) {
	fake := newFake(t)
	fake.SetPingInterval(0)
	startBot(t, fake, socketmode.OptionPingInterval(100*time.Millisecond))
	if err := fake.WaitConnections(2, wait); err != nil {
		t.Fatal(err)
	}
	fake.SetPingInterval(20 * time.Millisecond)
}

func TestBlockActionAndViewSubmission(t *testing.T) {
	fake := newFake(t)
	b := startBot(t, fake)
	_, ts, err := b.api.PostMessage("C1", slack.MsgOptionText("INC-1 open", false))
	if err != nil {
		t.Fatal(err)
	}
	id := fake.BlockAction("U1", slacktest.BlockAction{ActionID: "ack_incident", BlockID: "incident_actions", Value: "INC-1", MessageTS: ts})
	evt := b.next(t)
	cb := evt.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback = %+v", cb)
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "ack_incident" || act.BlockID != "incident_actions" || act.Value != "INC-1" || act.Type != "button" {
		t.Errorf("action = %+v", act)
	}
	if cb.Container.Type != "message" || cb.Container.ChannelID != "C1" || cb.Container.MessageTs != ts ||
		cb.Channel.ID != "C1" || cb.Message.Text != "INC-1 open" || cb.User.ID != "U1" || cb.User.Name != "alice" ||
		!strings.HasPrefix(cb.ResponseURL, fake.URL+"/hooks/actions/") || cb.TriggerID == "" || evt.Request.AcceptsResponsePayload {
		t.Errorf("callback = %+v", cb)
	}
	_ = b.sm.Ack(*evt.Request)
	if _, err := fake.WaitAck(id, wait); err != nil {
		t.Fatal(err)
	}

	fake.BlockAction("U1", slacktest.BlockAction{ActionID: "pick", ViewID: "V7", CallbackID: "incident_modal"})
	cb = b.next(t).Data.(slack.InteractionCallback)
	if cb.Container.Type != "view" || cb.Container.ViewID != "V7" || cb.View.ID != "V7" || cb.View.CallbackID != "incident_modal" ||
		len(cb.ActionCallback.BlockActions) != 1 {
		t.Errorf("view block action = %+v", cb)
	}

	id = fake.ViewSubmission("U1", slacktest.ViewSubmission{CallbackID: "incident_modal", ViewID: "V7", PrivateMetadata: "C1",
		Values: map[string]map[string]any{"summary_block": {"summary_input": map[string]any{"type": "plain_text_input", "value": "db latency"}}}})
	evt = b.next(t)
	cb = evt.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.CallbackID != "incident_modal" || cb.View.ID != "V7" ||
		cb.View.PrivateMetadata != "C1" || cb.View.State == nil || !evt.Request.AcceptsResponsePayload {
		t.Fatalf("submission = %+v", cb)
	}
	if v := cb.View.State.Values["summary_block"]["summary_input"]; v.Value != "db latency" || v.Type != "plain_text_input" {
		t.Errorf("state value = %+v", v)
	}
	_ = b.sm.Ack(*evt.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"summary_block": "Summary is required"}))
	ack, err := fake.WaitAck(id, wait)
	if err != nil {
		t.Fatal(err)
	}
	if string(ack.Payload) != `{"response_action":"errors","errors":{"summary_block":"Summary is required"}}` {
		t.Errorf("payload = %s", ack.Payload)
	}
}
