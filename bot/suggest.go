package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// maxOptionsPayload keeps an options ack under Slack's 20 KB frame limit
// (20,480 bytes, beyond which Slack drops the ack silently), leaving room for
// the envelope ID around the payload.
const maxOptionsPayload = 20*1024 - 256

// serveSuggestion answers a block_suggestion: the router's options go back
// in the ack, within SubmitAckBudget (Slack waits 3 s, then shows no
// options). Suggestions are reads, so redeliveries are answered again rather
// than de-duplicated.
func (b *Bot) serveSuggestion(ctx context.Context, a *envAck, cb slack.InteractionCallback, h Handler) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.SubmitAckBudget)
	defer cancel()
	done := make(chan []*slack.OptionBlockObject, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				b.logPanic(a.req, v)
				done <- nil
			}
		}()
		done <- h.Suggest(hctx, commands.Suggestion{
			User:       commands.User{ID: cb.User.ID, Name: cb.User.Name},
			CallbackID: cb.View.CallbackID, ViewID: cb.View.ID, PrivateMetadata: cb.View.PrivateMetadata,
			BlockID: cb.BlockID, ActionID: cb.ActionID, Value: cb.Value,
		})
	}()
	budget := time.NewTimer(b.cfg.SubmitAckBudget)
	defer budget.Stop()
	var opts []*slack.OptionBlockObject
	select {
	case opts = <-done:
	case <-budget.C:
		b.log.Warn("block suggestion exceeded the ack budget; answering with no options",
			"envelope_id", a.req.EnvelopeID, "block_id", cb.BlockID, "budget", b.cfg.SubmitAckBudget)
	}
	if err := a.send(optionsPayload(opts)); err != nil {
		b.log.Warn("options could not be sent", "envelope_id", a.req.EnvelopeID, "err", err)
	}
}

// optionsPayload is the ack payload for opts, dropping options from the end
// until it fits the frame limit (the person types more to narrow the list).
// An empty list is sent as such: omitted, Slack would show an error.
func optionsPayload(opts []*slack.OptionBlockObject) map[string]any {
	if opts == nil {
		opts = []*slack.OptionBlockObject{}
	}
	for {
		p := map[string]any{"options": opts}
		raw, err := json.Marshal(p)
		if err == nil && len(raw) <= maxOptionsPayload || len(opts) == 0 {
			return p
		}
		opts = opts[:len(opts)*9/10]
	}
}
