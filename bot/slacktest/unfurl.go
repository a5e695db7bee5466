package slacktest

import (
	"encoding/json"
	"fmt"
	"net/url"
)

// Unfurl is one chat.unfurl call the fake accepted. A posted message is
// named by Channel and TS; a link still in the message composer by UnfurlID
// and Source ("composer"). Unfurls is the "unfurls" argument: URL → attachment
// JSON, e.g. {"blocks":[...]}.
type Unfurl struct {
	Channel, TS, UnfurlID, Source string
	Unfurls                       map[string]json.RawMessage
}

// LinkSharedEvent is the inner event Slack sends when userID posts links in
// channelID (message messageTS): source "conversations_history", an unfurl_id
// derived from channel and ts, is_bot_user_member true and each link's domain
// taken from its URL. Edit the map for other forms, e.g. a link in the
// composer: "source": "composer", "channel": "COMPOSER" and a UUID message_ts.
func LinkSharedEvent(userID, channelID, messageTS string, links ...string) map[string]any {
	ls := make([]any, 0, len(links))
	for _, l := range links {
		domain := ""
		if u, err := url.Parse(l); err == nil {
			domain = u.Hostname()
		}
		ls = append(ls, map[string]any{"domain": domain, "url": l})
	}
	return map[string]any{
		"type": "link_shared", "user": userID, "channel": channelID, "is_bot_user_member": true,
		"message_ts": messageTS, "unfurl_id": fmt.Sprintf("%s.%s.unfurl", channelID, messageTS),
		"source": "conversations_history", "links": ls, "event_ts": messageTS,
	}
}

// LinkShared sends a link_shared event_callback built by LinkSharedEvent and
// returns its envelope ID and event_id (redeliver it with
// EventCallbackWithID).
func (s *Server) LinkShared(userID, channelID, messageTS string, links ...string) (envelopeID, eventID string) {
	return s.EventCallback(LinkSharedEvent(userID, channelID, messageTS, links...), 0)
}

// Unfurls returns the accepted chat.unfurl calls in arrival order.
func (s *Server) Unfurls() []Unfurl {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Unfurl(nil), s.unfurls...)
}

// chatUnfurl records an unfurl. As Slack requires, either channel and ts or
// unfurl_id and source must be given (else invalid_arguments), and unfurls
// must be a JSON object of URL → attachment (else invalid_unfurls_format).
func (s *Server) chatUnfurl(c Call) map[string]any {
	u := Unfurl{Channel: param(c, "channel"), TS: param(c, "ts"), UnfurlID: param(c, "unfurl_id"), Source: param(c, "source")}
	if (u.Channel == "" || u.TS == "") && (u.UnfurlID == "" || u.Source == "") {
		return apiErr("invalid_arguments")
	}
	if err := json.Unmarshal([]byte(param(c, "unfurls")), &u.Unfurls); err != nil || u.Unfurls == nil {
		return apiErr("invalid_unfurls_format")
	}
	s.unfurls = append(s.unfurls, u)
	return ok()
}
