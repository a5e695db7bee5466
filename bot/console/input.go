package console

import (
	"bufio"
	"context"
	"io"
	"strings"

	"github.com/slack-go/slack"
)

// readLines sends In's lines (without "\n" or "\r\n") until EOF, a read
// error, or ctx is done, then closes the channel.
func readLines(ctx context.Context, in io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		br := bufio.NewReader(in)
		for {
			s, err := br.ReadString('\n')
			if s != "" {
				select {
				case ch <- strings.TrimRight(s, "\r\n"):
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// readLine waits for the next line; ok is false at EOF or when ctx is done.
// Interactively it shows prompt first, and ends the prompt's line when input
// ends (Ctrl-D), so the shell's prompt starts on a line of its own. Piped, it
// writes echo and the line read (when both are non-blank), so a transcript
// shows each command above its reply, as a terminal would.
func (c *Console) readLine(ctx context.Context, prompt, echo string) (line string, ok bool) {
	if c.interactive && prompt != "" {
		c.mu.Lock()
		c.prompt = prompt
		io.WriteString(c.out, prompt)
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.prompt = ""
			if !ok {
				io.WriteString(c.out, "\n")
			}
			c.mu.Unlock()
		}()
	}
	select {
	case <-ctx.Done():
		return "", false
	case line, ok = <-c.lines:
	}
	if ok && !c.interactive && echo != "" && strings.TrimSpace(line) != "" {
		c.say(echo + strings.TrimSpace(line))
	}
	return line, ok
}

// confirm asks a button's confirm dialog until the answer is yes or no:
// "y" or "yes" confirms; "n", "no" or an empty line declines. Anything else
// is asked again, so a command typed (or piped) here is not taken as "no"
// and silently lost: the person is told it was not run.
func (c *Console) confirm(ctx context.Context, d *slack.ConfirmationBlockObject) bool {
	r := renderer{style: c.st}
	q := r.text(d.Title) + ": " + r.text(d.Text) + " [y/N]"
	for {
		if !c.interactive {
			c.say(q)
		}
		ans, ok := c.readLine(ctx, q+" ", "> ")
		if !ok {
			return false
		}
		switch strings.ToLower(strings.TrimSpace(ans)) {
		case "y", "yes":
			return true
		case "n", "no", "":
			return false
		}
		c.say("  ✗ Answer y or n first; " + quote(strings.TrimSpace(ans)) + " was not run.")
	}
}

// quote shows a typed line in curly quotes, cut to 60 characters.
func quote(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return "“" + s + "”"
}
