package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

var (
	_ commands.Poster    = (*Console)(nil)
	_ commands.Directory = (*Console)(nil)
)

// button is a numbered pressable and the message holding it.
type button struct {
	pressable
	channel, ts string
}

// show renders a message and writes head + text. An empty ts gets a new one;
// a given ts replaces that message, whose old buttons stop working. The first
// message with buttons after the person typed numbers them from 1 again (the
// older buttons stop working), later ones continue, so the numbers on screen
// are those of the latest messages; a reply without buttons (a refusal, a
// list) leaves the buttons above it working.
func (c *Console) show(head, channel, ts, text string, blocks []slack.Block) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts == "" {
		c.seq++
		ts = fmt.Sprintf("console.%06d", c.seq)
	}
	for n, b := range c.buttons {
		if b.ts == ts {
			delete(c.buttons, n)
		}
	}
	r := renderer{style: c.st, press: func(p pressable) int {
		if c.fresh {
			c.buttons, c.next, c.fresh = map[int]button{}, 1, false
		}
		n := c.next
		c.next++
		c.buttons[n] = button{pressable: p, channel: channel, ts: ts}
		return n
	}}
	c.writeLocked(head + r.message(text, blocks) + "\n")
	return ts
}

// say writes one line of console text (not a message; no buttons).
func (c *Console) say(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeLocked(s + "\n")
}

// writeLocked writes s, keeping an interactive prompt below it. c.mu is held.
func (c *Console) writeLocked(s string) {
	if c.prompt != "" {
		s = "\n" + s + c.prompt
	}
	io.WriteString(c.out, s) // a broken terminal is not the handler's problem
}

// typed records that the person typed a command or pressed a button.
func (c *Console) typed() {
	c.mu.Lock()
	c.fresh = true
	c.mu.Unlock()
}

func (c *Console) nextID(kind string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("console.%s.%06d", kind, c.seq)
}

// head is the "#channel<suffix>: " prefix of a channel message, or
// "(direct message to @name<suffix>) " for one posted to a user ID (a DM).
func (c *Console) head(channel, suffix string) string {
	if userID.MatchString(channel) {
		name, ok := c.nameOf(channel)
		if !ok {
			name = channel
		}
		return "(direct message to @" + name + suffix + ") "
	}
	return "#" + strings.TrimPrefix(channel, "#") + suffix + ": "
}

// userID is a Slack user ID (U… or W…), where opsbot posts a direct message.
var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// Post prints msg as "#channel: <rendered>" ("#channel (thread <ts>): ..."
// for a thread reply) and returns the channel as given (the console has no
// IDs) and its ts, like "console.000001".
func (c *Console) Post(ctx context.Context, channel string, msg commands.Message) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	suffix := ""
	if msg.ThreadTS != "" {
		suffix = " (thread " + msg.ThreadTS + ")"
	}
	return channel, c.show(c.head(channel, suffix), channel, "", msg.Text, msg.Blocks), nil
}

// Update prints msg as "#channel (updated): <rendered>"; the buttons of the
// message ts are replaced by msg's.
func (c *Console) Update(ctx context.Context, channel, ts string, msg commands.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.show(c.head(channel, " (updated)"), channel, ts, msg.Text, msg.Blocks)
	return nil
}

// Ephemeral prints msg, rendered, without a channel prefix (the console has
// one person).
func (c *Console) Ephemeral(ctx context.Context, channel, userID string, msg commands.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.show("", channel, "", msg.Text, msg.Blocks)
	return nil
}

// UserByName knows the local user by name (case-insensitive) or ID; any
// other name is a made-up user with the stable ID "U" + the upper-cased name
// without characters outside [A-Z0-9], and the name as typed. A leading "@"
// is ignored. It fails only for an empty name.
func (c *Console) UserByName(_ context.Context, name string) (commands.User, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	if name == "" {
		return commands.User{}, errors.New("console: empty user name")
	}
	if strings.EqualFold(name, c.self.Name) || name == c.self.ID {
		return c.self, nil
	}
	id := strings.Map(func(r rune) rune {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, strings.ToUpper(name))
	u := commands.User{ID: "U" + id, Name: name}
	c.names.Store(u.ID, u.Name)
	return u, nil
}

// IsBot is false for everyone: the console's people are the local user and
// names made up on the spot.
func (c *Console) IsBot(context.Context, string) (bool, error) { return false, nil }

// Upload writes content to a new file in FileDir named after filename
// (opsbot-<random>-<filename>), prints "#channel: <title>: <path>" (the
// filename when title is empty) and returns the path.
func (c *Console) Upload(ctx context.Context, channel, filename, title string, content []byte) (path string, err error) {
	return c.writeFile(ctx, c.head(channel, ""), filename, title, content)
}

// UploadDM is Upload for a file meant for one person: the console has one,
// so it is written the same way and printed as "(direct message) ...".
func (c *Console) UploadDM(ctx context.Context, _, filename, title string, content []byte) (path string, err error) {
	return c.writeFile(ctx, "(direct message) ", filename, title, content)
}

// writeFile writes content to a new file in FileDir and prints head, the
// title and the path.
func (c *Console) writeFile(ctx context.Context, head, filename, title string, content []byte) (path string, err error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	base := strings.ReplaceAll(filepath.Base(filename), "*", "_")
	if base == "." || base == ".." || base == string(filepath.Separator) {
		base = "file"
	}
	// FileDir may not exist yet (the wiring names $TMPDIR/opsbot): make it,
	// private, as a DM is.
	if err := os.MkdirAll(c.fileDir, 0o700); err != nil {
		return "", fmt.Errorf("console: upload %s: %w", base, err)
	}
	f, err := os.CreateTemp(c.fileDir, "opsbot-*-"+base)
	if err != nil {
		return "", fmt.Errorf("console: upload %s: %w", base, err)
	}
	path = f.Name()
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("console: upload %s: %w", base, err)
	}
	if title == "" {
		title = filename
	}
	c.say(head + title + ": " + path)
	return path, nil
}
