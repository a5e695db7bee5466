package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// commandRecorder is a router that records each command and answers with
// reply (an echo of the text when nil).
type commandRecorder struct {
	mu    sync.Mutex
	got   []commands.Command
	reply func(commands.Command) commands.Reply
}

func (r *commandRecorder) router() *stubRouter {
	return &stubRouter{command: func(_ context.Context, c commands.Command) commands.Reply {
		r.mu.Lock()
		r.got = append(r.got, c)
		r.mu.Unlock()
		if r.reply != nil {
			return r.reply(c)
		}
		return commands.Reply{Text: "ran: " + c.Text}
	}}
}

func (r *commandRecorder) commands() []commands.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.Command(nil), r.got...)
}

// waitDMReply waits for a chat.postMessage into user's DM containing want.
func waitDMReply(t *testing.T, fake *slacktest.Server, want string) slacktest.Call {
	t.Helper()
	call, err := fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == slacktest.DMChannel(user) && strings.Contains(c.Form.Get("text"), want)
	}, 5*time.Second)
	if err != nil {
		t.Fatalf("no reply in the DM containing %q: %v", want, err)
	}
	return call
}

// A message to the bot in its DM is `/ops <text>`, answered in that DM.
func TestDirectMessageRunsAsOpsCommand(t *testing.T) {
	rec := &commandRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	env, _, _ := s.fake.DirectMessage(user, "status acme")
	if _, err := s.fake.WaitAck(env, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	call := waitDMReply(t, s.fake, "ran: status acme")
	if ts := call.Form.Get("thread_ts"); ts != "" {
		t.Errorf("reply to a top-level DM went to thread %s", ts)
	}
	got := rec.commands()
	if len(got) != 1 {
		t.Fatalf("router saw %d commands, want 1", len(got))
	}
	if c := got[0]; c.User.ID != user || c.ChannelID != slacktest.DMChannel(user) || c.Text != "status acme" || c.TriggerID != "" {
		t.Errorf("command = %+v", c)
	}
	if n := len(s.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d ephemeral replies; a DM reply is a message", n)
	}
}

// "/ops help" typed out in the DM is the same as "help"; a message in a
// thread is answered in that thread.
func TestDirectMessageOpsPrefixAndThread(t *testing.T) {
	rec := &commandRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	s.fake.DirectMessage(user, "  /OPS help  ")
	waitDMReply(t, s.fake, "ran: help")

	ev := slacktest.DirectMessageEvent(user, "whoami", "1763633099.000300")
	ev["thread_ts"] = "1763633000.000100"
	s.fake.EventCallback(ev, 0)
	call := waitDMReply(t, s.fake, "ran: whoami")
	if ts := call.Form.Get("thread_ts"); ts != "1763633000.000100" {
		t.Errorf("thread_ts = %q, want the DM thread", ts)
	}
}

// Edits, file shares, other bots, the bot's own replies and messages outside
// a DM are acked and never reach the router: the bot does not answer itself.
func TestDirectMessageIgnoresWhatIsNotAPersonsMessage(t *testing.T) {
	rec := &commandRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	const ts = "1763633050.000400"
	edited := slacktest.DirectMessageEvent(user, "status", ts)
	edited["subtype"] = "message_changed"
	fileShare := slacktest.DirectMessageEvent(user, "status", ts)
	fileShare["subtype"] = "file_share"
	otherBot := slacktest.DirectMessageEvent(user, "status", ts)
	otherBot["bot_id"] = "B0OTHER01"
	own := slacktest.DirectMessageEvent(slacktest.BotUserID, "ran: status", ts)
	own["channel"], own["bot_id"] = slacktest.DMChannel(user), slacktest.BotID
	ownNoBotID := slacktest.DirectMessageEvent(slacktest.BotUserID, "ran: status", ts)
	channel := slacktest.DirectMessageEvent(user, "status", ts)
	channel["channel"], channel["channel_type"] = "C0OPS0001", "channel"
	for _, ev := range []map[string]any{edited, fileShare, otherBot, own, ownNoBotID, channel} {
		env, _ := s.fake.EventCallback(ev, 0)
		if _, err := s.fake.WaitAck(env, 3*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Handlers run concurrently: wait until each was turned away, then send
	// a person's message, which is answered.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(s.logs.String(), "DM ignored: not a person's new message") < 5 ||
		!strings.Contains(s.logs.String(), "message outside a DM ignored") {
		if time.Now().After(deadline) {
			t.Fatalf("not every message was turned away:\n%s", s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.fake.DirectMessage(user, "help")
	waitDMReply(t, s.fake, "ran: help")
	if got := rec.commands(); len(got) != 1 {
		t.Fatalf("router saw %d commands, want only the person's message: %+v", len(got), got)
	}
}

// A verb that opens a form cannot from a DM (no trigger_id): the reply says
// how to run it instead of failing on views.open.
func TestDirectMessageFormVerbExplains(t *testing.T) {
	rec := &commandRecorder{reply: func(commands.Command) commands.Reply {
		return commands.Reply{Modal: &slack.ModalViewRequest{Type: slack.VTModal, CallbackID: "role_grant",
			Title: slack.NewTextBlockObject("plain_text", "Grant a role", false, false)}}
	}}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	s.fake.DirectMessage(user, "role grant")
	waitDMReply(t, s.fake, "/ops role grant")
	if n := len(s.fake.Calls("views.open")); n != 0 {
		t.Errorf("views.open called %d times without a trigger_id", n)
	}
}
