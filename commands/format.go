package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/slack-go/slack"
)

// Slack's limits (UX.md): blocks per message and characters per text block.
const (
	maxBlocks     = 50
	maxBlockText  = 3000
	maxHeaderText = 150
)

// Escape makes user-supplied text safe inside mrkdwn.
func Escape(s string) string { return chat.Escape(s) }

// mention renders a user ID as a Slack mention built by opsbot.
func mention(userID string) string { return "<@" + userID + ">" }

// slackDate renders t in the viewer's time zone, with a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// header is a header block; Slack takes at most 150 characters in one.
func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(s, maxHeaderText), false, false))
}

// listReply shows a list as Slack wants a long one: a header, the lines
// packed into sections within the message's 50 blocks (what does not fit is
// counted in a last line), and the title alone as the notification text.
// Joining the lines into the text would break Slack's 40,000-character limit
// on a long list (200 audit entries are over 100 KB).
func listReply(title string, lines []string) Reply {
	blocks := append([]slack.Block{header(title)}, linesToBlocks(lines, maxBlocks-1)...)
	return Reply{Text: title, Blocks: blocks}
}

// linesToBlocks packs lines into as few section blocks as Slack allows,
// summarising what does not fit in the message's block budget.
func linesToBlocks(lines []string, budget int) []slack.Block {
	blocks, used := packLines(lines, budget-1)
	if used < len(lines) {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more.", len(lines)-used))))
	}
	return blocks
}

// packLines packs lines into at most budget section blocks of at most
// maxBlockText characters (a longer line is cut) and reports how many lines
// it used.
func packLines(lines []string, budget int) ([]slack.Block, int) {
	var (
		blocks []slack.Block
		cur    strings.Builder
	)
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(cur.String()), nil, nil))
			cur.Reset()
		}
	}
	for i, line := range lines {
		if len(line) > maxBlockText-2 {
			line = strings.ToValidUTF8(line[:maxBlockText-5], "") + "…"
		}
		if cur.Len()+len(line)+1 > maxBlockText {
			flush()
		}
		if len(blocks) >= budget {
			return blocks, i
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	flush()
	return blocks, len(lines)
}

// resolveClient accepts a client key case-insensitively or by unique prefix.
func (c *Call) resolveClient(word, example string) (string, error) {
	clients := c.r.deps.Clients
	w := strings.ToLower(word)
	if _, ok := clients[w]; ok {
		return w, nil
	}
	var matches []string
	for k := range clients {
		if strings.HasPrefix(k, w) {
			matches = append(matches, k)
		}
	}
	slices.Sort(matches)
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return "", userErrorf(example, "%q matches several clients: %s. Type more of the name.", Escape(word), strings.Join(matches, ", "))
	case len(clients) == 0:
		return "", userErrorf(example, "There are no clients configured yet; add them under `clients:` in opsbot.yaml.")
	}
	keys := make([]string, 0, len(clients))
	for k := range clients {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "", userErrorf(example, "I don't know a client called %q. Clients: %s.", Escape(word), strings.Join(keys, ", "))
}

// resolveUser turns a mention, ID or @name into a user ID.
func (c *Call) resolveUser(ctx context.Context, word, example string) (string, error) {
	ref, ok := ParseUserRef(word)
	if !ok {
		return "", userErrorf(example, "%q is not a person. Mention them with @ so Slack links the name.", Escape(word))
	}
	if ref.ID != "" {
		return ref.ID, nil
	}
	u, err := c.r.deps.Directory.UserByName(ctx, ref.Name)
	if errors.Is(err, ErrUnknownUser) {
		return "", userErrorf(example, "I can't find anyone called @%s in this workspace. Pick them from Slack's @ list so the mention is linked.", Escape(ref.Name))
	}
	if err != nil {
		return "", fmt.Errorf("look up @%s: %w", ref.Name, err)
	}
	return u.ID, nil
}
