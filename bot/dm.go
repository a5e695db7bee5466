package bot

import (
	"context"
	"strings"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack/slackevents"
)

// directMessage answers what a person writes to the bot in its DM (the app's
// Messages tab, event message.im) as if they had typed `/ops <text>`; the
// reply goes to that DM, in the thread when the message was in one. Only a
// person's new message counts: edits, deletions and file shares (any
// subtype), other bots and the bot's own replies are ignored, so the bot
// never answers itself.
func (b *Bot) directMessage(ctx context.Context, ev *slackevents.MessageEvent, h Handler) {
	lg := b.log.With("channel", ev.Channel, "user_id", ev.User)
	switch {
	case ev.ChannelType != "im":
		lg.Debug("message outside a DM ignored", "channel_type", ev.ChannelType)
		return
	case ev.SubType != "" || ev.BotID != "" || ev.User == "" || ev.User == b.selfID:
		lg.Debug("DM ignored: not a person's new message", "subtype", ev.SubType)
		return
	}
	text := dmCommandText(ev.Text)
	reply := h.Command(ctx, commands.Command{User: commands.User{ID: ev.User}, ChannelID: ev.Channel, Text: text})
	if reply.Modal != nil {
		// A form needs the trigger_id only a slash command or a click carries.
		reply = commands.Reply{Text: "That opens a form, which Slack lets me open only from the command itself: type `/ops " +
			commands.Escape(text) + "` in the message box."}
	}
	if reply.IsZero() {
		return
	}
	m := commands.Message{Text: reply.Text, Blocks: reply.Blocks, ThreadTS: ev.ThreadTimeStamp}
	if _, _, err := b.api.PostMessageContext(ctx, ev.Channel, msgOptions(m)...); err != nil { // a reply, not queued: slack-go retries a 429
		lg.Error("DM reply lost", "err", err)
	}
}

// dmCommandText is the /ops text of a DM: what was written, with a leading
// "/ops" dropped for those who type the command out in full.
func dmCommandText(text string) string {
	text = strings.TrimSpace(text)
	if len(text) >= 4 && strings.EqualFold(text[:4], "/ops") && (len(text) == 4 || text[4] == ' ' || text[4] == '\n' || text[4] == '\t') {
		text = strings.TrimSpace(text[4:])
	}
	return text
}
