// Package console is the local terminal transport: the same /ops surface as
// Slack, for someone running opsbot without Slack tokens. It reads `/ops ...`
// lines, drives the Handler the Slack transport drives, renders the Block Kit
// replies as readable text, numbers buttons so typing the number presses them,
// and turns modals into prompts. It also implements commands.Poster (channel
// posts print as "#channel: ...") and commands.Directory.
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

// Handler is what the console drives (the commands router satisfies it).
type Handler interface {
	Command(ctx context.Context, c commands.Command) commands.Reply
	Action(ctx context.Context, a commands.Action) commands.Reply
	Submit(ctx context.Context, s commands.Submission) commands.SubmitResult
	// Suggest lists an external_select's options for what was typed.
	Suggest(ctx context.Context, s commands.Suggestion) []*slack.OptionBlockObject
}

// Options configures a Console.
type Options struct {
	In  io.Reader
	Out io.Writer
	// User is the local user (an admin); every command runs as them, or as
	// whom /as names when AllowAs is set.
	User commands.User
	// AllowAs turns on "/as @user": the next commands, clicks and forms run
	// as that user. Only for a console on its own throwaway store: there an
	// approval made as someone else harms nothing.
	AllowAs bool
	// Local are console-only slash commands by name ("/demo"): the line's
	// words after the name go to the function, never to the router.
	Local map[string]Local
	// Settle, when set, is called after each line read from a non-terminal
	// In has been handled, and returns once what the line caused has been
	// shown (the wiring waits for queued deliveries), so a piped script's
	// transcript is in order and its button numbers are the same every run.
	Settle func(ctx context.Context)
	// Interactive means In is a terminal: print the "ops> " prompt, ANSI
	// attributes and the input hints. Otherwise output is plain text and only
	// field labels are printed when a modal reads its answers from In.
	Interactive bool
	// ChannelID is the channel the console user types in; default "console".
	ChannelID string
	// FileDir is where uploaded files are written; default os.TempDir().
	FileDir string
}

// Local is a console-only command: it gets the words after its name and
// answers through say, as often as it needs.
type Local func(ctx context.Context, args string, say func(string))

// Console is one terminal session. Run must not be called twice at once;
// Poster, Directory and Upload methods are safe from any goroutine.
type Console struct {
	in          io.Reader
	out         io.Writer
	self        commands.User // the local user
	allowAs     bool
	local       map[string]Local
	settle      func(ctx context.Context)
	names       sync.Map // user ID → name, for mentions and direct messages
	interactive bool
	channel     string
	fileDir     string
	st          style

	lines <-chan string // set by Run, read only by Run's goroutine

	mu      sync.Mutex    // guards the fields below and every write to out
	user    commands.User // who commands run as: self, or whom /as named
	seq     int           // message timestamps, view and trigger IDs
	buttons map[int]button
	next    int    // the next button number
	fresh   bool   // the person typed since the last render: renumber from 1
	prompt  string // prompt on screen (interactive), re-printed after async output
}

// New returns a console for o, with o's defaults filled in.
func New(o Options) *Console {
	if o.ChannelID == "" {
		o.ChannelID = "console"
	}
	if o.FileDir == "" {
		o.FileDir = os.TempDir()
	}
	c := &Console{
		in: o.In, out: o.Out, self: o.User, user: o.User, allowAs: o.AllowAs, interactive: o.Interactive,
		local: o.Local, settle: o.Settle, channel: o.ChannelID, fileDir: o.FileDir,
		st:      style{ansi: o.Interactive, loc: time.Local, now: time.Now},
		buttons: map[int]button{}, next: 1,
	}
	c.st.name = c.nameOf
	if o.User.ID != "" && o.User.Name != "" {
		c.names.Store(o.User.ID, o.User.Name)
	}
	return c
}

// nameOf is the name the console knows a user ID by.
func (c *Console) nameOf(id string) (string, bool) {
	v, ok := c.names.Load(id)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// Run reads lines from In until EOF, "exit" or "quit", or until ctx is done,
// and returns nil in all of these cases: bad input is answered on Out, never
// returned. A line "/ops <text>", "ops <text>" or a bare "<text>" runs
// h.Command; a number presses the button shown as "[n]", and "[Label]" the
// one labelled so (for scripts, whatever its number); "/as [@user]"
// changes who the next lines run as (Options.AllowAs); blank lines are
// ignored. Replies, modals and submissions are handled as the Slack transport
// would. The goroutine reading In ends at EOF or at its next line after Run returns.
func (c *Console) Run(ctx context.Context, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.lines = readLines(ctx, c.in)
	for {
		line, ok := c.readLine(ctx, c.promptText(), c.promptText())
		if !ok {
			return nil
		}
		switch line = strings.TrimSpace(line); {
		case line == "":
			continue
		case line == "exit" || line == "quit":
			return nil
		case isAs(line):
			c.as(ctx, line)
		case c.isLocal(line):
			c.runLocal(ctx, line)
		case isNumber(line):
			c.press(ctx, h, line)
		case isLabel(line):
			c.pressLabel(ctx, h, line)
		default:
			c.command(ctx, h, line)
		}
		if c.settle != nil && !c.interactive {
			c.settle(ctx)
		}
	}
}

// isLocal reports whether line names one of Options.Local.
func (c *Console) isLocal(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	_, ok := c.local[word]
	return ok
}

func (c *Console) runLocal(ctx context.Context, line string) {
	word, args, _ := strings.Cut(line, " ")
	c.typed()
	c.safely(func() { c.local[word](ctx, strings.TrimSpace(args), c.say) })
}

// commandText extracts the command text from a typed line; ok is false for
// a slash command other than /ops.
func commandText(line string) (text string, ok bool) {
	word, rest, _ := strings.Cut(line, " ")
	switch {
	case word == "/ops" || word == "ops":
		return strings.TrimSpace(rest), true
	case strings.HasPrefix(word, "/"):
		return "", false
	}
	return line, true
}

func isNumber(s string) bool {
	if len(s) > 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c *Console) command(ctx context.Context, h Handler, line string) {
	text, ok := commandText(line)
	if !ok {
		c.say("Only /ops works here. Try: /ops help")
		return
	}
	c.typed()
	cmd := commands.Command{
		User: c.acting(), ChannelID: c.channel, ChannelName: c.channel,
		Text: text, TriggerID: c.nextID("trigger"),
	}
	var r commands.Reply
	if c.safely(func() { r = h.Command(ctx, cmd) }) {
		c.reply(ctx, h, r)
	}
}

// reply renders r's text or blocks and opens its modal, if any.
func (c *Console) reply(ctx context.Context, h Handler, r commands.Reply) {
	if r.Text != "" || len(r.Blocks) > 0 {
		c.show("", c.channel, "", r.Text, r.Blocks)
	}
	if r.Modal != nil {
		c.modal(ctx, h, r.Modal)
	}
}

// safely runs f and reports a panic on Out instead of ending the session.
func (c *Console) safely(f func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.say(fmt.Sprintf("something went wrong: %v", p))
			ok = false
		}
	}()
	f()
	return true
}

// Banner prints the console's welcome: what it is, that state lives in
// memory, how to start, and how to connect Slack and Redis. Interactive adds
// the hints for buttons, forms and leaving (and /as, when allowAs).
func Banner(w io.Writer, interactive, allowAs bool) {
	b := "opsbot local console: no Slack tokens, so /ops runs here as you.\n" +
		"State is kept in memory and lost on exit (set REDIS_URL to keep it in Redis).\n" +
		"Type /ops help to see what you can run.\n" +
		"To connect Slack, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see README).\n"
	if interactive {
		b += "Buttons show as [n]: type the number to press one. In a form, type cancel to leave it.\n" +
			"exit, quit or Ctrl-D ends the session.\n"
		if allowAs {
			b += "/as @name runs the next commands as that person (grant them a role first); /as alone makes you yourself again.\n"
		}
	}
	io.WriteString(w, b)
}
