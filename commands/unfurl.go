package commands

import (
	"context"

	"github.com/slack-go/slack"
)

// LinkShared is Slack's link_shared event: someone posted links of a domain
// opsbot unfurls (GitHub) in a channel opsbot is in.
type LinkShared struct {
	User      User
	ChannelID string
	MessageTS string
	UnfurlID  string
	Source    string // "conversations_history" or "composer"
	Links     []string
}

// LinkShared answers a link_shared event with an unfurl per link it
// recognises (URL → attachment holding blocks), nil when none. Unfurls are
// seen by everyone in the channel, so they carry no private data: only an
// offer to open a change request, whose button is authorised on click.
func (r *Router) LinkShared(ctx context.Context, ev LinkShared) map[string]slack.Attachment {
	return r.changeUnfurls(ctx, ev)
}
