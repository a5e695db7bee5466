package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
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
		b.handleInteraction(ctx, data, h)
	case slackevents.EventsAPIEvent:
		b.handleEvent(ctx, data, h)
	default:
		b.log.Debug("envelope ignored", "type", evt.Type)
	}
}

func (b *Bot) handleInteraction(ctx context.Context, cb slack.InteractionCallback, h Handler) {
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
	default:
		b.log.Debug("interaction ignored", "type", cb.Type)
	}
}

// submitOutcome is what the router made of a view submission.
type submitOutcome struct {
	res       commands.SubmitResult
	duplicate bool   // a redelivery: already handled
	panicRef  string // set when the router panicked
}

// serveSubmission runs a view submission through the router and acks it with
// the result: validation errors, a view update, or a plain ack that closes the
// modal. The dedup check and the router get SubmitAckBudget; past it the
// modal is closed and the result follows as a DM, since Slack re-sends an
// envelope not acked within 3 s and the re-send would be dropped as a
// duplicate, closing the modal without the errors anyway.
func (b *Bot) serveSubmission(ctx context.Context, a *envAck, cb slack.InteractionCallback, h Handler) {
	budget := time.NewTimer(b.cfg.SubmitAckBudget)
	defer budget.Stop()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.HandlerTimeout)
	defer cancel()
	user := commands.User{ID: cb.User.ID, Name: cb.User.Name}
	if cb.View.State == nil {
		// Slack sends view.state with every submission; without it there is
		// nothing to read, so the form is closed and the user told.
		b.log.Warn("view submission without state refused", "envelope_id", a.req.EnvelopeID, "callback_id", cb.View.CallbackID)
		a.send(nil)
		if b.firstSeen(hctx, dedupKey(a.req)) {
			b.dm(hctx, user.ID, commands.Message{Text: ":warning: Your form reached me without its fields, so nothing was saved. Please open it again and resubmit."})
		}
		return
	}
	done := make(chan submitOutcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- submitOutcome{panicRef: b.logPanic(a.req, v)}
			}
		}()
		if !b.firstSeen(hctx, dedupKey(a.req)) {
			done <- submitOutcome{duplicate: true}
			return
		}
		done <- submitOutcome{res: h.Submit(hctx, commands.Submission{User: user, CallbackID: cb.View.CallbackID, ViewID: cb.View.ID,
			PrivateMetadata: cb.View.PrivateMetadata, Values: cb.View.State.Values})}
	}()

	var out submitOutcome
	late := false
	select {
	case out = <-done:
	case <-budget.C:
		late = true
		b.log.Warn("view submission exceeded the ack budget; closing the modal", "envelope_id", a.req.EnvelopeID,
			"callback_id", cb.View.CallbackID, "budget", b.cfg.SubmitAckBudget)
		a.send(nil)
		out = <-done
	}
	switch {
	case out.duplicate:
		a.send(nil)
		return
	case out.panicRef != "":
		a.send(nil)
		b.dm(hctx, user.ID, commands.Message{Text: fmt.Sprintf(":x: Something went wrong with your form; it was not saved. (ref %s)", out.panicRef)})
		return
	}
	res := out.res
	if late {
		if len(res.Errors) > 0 {
			b.dm(hctx, user.ID, commands.Message{Text: formErrorsText(res.Errors)})
		} else if res.Notice != nil {
			b.dm(hctx, user.ID, commands.Message{Text: res.Notice.Text, Blocks: res.Notice.Blocks})
		}
		return
	}
	var payload any
	switch {
	case len(res.Errors) > 0:
		payload = slack.NewErrorsViewSubmissionResponse(res.Errors)
	case res.Update != nil:
		payload = slack.NewUpdateViewSubmissionResponse(res.Update)
	}
	if err := a.send(payload); err != nil {
		// The modal closed without the answer meant for it.
		ref := newRef()
		b.log.Error("view submission response could not be sent", "ref", ref, "envelope_id", a.req.EnvelopeID,
			"callback_id", cb.View.CallbackID, "err", err)
		msg := fmt.Sprintf(":x: Something went wrong showing the result of your form. (ref %s)", ref)
		if len(res.Errors) > 0 {
			msg = formErrorsText(res.Errors) + fmt.Sprintf(" (ref %s)", ref)
		}
		b.dm(hctx, user.ID, commands.Message{Text: msg})
	}
	if res.Notice != nil {
		// Modals have no channel: the bot's DM with the user holds the notice.
		b.dm(hctx, user.ID, commands.Message{Text: res.Notice.Text, Blocks: res.Notice.Blocks})
	}
}

// formErrorsText renders validation errors for a modal that is already closed.
func formErrorsText(errs map[string]string) string {
	fields := make([]string, 0, len(errs))
	for _, f := range slices.Sorted(maps.Keys(errs)) {
		fields = append(fields, f+": "+errs[f])
	}
	return ":warning: Your form could not be saved: " + strings.Join(fields, "; ") + ". Please open it again."
}

// dm posts to the user's DM with the bot (slack-go retrying a 429 itself:
// this reply is not queued), logging a failure.
func (b *Bot) dm(ctx context.Context, userID string, m commands.Message) {
	if _, _, err := b.api.PostMessageContext(ctx, userID, msgOptions(m)...); err != nil {
		b.log.Warn("post submission DM", "user_id", userID, "err", err)
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
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.cfg.HTTPClient, webhookMessage(r)); err != nil {
		// The URL is a short-lived capability: name only its host. net/http
		// errors quote the whole URL, so keep just their cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("slack: response_url on %s: %w", u.Host, err)
	}
	return nil
}

// recoverPanic is the last line of defence around a worker (the router has
// its own): the log gets the stack and a ref, and the envelope its ack if it
// has none yet (acks are once-only, so one already sent is not repeated).
func (b *Bot) recoverPanic(a *envAck) {
	v := recover()
	if v == nil {
		return
	}
	b.logPanic(a.req, v)
	a.send(nil)
}

// logPanic logs a recovered panic with its stack and returns the ref logged.
func (b *Bot) logPanic(req *socketmode.Request, v any) string {
	ref := newRef()
	b.log.Error("envelope handler panicked", "ref", ref, "envelope_id", req.EnvelopeID,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return ref
}

// newRef is a short random ID tying what a user is told to a log line.
func newRef() string {
	var ref [4]byte
	_, _ = rand.Read(ref[:])
	return hex.EncodeToString(ref[:])
}
