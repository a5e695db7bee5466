package slacktest

import (
	"fmt"
	"time"
)

// DMChannel is the ID of userID's direct message with the bot, the same one
// conversations.open returns for that user.
func DMChannel(userID string) string { return "D" + userID }

// DirectMessageEvent is the message.im event Slack sends when userID writes
// text to the bot in their DM (https://docs.slack.dev/reference/events/message.im):
// channel DMChannel(userID), channel_type "im", a client_msg_id, ts as both
// ts and event_ts, and the text again as a rich_text block. text goes out as
// given, so pass it as Slack would: &, < and > as &amp; &lt; &gt;, mentions
// as <@U…>. Edit the map for the forms a bot must ignore: "subtype"
// (message_changed, file_share …), "bot_id", or the bot's own "user"; set
// "thread_ts" for a reply in a thread.
func DirectMessageEvent(userID, text, ts string) map[string]any {
	return map[string]any{
		"type": "message", "channel": DMChannel(userID), "channel_type": "im",
		"user": userID, "text": text, "ts": ts, "event_ts": ts, "team": TeamID,
		"client_msg_id": fmt.Sprintf("c1e47b6a-0000-4000-8000-%012s", ts[len(ts)-6:]),
		"blocks": []any{map[string]any{
			"type": "rich_text", "block_id": "dm" + ts[len(ts)-6:],
			"elements": []any{map[string]any{
				"type": "rich_text_section", "elements": []any{map[string]any{"type": "text", "text": text}},
			}},
		}},
	}
}

// DirectMessage sends a DirectMessageEvent from userID (ts: now) as an
// event_callback and returns its envelope ID, event_id and the message ts.
func (s *Server) DirectMessage(userID, text string) (envelopeID, eventID, ts string) {
	ts = slackTS(time.Now())
	envelopeID, eventID = s.EventCallback(DirectMessageEvent(userID, text, ts), 0)
	return envelopeID, eventID, ts
}

// AppHomeOpened sends an app_home_opened event: userID opened the app's
// Home tab. Returns the envelope ID and the event_id.
func (s *Server) AppHomeOpened(userID string) (envelopeID, eventID string) {
	return s.EventCallback(map[string]any{"type": "app_home_opened", "user": userID, "channel": "D" + userID[1:],
		"tab": "home", "event_ts": slackTS(time.Now())}, 0)
}

// HomeViews returns the views.publish calls made for userID, oldest first.
func (s *Server) HomeViews(userID string) []Call {
	var out []Call
	for _, c := range s.Calls("views.publish") {
		if param(c, "user_id") == userID {
			out = append(out, c)
		}
	}
	return out
}
