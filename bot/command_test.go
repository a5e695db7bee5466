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
)

// afterAck answers every command with reply once the fake has one more
// ack than when the command came in, the command's own (past
// CommandAckBudget): the reply then takes the response_url (or its
// fallbacks), as a slow command's does. Commands are sent one at a time.
func afterAck(fake *slacktest.Server, reply commands.Reply) func(context.Context, commands.Command) commands.Reply {
	return func(context.Context, commands.Command) commands.Reply {
		acked := len(fake.Acks())
		deadline := time.Now().Add(5 * time.Second)
		for len(fake.Acks()) == acked && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return reply
	}
}

// A reply ready within the budget travels in the ack, as the person sees
// it (ephemeral or in the channel); no HTTP request carries it.
func TestInstantReplyRidesInTheAck(t *testing.T) {
	h := &stubRouter{command: func(_ context.Context, c commands.Command) commands.Reply {
		return commands.Reply{Text: "pong " + c.Text, InChannel: c.Text == "all"}
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	for text, kind := range map[string]string{"me": "ephemeral", "all": "in_channel"} {
		env := s.fake.SlashCommand(user, "C0OPS0001", text)
		c, err := s.fake.WaitResponse(env, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if c.Via != slacktest.ViaAck || c.JSON["text"] != "pong "+text || c.JSON["response_type"] != kind {
			t.Errorf("%s: reply %+v", text, c)
		}
	}
	for _, c := range s.fake.Calls("response_url") {
		if c.Via != slacktest.ViaAck {
			t.Errorf("a reply was posted to the response_url: %+v", c)
		}
	}
	if n := len(s.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d chat.postEphemeral calls", n)
	}
}

// Past the budget the command is acked plain, in time, and the reply is
// posted to the response_url; a reply too big for an ack goes there too.
func TestSlowOrLargeReplyGoesToTheResponseURL(t *testing.T) {
	fake := slacktest.New(t)
	big := strings.Repeat("x", 25_000)
	slow := afterAck(fake, commands.Reply{Text: "slow"})
	h := &stubRouter{command: func(ctx context.Context, c commands.Command) commands.Reply {
		if c.Text == "big" {
			return commands.Reply{Text: big}
		}
		return slow(ctx, c)
	}}
	s := startStub(t, fake, h, bot.Config{CommandAckBudget: 50 * time.Millisecond}, true)
	for text, want := range map[string]string{"slow": "slow", "big": big} {
		env := fake.SlashCommand(user, "C0OPS0001", text)
		ack, err := fake.WaitAck(env, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(ack.Payload) != 0 {
			t.Errorf("%s: ack carried %d bytes", text, len(ack.Payload))
		}
		c, err := fake.WaitResponse(env, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if c.Via == slacktest.ViaAck || c.JSON["text"] != want {
			t.Errorf("%s: reply via %q of %d characters", text, c.Via, len(c.JSON["text"].(string)))
		}
	}
	if strings.Contains(s.logs.String(), "ack with payload failed") {
		t.Errorf("the big reply was tried in the ack:\n%s", s.logs)
	}
}

// A redelivered slash command is acked plain and not run again.
func TestDuplicateSlashCommandAckedPlain(t *testing.T) {
	runs := 0
	h := &stubRouter{command: func(context.Context, commands.Command) commands.Reply {
		runs++
		return commands.Reply{Text: "done"}
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	for i := range 2 {
		s.fake.SlashCommandWithID("env-twice", user, "C0OPS0001", "grant")
		ack, err := s.fake.WaitAck("env-twice", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(ack.Payload) != 0; got != (i == 0) {
			t.Errorf("delivery %d: ack payload %s", i+1, ack.Payload)
		}
	}
	if runs != 1 || len(s.fake.Calls("response_url")) != 1 {
		t.Errorf("%d runs, %d replies; want 1 and 1", runs, len(s.fake.Calls("response_url")))
	}
}

// Replies posted to response_urls by a busy pool reuse connections: the
// default transport kept two idle per host, so most posts dialled anew.
func TestResponseURLPostsReuseConnections(t *testing.T) {
	fake := slacktest.New(t)
	const n = 16
	var wg sync.WaitGroup
	release := make(chan struct{})
	h := &stubRouter{command: func(context.Context, commands.Command) commands.Reply {
		<-release // past the budget: every reply goes to its response_url, all at once
		return commands.Reply{Text: "done"}
	}}
	startStub(t, fake, h, bot.Config{CommandAckBudget: time.Millisecond}, true)
	round := func() {
		envs := make([]string, n)
		for i := range n {
			envs[i] = fake.SlashCommand(user, "C0OPS0001", "x")
		}
		for _, env := range envs {
			if _, err := fake.WaitAck(env, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		release <- struct{}{} // one reply first: the connections of the round before are idle again
		for range n - 1 {
			wg.Go(func() { release <- struct{}{} })
		}
		wg.Wait()
		for _, env := range envs {
			if _, err := fake.WaitResponse(env, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	// However many posts overlap in a round, at most n connections are
	// ever needed; a transport that keeps too few idle dials every round.
	before := fake.TCPConns()
	const rounds = 3
	for range rounds {
		round()
	}
	if opened := fake.TCPConns() - before; opened > n {
		t.Errorf("%d rounds of %d replies opened %d connections", rounds, n, opened)
	}
}

// A command in flight when the bot is told to stop still gets its reply in
// its ack: the socket stays open until in-flight work has acked. Before,
// the socket closed with the context and the queued ack was dropped, so
// Slack showed the user a timeout.
func TestCommandInFlightAtShutdownStillAcked(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := &stubRouter{command: func(_ context.Context, c commands.Command) commands.Reply {
		close(entered)
		<-release
		return commands.Reply{Text: "done " + c.Text}
	}}
	s := startStub(t, nil, h, bot.Config{CommandAckBudget: 2 * time.Second}, true)
	env := s.fake.SlashCommand(user, "C0OPS0001", "late")
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the command never reached the router")
	}
	s.cancel()
	time.Sleep(100 * time.Millisecond) // let the shutdown reach the socket
	close(release)
	c, err := s.fake.WaitResponse(env, 5*time.Second)
	if err != nil {
		t.Fatalf("no reply for the command in flight at shutdown: %v\nacks: %+v\nlogs:\n%s", err, s.fake.Acks(), s.logs)
	}
	if c.Via != slacktest.ViaAck || c.JSON["text"] != "done late" {
		t.Errorf("reply %+v", c)
	}
}

// Work already acked does not hold the socket open on shutdown: an event
// handler still running (acked at once) must not keep the bot connected,
// where Slack would keep routing envelopes that nobody reads any more.
func TestShutdownClosesSocketOnceEverythingIsAcked(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := &stubRouter{command: func(_ context.Context, c commands.Command) commands.Reply {
		close(entered)
		<-release
		return commands.Reply{Text: "done"}
	}}
	fake := slacktest.New(t)
	s := startStub(t, fake, h, bot.Config{CommandAckBudget: 20 * time.Millisecond}, true)
	env := fake.SlashCommand(user, "C0OPS0001", "slow")
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the command never reached the router")
	}
	if _, err := fake.WaitAck(env, 5*time.Second); err != nil {
		t.Fatal(err) // acked plain once the budget passed
	}
	s.cancel()
	if err := fake.WaitDisconnected(3 * time.Second); err != nil {
		t.Errorf("socket still open while an acked handler runs: %v", err)
	}
	close(release)
}
