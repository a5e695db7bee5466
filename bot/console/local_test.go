package console

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/383project/opsbot/commands"
)

// TestLocalCommands: a console-only command gets its words and answers
// through say; the router never sees the line.
func TestLocalCommands(t *testing.T) {
	var got []string
	h := &fakeHandler{}
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader("/demo down shop\n/demo\n/ops status\n"), Out: &out, User: admin,
		Local: map[string]Local{"/demo": func(_ context.Context, args string, say func(string)) {
			got = append(got, args)
			say("demo: " + args)
		}}})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "down shop|" {
		t.Errorf("/demo got %q", got)
	}
	if len(h.commands) != 1 || h.commands[0].Text != "status" {
		t.Errorf("router got %+v, want only status", h.commands)
	}
	if want := "ops> /demo down shop\ndemo: down shop\nops> /demo\ndemo: \nops> /ops status\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// TestSettleAfterEachPipedLine: piped, the console waits for Settle after
// every line it handled, so what a line caused (here a post made by the
// handler's background work) prints before the next line is read.
func TestSettleAfterEachPipedLine(t *testing.T) {
	var c *Console
	var wg sync.WaitGroup
	h := &fakeHandler{command: func(cmd commands.Command) commands.Reply {
		wg.Go(func() { c.Post(context.Background(), "#ops", commands.Message{Text: "after " + cmd.Text}) })
		return commands.Reply{Text: "ok " + cmd.Text}
	}}
	settled := 0
	var out bytes.Buffer
	c = New(Options{In: strings.NewReader("one\ntwo\n\nthree\n"), Out: &out, User: admin,
		Settle: func(context.Context) { wg.Wait(); settled++ }})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if settled != 3 {
		t.Errorf("settled %d times, want 3 (not after the blank line)", settled)
	}
	want := ""
	for _, w := range []string{"one", "two", "three"} {
		want += "ops> " + w + "\nok " + w + "\n#ops: after " + w + "\n"
	}
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestDirectMessagesAndMentionsByName: a post to a user ID is a direct
// message, headed with the person's name; mentions of people the console
// knows show their names.
func TestDirectMessagesAndMentionsByName(t *testing.T) {
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader(""), Out: &out, User: admin})
	ctx := context.Background()
	fiona, err := c.UserByName(ctx, "@fiona")
	if err != nil {
		t.Fatal(err)
	}
	c.Post(ctx, fiona.ID, commands.Message{Text: "<@" + admin.ID + "> asks <@" + fiona.ID + "> and <@UNKNOWN1>"})
	c.Post(ctx, "UNKNOWN1", commands.Message{Text: "hi"})
	c.Update(ctx, fiona.ID, "console.000001", commands.Message{Text: "done"})
	want := "(direct message to @fiona) @alice asks @fiona and @UNKNOWN1\n(direct message to @UNKNOWN1) hi\n(direct message to @fiona (updated)) done\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestPressByLabel: "[Label]" presses the button so labelled whatever its
// number; of identical buttons (the same action on the same value) the
// latest; of different ones none, with their numbers.
func TestPressByLabel(t *testing.T) {
	var c *Console
	h := &fakeHandler{command: func(cmd commands.Command) commands.Reply {
		if cmd.Text == "two" {
			c.Post(context.Background(), "#alerts", commands.Message{Blocks: alertBlocks("b.com")})
			return commands.Reply{Blocks: alertBlocks("c.com")}
		}
		return commands.Reply{Blocks: alertBlocks(cmd.Text)}
	}}
	h.action = func(a commands.Action) commands.Reply {
		if a.ActionID == "ack" {
			// The same alert again, as a DM would show it.
			c.Post(context.Background(), "UBOB", commands.Message{Blocks: alertBlocks(a.Value)})
		}
		return commands.Reply{}
	}
	var out bytes.Buffer
	c = New(Options{In: strings.NewReader("a.com\n[acknowledge]\n[Resolve]\n[Nope]\ntwo\n[Resolve]\n"), Out: &out, User: admin})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range h.actions {
		got = append(got, a.ActionID+" "+a.Value+" "+a.ChannelID)
	}
	if want := []string{"ack a.com console", "resolve a.com UBOB"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("pressed %q, want %q", got, want)
	}
	for _, want := range []string{
		"ops> [Nope]\nThere is no button [Nope] on screen",
		"ops> [Resolve]\nSeveral buttons are called \"Resolve\" and do different things: [2], [4]. Type the number of the one you mean.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
