package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// maxAckBytes is the size at which Slack drops an ack frame (20 KB).
const maxAckBytes = 20 * 1024

// ackFrameOverhead bounds what the ack frame adds around its payload:
// {"envelope_id":"…","payload":…} with an envelope ID of Slack's length.
const ackFrameOverhead = 128

// serveCommand runs a slash command and answers it in its ack, as Slack
// allows a slash command (accepts_response_payload): one message on the
// socket instead of an ack and then an HTTPS post to the response_url. The
// ack waits at most CommandAckBudget for the dedup check and the router;
// past it the command is acked plain and its reply goes to the response_url
// as before, well within Slack's 3 s. Replies that cannot ride in an ack (a
// modal, one of 20 KB or more) take the usual way too.
func (b *Bot) serveCommand(ctx context.Context, a *envAck, cmd slack.SlashCommand, h Handler, sem chan struct{}) {
	budget := time.AfterFunc(b.cfg.CommandAckBudget, func() { a.send(nil) })
	defer budget.Stop()
	sem <- struct{}{}
	defer func() { <-sem }()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.HandlerTimeout)
	defer cancel()
	defer b.recoverPanic(a)
	hctx, first := b.firstSeenFor(hctx, dedupKey(a.req), cmd.UserID)
	if !first {
		a.send(nil)
		return
	}
	reply := h.Command(hctx, commands.Command{
		User:      commands.User{ID: cmd.UserID, Name: cmd.UserName},
		ChannelID: cmd.ChannelID, ChannelName: cmd.ChannelName,
		Text: cmd.Text, TriggerID: cmd.TriggerID,
	})
	if payload := ackReply(reply); payload != nil && a.sendFirst(payload) {
		return
	}
	a.send(nil) // no-op when the budget, or a refused payload, acked already
	b.deliver(hctx, reply, cmd.TriggerID, cmd.ResponseURL, cmd.ChannelID, cmd.UserID, "")
}

// ackReply is the reply as a slash command's ack payload, or nil when it
// cannot travel that way: nothing to say, a modal to open, a message to
// replace, or a payload whose frame Slack would drop for its size.
func ackReply(r commands.Reply) json.RawMessage {
	if r.IsZero() || r.Modal != nil || r.ReplaceOriginal {
		return nil
	}
	raw, err := json.Marshal(webhookMessage(r))
	if err != nil || len(raw)+ackFrameOverhead >= maxAckBytes {
		return nil
	}
	return raw
}

// webhookMessage is a reply as Slack takes it in an ack or at a
// response_url: ephemeral unless the reply is for the whole channel.
func webhookMessage(r commands.Reply) *slack.WebhookMessage {
	msg := &slack.WebhookMessage{Text: r.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: r.ReplaceOriginal}
	if r.InChannel {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(r.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: r.Blocks}
	}
	return msg
}
