package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

var admin = commands.User{ID: "ULOCAL", Name: "alice"}

// fakeHandler records what the console sends and answers with the funcs set.
type fakeHandler struct {
	mu       sync.Mutex
	commands []commands.Command
	actions  []commands.Action
	submits  []commands.Submission
	command  func(commands.Command) commands.Reply
	action   func(commands.Action) commands.Reply
	submit   func(commands.Submission) commands.SubmitResult
	suggests []commands.Suggestion
	suggest  func(commands.Suggestion) []*slack.OptionBlockObject
}

func (h *fakeHandler) Suggest(_ context.Context, s commands.Suggestion) []*slack.OptionBlockObject {
	h.mu.Lock()
	h.suggests = append(h.suggests, s)
	h.mu.Unlock()
	if h.suggest == nil {
		return nil
	}
	return h.suggest(s)
}

func (h *fakeHandler) Command(_ context.Context, c commands.Command) commands.Reply {
	h.mu.Lock()
	h.commands = append(h.commands, c)
	h.mu.Unlock()
	if h.command == nil {
		return commands.Reply{}
	}
	return h.command(c)
}

func (h *fakeHandler) Action(_ context.Context, a commands.Action) commands.Reply {
	h.mu.Lock()
	h.actions = append(h.actions, a)
	h.mu.Unlock()
	if h.action == nil {
		return commands.Reply{}
	}
	return h.action(a)
}

func (h *fakeHandler) Submit(_ context.Context, s commands.Submission) commands.SubmitResult {
	h.mu.Lock()
	h.submits = append(h.submits, s)
	h.mu.Unlock()
	if h.submit == nil {
		return commands.SubmitResult{}
	}
	return h.submit(s)
}

// run feeds input to a non-interactive console and returns its output.
func run(t *testing.T, input string, h Handler) string {
	t.Helper()
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader(input), Out: &out, User: admin})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String()
}

func TestCommandLines(t *testing.T) {
	tests := []struct {
		input string
		want  []string // texts reaching Handler.Command
	}{
		{"/ops help\n", []string{"help"}},
		{"ops help\n", []string{"help"}},
		{"help\n", []string{"help"}},
		{"  /ops   cost acme --refresh  \r\n", []string{"cost acme --refresh"}},
		{"/ops\n", []string{""}},
		{"\n\n   \nwhoami", []string{"whoami"}}, // blank lines ignored, no final newline
		{"help\nexit\nwhoami\n", []string{"help"}},
		{"quit\nhelp\n", nil},
		{"/deploy now\n", nil},
		{"", nil},
	}
	for _, tt := range tests {
		h := &fakeHandler{}
		run(t, tt.input, h)
		var got []string
		for _, c := range h.commands {
			got = append(got, c.Text)
			if c.User != admin || c.ChannelID != "console" {
				t.Errorf("%q: command %+v, want user %v in channel console", tt.input, c, admin)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.input, got, tt.want)
		}
	}
}

func TestOtherSlashCommand(t *testing.T) {
	got := run(t, "/deploy now\n", &fakeHandler{})
	if want := "ops> /deploy now\nOnly /ops works here. Try: /ops help\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func alertBlocks(id string) []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "🔴 *"+id+"* is down", false, false), nil, nil),
		slack.NewActionBlock("alert:"+id,
			slack.NewButtonBlockElement("ack", id, slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)),
			slack.NewButtonBlockElement("resolve", id, slack.NewTextBlockObject(slack.PlainTextType, "Resolve", false, false)),
		),
	}
}

func TestPressButton(t *testing.T) {
	h := &fakeHandler{
		command: func(commands.Command) commands.Reply { return commands.Reply{Blocks: alertBlocks("acme.com")} },
		action: func(a commands.Action) commands.Reply {
			return commands.Reply{ReplaceOriginal: true, Text: "🟢 *acme.com* resolved by <@" + a.User.ID + ">"}
		},
	}
	got := run(t, "status\n2\n9\n", h)
	want := "ops> status\n🔴 acme.com is down\n[1] Acknowledge  [2] Resolve\n" +
		"ops> 2\n#console (updated): 🟢 acme.com resolved by @alice\n" +
		"ops> 9\nThere is no button [9] on screen; buttons are shown as [n] under a message.\n"
	if got != want {
		t.Errorf("output:\ngot  %q\nwant %q", got, want)
	}
	wantAction := []commands.Action{{
		User: admin, ActionID: "resolve", BlockID: "alert:acme.com", Value: "acme.com",
		ChannelID: "console", MessageTS: "console.000002", TriggerID: "console.trigger.000003",
	}}
	if !reflect.DeepEqual(h.actions, wantAction) {
		t.Errorf("actions:\ngot  %+v\nwant %+v", h.actions, wantAction)
	}
}

func TestButtonNumbering(t *testing.T) {
	// Buttons number on across the messages since the person last typed,
	// and from 1 again after.
	var c *Console
	h := &fakeHandler{command: func(cmd commands.Command) commands.Reply {
		if cmd.Text == "alerts" {
			c.Post(context.Background(), "#alerts", commands.Message{Blocks: alertBlocks("b.com")})
		}
		return commands.Reply{Blocks: alertBlocks("a.com")}
	}}
	var out bytes.Buffer
	c = New(Options{In: strings.NewReader("alerts\n3\nstatus\n1\n"), Out: &out, User: admin})
	if err := c.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	want := "ops> alerts\n#alerts: 🔴 b.com is down\n[1] Acknowledge  [2] Resolve\n" +
		"🔴 a.com is down\n[3] Acknowledge  [4] Resolve\n" +
		"ops> 3\nops> status\n🔴 a.com is down\n[1] Acknowledge  [2] Resolve\nops> 1\n"
	if got := out.String(); got != want {
		t.Errorf("output:\ngot  %q\nwant %q", got, want)
	}
	got := []string{h.actions[0].Value + " " + h.actions[0].ActionID + " " + h.actions[0].ChannelID,
		h.actions[1].Value + " " + h.actions[1].ActionID + " " + h.actions[1].ChannelID}
	if want := []string{"a.com ack console", "a.com ack console"}; !reflect.DeepEqual(got, want) {
		t.Errorf("actions: got %q, want %q", got, want)
	}
}

func TestConfirm(t *testing.T) {
	// Anything but yes or no is asked again, so a command typed at the
	// question is neither taken as "no" nor run; the line after the
	// answer is a command again.
	q := "Roll back?: This moves all traffic. [y/N]\n"
	again := func(s string) string { return "  ✗ Answer y or n first; “" + s + "” was not run.\n" + q }
	tests := []struct {
		answers string
		pressed bool
		asked   string // the output after the question
	}{
		{"y\n", true, "> y\n"},
		{"YES\n", true, "> YES\n"},
		{"n\n", false, "> n\n"},
		{"\n", false, ""},
		{"sure\nno\n", false, "> sure\n" + again("sure") + "> no\n"},
		{"/ops role list\ny\n", true, "> /ops role list\n" + again("/ops role list") + "> y\n"},
	}
	for _, tt := range tests {
		btn := slack.NewButtonBlockElement("rollback", "dns", slack.NewTextBlockObject(slack.PlainTextType, "Roll back DNS", false, false))
		btn.Confirm = slack.NewConfirmationBlockObject(
			slack.NewTextBlockObject(slack.PlainTextType, "Roll back?", false, false),
			slack.NewTextBlockObject(slack.MarkdownType, "This moves *all* traffic.", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Roll back", false, false), nil)
		h := &fakeHandler{command: func(commands.Command) commands.Reply {
			return commands.Reply{Blocks: []slack.Block{slack.NewActionBlock("cut", btn)}}
		}}
		got := run(t, "cutover\n1\n"+tt.answers+"whoami\n", h)
		want := "ops> cutover\n[1] Roll back DNS\nops> 1\n" + q + tt.asked + "ops> whoami\n[1] Roll back DNS\n"
		if got != want {
			t.Errorf("%q: output\n%s\nwant\n%s", tt.answers, got, want)
		}
		if pressed := len(h.actions) == 1; pressed != tt.pressed {
			t.Errorf("%q: pressed %v, want %v", tt.answers, pressed, tt.pressed)
		}
		var texts []string
		for _, c := range h.commands {
			texts = append(texts, c.Text)
		}
		if want := []string{"cutover", "whoami"}; !reflect.DeepEqual(texts, want) {
			t.Errorf("%q: commands run %q, want %q", tt.answers, texts, want)
		}
	}
}

func TestPostWhileReading(t *testing.T) {
	pr, pw := io.Pipe()
	var out bytes.Buffer
	c := New(Options{In: pr, Out: &out, User: admin, Interactive: true})
	h := &fakeHandler{command: func(commands.Command) commands.Reply { return commands.Reply{Text: "ok"} }}
	done := make(chan error)
	go func() { done <- c.Run(context.Background(), h) }()

	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, ts, err := c.Post(ctx, "#alerts", commands.Message{Text: fmt.Sprintf("alert %d", i), Blocks: alertBlocks("x")})
			if err != nil {
				t.Error(err)
			}
			c.Update(ctx, "alerts", ts, commands.Message{Text: "updated"})
			c.Ephemeral(ctx, "alerts", admin.ID, commands.Message{Text: "psst"})
		})
	}
	for range 20 {
		fmt.Fprintln(pw, "status")
	}
	wg.Wait()
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := out.String()
	if n := strings.Count(got, "#alerts (updated): updated\n"); n != 20 {
		t.Errorf("%d updates printed, want 20", n)
	}
	if n := strings.Count(got, "ok\n"); n != 20 {
		t.Errorf("%d replies printed, want 20", n)
	}
}

func TestRunEnds(t *testing.T) {
	// EOF ends Run with nil.
	if got := run(t, "", &fakeHandler{}); got != "" {
		t.Errorf("output %q, want none", got)
	}
	// So does a cancelled context while the reader blocks.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- New(Options{In: pr, Out: io.Discard}).Run(ctx, &fakeHandler{}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestInteractivePrompt(t *testing.T) {
	// The end of input (Ctrl-D) ends the prompt's line, so the shell's
	// prompt does not start after "ops> ".
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader("help\n"), Out: &out, User: admin, Interactive: true})
	h := &fakeHandler{command: func(commands.Command) commands.Reply { return commands.Reply{Text: "*hi*"} }}
	c.Run(context.Background(), h)
	if got, want := out.String(), "ops> \x1b[1mhi\x1b[22m\nops> \n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestBanner(t *testing.T) {
	for _, interactive := range []bool{false, true} {
		var b bytes.Buffer
		Banner(&b, interactive, false)
		for _, s := range []string{"local console", "memory", "lost on exit", "/ops help", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "README", "REDIS_URL"} {
			if !strings.Contains(b.String(), s) {
				t.Errorf("Banner(%v) lacks %q:\n%s", interactive, s, b.String())
			}
		}
		if got := strings.Contains(b.String(), "[n]"); got != interactive {
			t.Errorf("Banner(%v) button hint shown: %v", interactive, got)
		}
		if strings.Contains(b.String(), "/as") {
			t.Errorf("Banner(%v) mentions /as, which is off", interactive)
		}
	}
	var b bytes.Buffer
	Banner(&b, true, true)
	if !strings.Contains(b.String(), "/as @name") {
		t.Errorf("Banner with /as on does not say so:\n%s", b.String())
	}
}

// TestButtonsOutliveAReplyWithout: a reply without buttons (a refusal, a
// list) leaves the buttons above it pressable; the next message with
// buttons numbers from 1 again.
func TestButtonsOutliveAReplyWithout(t *testing.T) {
	h := &fakeHandler{command: func(cmd commands.Command) commands.Reply {
		if cmd.Text == "whoami" {
			return commands.Reply{Text: "You are nobody in particular."}
		}
		return commands.Reply{Blocks: alertBlocks(cmd.Text)}
	}}
	got := run(t, "a.com\nwhoami\n2\nb.com\n3\n", h)
	if len(h.actions) != 1 || h.actions[0].Value != "a.com" || h.actions[0].ActionID != "resolve" {
		t.Errorf("actions %+v, want Resolve of a.com", h.actions)
	}
	if !strings.HasSuffix(got, "ops> b.com\n🔴 b.com is down\n[1] Acknowledge  [2] Resolve\nops> 3\nThere is no button [3] on screen; buttons are shown as [n] under a message.\n") {
		t.Errorf("output:\n%s", got)
	}
}
