package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"runtime/debug"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// handle runs one envelope through the router and delivers the outcome.
func (b *Bot) handle(ctx context.Context, evt socketmode.Event, h Handler) {
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		reply := h.Command(ctx, commands.Command{
			User:      commands.User{ID: data.UserID, Name: data.UserName},
			ChannelID: data.ChannelID, ChannelName: data.ChannelName,
			Text: data.Text, TriggerID: data.TriggerID,
		})
		b.deliver(ctx, reply, data.TriggerID, data.ResponseURL, data.ChannelID, data.UserID, "")
	case slack.InteractionCallback:
		b.handleInteraction(ctx, evt.Request, data, h)
	default:
		b.log.Debug("envelope ignored", "type", evt.Type)
	}
}

func (b *Bot) handleInteraction(ctx context.Context, req *socketmode.Request, cb slack.InteractionCallback, h Handler) {
	user := commands.User{ID: cb.User.ID, Name: cb.User.Name}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range cb.ActionCallback.BlockActions {
			a := commands.Action{User: user, ActionID: act.ActionID, BlockID: act.BlockID, Value: act.Value,
				ChannelID: cb.Container.ChannelID, MessageTS: cb.Container.MessageTs, ViewID: cb.View.ID, TriggerID: cb.TriggerID}
			if a.ChannelID == "" {
				a.ChannelID = cb.Channel.ID
			}
			reply := h.Action(ctx, a)
			ts := ""
			if reply.ReplaceOriginal && !cb.Container.IsEphemeral {
				ts = a.MessageTS
			}
			b.deliver(ctx, reply, cb.TriggerID, cb.ResponseURL, a.ChannelID, user.ID, ts)
		}
	case slack.InteractionTypeViewSubmission:
		res := h.Submit(ctx, commands.Submission{User: user, CallbackID: cb.View.CallbackID, ViewID: cb.View.ID,
			PrivateMetadata: cb.View.PrivateMetadata, Values: cb.View.State.Values})
		switch {
		case len(res.Errors) > 0:
			b.ack(req, slack.NewErrorsViewSubmissionResponse(res.Errors))
		case res.Update != nil:
			b.ack(req, slack.NewUpdateViewSubmissionResponse(res.Update))
		default:
			b.ack(req, nil)
		}
		if res.Notice != nil {
			// Modals have no channel: the bot's DM with the user holds the notice.
			if _, err := b.Post(ctx, user.ID, commands.Message{Text: res.Notice.Text, Blocks: res.Notice.Blocks}); err != nil {
				b.log.Warn("post submission notice", "user_id", user.ID, "err", err)
			}
		}
	default:
		b.log.Debug("interaction ignored", "type", cb.Type)
	}
}

// deliver sends a reply the way Slack expects for where it came from: a modal
// through views.open, an in-place update through chat.update (messageTS set),
// anything else through the response_url, or chat.postEphemeral without one.
func (b *Bot) deliver(ctx context.Context, r commands.Reply, triggerID, responseURL, channel, userID, messageTS string) {
	if r.Modal != nil {
		if _, err := b.api.OpenViewContext(ctx, triggerID, *r.Modal); err != nil {
			b.log.Warn("views.open failed", "callback_id", r.Modal.CallbackID, "err", err)
			r = commands.Reply{Text: ":hourglass: Slack closed the window for opening the form before I could. Please run the command again."}
		} else if r.Text == "" && len(r.Blocks) == 0 {
			return
		}
	}
	if r.IsZero() {
		return
	}
	if messageTS != "" {
		if err := b.Update(ctx, channel, messageTS, commands.Message{Text: r.Text, Blocks: r.Blocks}); err == nil {
			return
		} else {
			b.log.Warn("chat.update failed; replying instead", "channel", channel, "err", err)
		}
	}
	if err := b.respond(ctx, responseURL, r); err == nil {
		return
	} else if responseURL != "" {
		b.log.Warn("response_url failed; falling back to chat.postEphemeral", "err", err)
	}
	if err := b.Ephemeral(ctx, channel, userID, commands.Message{Text: r.Text, Blocks: r.Blocks}); err != nil {
		b.log.Error("reply lost", "channel", channel, "user_id", userID, "err", err)
	}
}

// respond posts to a response_url, which arrives inside the payload: it is
// only followed when it points at Slack's hooks host (or the configured API
// host, for proxies and tests), so a forged payload cannot aim us elsewhere.
func (b *Bot) respond(ctx context.Context, responseURL string, r commands.Reply) error {
	u, err := url.Parse(responseURL)
	if err != nil || responseURL == "" || !b.hooksHost[u.Host] || (u.Scheme != "https" && u.Host == "hooks.slack.com") {
		return errBadResponseURL
	}
	msg := &slack.WebhookMessage{Text: r.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: r.ReplaceOriginal}
	if r.InChannel {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(r.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: r.Blocks}
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.cfg.HTTPClient, msg); err != nil {
		return fmt.Errorf("slack: response_url: %w", err)
	}
	return nil
}

// recoverPanic is the last line of defence around a worker (the router has
// its own): the user still gets a ref and the log the stack.
func (b *Bot) recoverPanic(req *socketmode.Request, isSubmission bool) {
	v := recover()
	if v == nil {
		return
	}
	var ref [4]byte
	_, _ = rand.Read(ref[:])
	b.log.Error("envelope handler panicked", "ref", hex.EncodeToString(ref[:]), "envelope_id", req.EnvelopeID,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if isSubmission {
		b.ack(req, nil)
	}
}
