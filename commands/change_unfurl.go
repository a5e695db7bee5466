package commands

import (
	"context"

	"github.com/slack-go/slack"
)

// maxUnfurls bounds the work one message can cause.
const maxUnfurls = 5

// changeUnfurls offers "Open change request" under GitHub issue links. The
// link is validated only (no request to GitHub: anyone may post a link);
// the button is authorised when clicked.
func (r *Router) changeUnfurls(_ context.Context, ev LinkShared) map[string]slack.Attachment {
	if r.deps.Issues == nil || r.deps.Changes == nil {
		return nil
	}
	out := map[string]slack.Attachment{}
	for _, raw := range ev.Links {
		if len(out) == maxUnfurls {
			break
		}
		link, err := r.deps.Issues.ParseIssueLink(raw)
		if err != nil {
			continue
		}
		btn := slack.NewButtonBlockElement(actionChangeFromLink, link.URL, plain("Open change request"))
		out[raw] = slack.Attachment{Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn("GitHub issue *"+Escape(link.Ref)+"*: open an infrastructure change request for it?"), nil, nil),
			slack.NewActionBlock("change_unfurl", btn),
		}}}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// runChangeFromLink opens the request form pre-filled from the unfurled issue.
func runChangeFromLink(ctx context.Context, c *Call, a Action) (Reply, error) {
	c.Args = []string{a.Value}
	return runChange(ctx, c)
}
