package store

import "encoding/json"

// Outbox kinds of change requests and of plain posts. The outbox worker
// (jobs) delivers them; commands queue them in the same transaction as the
// change they announce (UpdateChange, CreateChange), so a crash between the
// two cannot lose an announcement.
const (
	KindSlackPost     = "slack.post"     // a standalone message: PostPayload
	KindChangeMessage = "change.message" // post or update a request's one message: ChangeMessage
	KindChangeThread  = "change.thread"  // a line in that message's thread: ChangeThread
	KindGitHubComment = "github.comment" // a comment on the request's GitHub issue: GitHubComment
)

// PostPayload is a standalone message to a channel.
type PostPayload struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

// ChangeMessage is a request's one message as it was at a transition. The
// first delivery posts it and saves its ts with the request; later ones
// update it in place. Blocks are Slack Block Kit JSON.
type ChangeMessage struct {
	ID      string          `json:"id"`
	Channel string          `json:"channel"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
}

// ChangeThread is one history line under a request's message.
type ChangeThread struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// GitHubComment is a comment for a request's issue (its URL). The link to
// the request's Slack message is added at delivery, once it exists.
type GitHubComment struct {
	Issue    string `json:"issue"`
	ChangeID string `json:"change_id,omitempty"`
	Body     string `json:"body"`
}
