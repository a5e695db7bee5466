package bot

import (
	"context"

	"github.com/slack-go/slack"
)

// deliveryEvent is the metadata event type that marks opsbot's queued posts.
const deliveryEvent = "opsbot_delivery"

// deliveryScan is how many recent messages FindPost reads in a channel
// (newest first): a retry follows its lost attempt within minutes, so the
// message, if it landed, is among the newest.
const deliveryScan = 100

// threadPages bounds the pages of a thread FindPost reads: replies come
// oldest first, so a lost line of a long thread is on a late page.
const threadPages = 20

// threadReplies reads a thread to its end (at most threadPages pages).
func (b *Bot) threadReplies(ctx context.Context, chID, threadTS string) ([]slack.Message, error) {
	var all []slack.Message
	params := &slack.GetConversationRepliesParameters{ChannelID: chID, Timestamp: threadTS, Limit: 200, IncludeAllMetadata: true}
	for range threadPages {
		msgs, more, next, err := b.outboxAPI.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return nil, err
		}
		all = append(all, msgs...)
		if !more || next == "" {
			break
		}
		params.Cursor = next
	}
	return all, nil
}

// recentPosts reads the thread threadTS of chID, or the channel's latest
// messages when threadTS is "".
func (b *Bot) recentPosts(ctx context.Context, chID, threadTS string) ([]slack.Message, error) {
	if threadTS != "" {
		return b.threadReplies(ctx, chID, threadTS)
	}
	h, err := b.outboxAPI.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: chID, Limit: deliveryScan, IncludeAllMetadata: true})
	if err != nil {
		return nil, err
	}
	return h.Messages, nil
}

// FindPost looks for a message posted earlier with DeliveryID id: in the
// thread threadTS when set (conversations.replies), else among the channel's
// newest messages (conversations.history). It returns the channel ID and
// the message ts, and found=false when no such message exists. A public channel opsbot
// posts to without being a member is joined to be read.
func (b *Bot) FindPost(ctx context.Context, channel, threadTS, id string) (channelID, ts string, found bool, err error) {
	if reUserID.MatchString(channel) { // a post to a user landed in their DM: history needs its ID
		dm, _, _, oerr := b.outboxAPI.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}})
		if oerr != nil {
			return "", "", false, classify("slack: conversations.open "+channel, oerr)
		}
		channel = dm.ID
	}
	err = b.withChannel(ctx, channel, func(chID string) error {
		msgs, lerr := b.recentPosts(ctx, chID, threadTS)
		if lerr != nil && isSlackError(lerr, "not_in_channel") {
			// opsbot posts to public channels it has not joined
			// (chat:write.public) but may not read them: join (the
			// channel is one it posts to anyway) and look again.
			if _, _, _, jerr := b.outboxAPI.JoinConversationContext(ctx, chID); jerr == nil {
				b.log.Info("joined a channel opsbot posts to, to check for an earlier post", "channel", chID)
				msgs, lerr = b.recentPosts(ctx, chID, threadTS)
			} else {
				b.log.Warn("cannot join the channel", "channel", chID, "err", jerr)
			}
		}
		if lerr != nil && (isSlackError(lerr, "not_in_channel") || isSlackError(lerr, "missing_scope")) {
			// Still unreadable (a private channel opsbot was removed
			// from, a scope withheld): post, and accept that a lost reply
			// there may show twice.
			b.log.Warn("cannot read the channel to check for an earlier post; posting again",
				"channel", chID, "delivery_id", id, "err", lerr)
			channelID = chID
			return nil
		}
		if lerr != nil {
			return lerr
		}
		for _, m := range msgs {
			if m.Metadata.EventType == deliveryEvent && m.Metadata.EventPayload["delivery_id"] == id {
				channelID, ts, found = chID, m.Timestamp, true
				return nil
			}
		}
		channelID = chID
		return nil
	})
	if err != nil {
		return "", "", false, classify("slack: look for delivery "+id+" in "+channel, err)
	}
	return channelID, ts, found, nil
}
