package bot

import (
	"context"
	"encoding/json"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// maxLinksPerEvent is the most links Slack puts in one link_shared event
// (https://docs.slack.dev/reference/events/link_shared); an event with more
// is not one Slack sent as documented and is dropped.
const maxLinksPerEvent = 5

// composerSource is link_shared's source for a link still being typed: its
// channel is "COMPOSER" and its message_ts a UUID, so only unfurl_id names it.
const composerSource = "composer"

// handleEvent runs one Events API envelope (already acked and de-duplicated
// by event_id). link_shared and messages to the bot (message.im) are served;
// other events are logged and ignored.
func (b *Bot) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent, h Handler) {
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.LinkSharedEvent:
		cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
		b.linkShared(ctx, cb, inner, h)
	case *slackevents.MessageEvent:
		b.directMessage(ctx, inner, h)
	case *slackevents.AppHomeOpenedEvent:
		if b.home == nil || inner.Tab != "home" || inner.User == "" {
			b.log.Debug("event ignored", "type", ev.Type, "event_type", ev.InnerEvent.Type, "tab", inner.Tab)
			return
		}
		b.home.Opened(ctx, inner.User)
	default:
		b.log.Debug("event ignored", "type", ev.Type, "event_type", ev.InnerEvent.Type)
	}
}

// linkShared asks the router for unfurls of the links in ev and sends them
// with chat.unfurl (https://docs.slack.dev/reference/methods/chat.unfurl).
// Failures are logged: an unfurl is a courtesy, nobody waits for it.
func (b *Bot) linkShared(ctx context.Context, cb *slackevents.EventsAPICallbackEvent, ev *slackevents.LinkSharedEvent, h Handler) {
	// slack-go v0.35's LinkSharedEvent lacks unfurl_id and source.
	var extra struct {
		UnfurlID string `json:"unfurl_id"`
		Source   string `json:"source"`
	}
	if cb != nil && cb.InnerEvent != nil {
		if err := json.Unmarshal(*cb.InnerEvent, &extra); err != nil {
			b.log.Warn("link_shared: unreadable event", "err", err)
			return
		}
	}
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	lg := b.log.With("event_id", eventID, "channel", ev.Channel, "source", extra.Source)
	switch {
	case b.selfID != "" && ev.User == b.selfID:
		lg.Debug("link_shared: the bot's own message ignored")
		return
	case len(ev.Links) == 0:
		lg.Debug("link_shared: no links")
		return
	case len(ev.Links) > maxLinksPerEvent:
		lg.Warn("link_shared: too many links; ignored", "links", len(ev.Links), "max", maxLinksPerEvent)
		return
	}
	links := make([]string, 0, len(ev.Links))
	for _, l := range ev.Links {
		links = append(links, l.URL)
	}
	unfurls := h.LinkShared(ctx, commands.LinkShared{User: commands.User{ID: ev.User}, ChannelID: ev.Channel,
		MessageTS: ev.MessageTimeStamp, UnfurlID: extra.UnfurlID, Source: extra.Source, Links: links})
	if len(unfurls) == 0 {
		lg.Debug("link_shared: nothing to unfurl", "links", len(links))
		return
	}
	var err error
	if extra.Source == composerSource {
		if extra.UnfurlID == "" {
			lg.Warn("link_shared: composer link without unfurl_id; not unfurled")
			return
		}
		_, _, _, err = b.api.UnfurlMessageByIDContext(ctx, extra.UnfurlID, extra.Source, unfurls)
	} else {
		_, _, _, err = b.api.UnfurlMessageContext(ctx, ev.Channel, ev.MessageTimeStamp, unfurls)
	}
	if err != nil {
		lg.Warn("chat.unfurl failed", "urls", len(unfurls), "err", err)
		return
	}
	lg.Debug("links unfurled", "urls", len(unfurls))
}

// ackUnparsed acks an envelope slack-go could not parse (an Events API event
// of a type it does not know, say): left unacked, Slack would re-send it.
// The frame itself is not logged: its payload carries the verification token.
func (b *Bot) ackUnparsed(evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		b.log.Warn("unreadable socket frame ignored", "err", bad.Cause)
		return
	}
	b.log.Warn("unparseable envelope acked and ignored", "envelope_id", env.EnvelopeID, "type", env.Type, "err", bad.Cause)
	if err := b.ackCtx(env.EnvelopeID, nil); err != nil {
		b.log.Warn("ack failed", "envelope_id", env.EnvelopeID, "err", err)
	}
}
