// Package chat is the shape of a message the bot posts on its own behalf and
// the Poster that delivers it. Commands and jobs both post, must not import
// each other, and share these two types through this leaf package; the
// Slack transport and the console implement Poster.
package chat

import (
	"context"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Message is something the bot posts into a channel on its own behalf.
type Message struct {
	Text     string // mrkdwn; the notification fallback when Blocks are set
	Blocks   []slack.Block
	ThreadTS string // post as a reply in this thread
	// DeliveryID marks a post with the outbox item that makes it (Slack
	// message metadata), so a retry after a lost reply finds the message
	// instead of posting a second one.
	DeliveryID string
}

// Poster delivers the bot's own messages.
type Poster interface {
	// Post sends msg to channel (an ID like C0123 or a #name) and returns
	// the channel's ID and the message timestamp: store both, they are what
	// updates, threads, links and mentions need.
	Post(ctx context.Context, channel string, msg Message) (channelID, ts string, err error)
	// Update replaces the message channel/ts in place.
	Update(ctx context.Context, channel, ts string, msg Message) error
	// Ephemeral shows msg to one user in channel.
	Ephemeral(ctx context.Context, channel, userID string, msg Message) error
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes text from people or vendors safe inside mrkdwn: no links,
// mentions or broadcasts can be smuggled in.
func Escape(s string) string { return mrkdwnEscaper.Replace(s) }

var linkEscaper = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "", "\r", "")

// SafeURL returns raw fit for a Slack link (<url|label>): only absolute
// http(s) URLs without credentials, with the characters that would break
// the link syntax encoded; "" when raw is not such a URL.
func SafeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return linkEscaper.Replace(u.String())
}

// MessageURL links to a posted message ("" until it has a channel ID and
// ts: a #name, as the console has, makes no link). Slack redirects the link
// into the workspace for anyone who may see the channel.
func MessageURL(channel, ts string) string {
	if channel == "" || ts == "" || strings.HasPrefix(channel, "#") {
		return ""
	}
	return "https://slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// ChannelLink is how a message names a channel: <#C0123> for an ID, which
// Slack shows as a link, and the name itself for a #name (configured names
// before start-up resolved them, and every channel of the local console):
// "<##name>" would show as "##name".
func ChannelLink(channel string) string {
	if channel == "" || strings.HasPrefix(channel, "#") {
		return channel
	}
	return "<#" + channel + ">"
}

// Truncate returns s cut to at most n characters, the last of them "…" when
// it was cut, so the result fits a field of Slack's n-character limit.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
