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
	KindGitHubComment = "github.comment" // the request's status comment on its GitHub issue: GitHubComment
	KindChangeNotice  = "change.notice"  // a message with buttons (an approval request in a DM): ChangeNotice
	// KindSlackEphemeral is a message only one person sees: EphemeralPayload.
	// A background step's refusal goes to the person who clicked, as the
	// click's own refusal would.
	KindSlackEphemeral = "slack.ephemeral"
)

// PostPayload is a standalone message to a channel.
type PostPayload struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

// EphemeralPayload is a message shown to User alone in Channel.
type EphemeralPayload struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
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

// ChangeNotice is a standalone message with blocks, e.g. the approval
// request in a stakeholder's or finance person's DM with its Approve and
// Reject buttons.
type ChangeNotice struct {
	Channel string          `json:"channel"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
}

// GitHubComment is the full body of a request's one status comment on its
// issue (its URL), edited in place at each delivery. The link to the
// request's Slack message is added at delivery, once it exists.
type GitHubComment struct {
	Issue    string `json:"issue"`
	ChangeID string `json:"change_id,omitempty"`
	Body     string `json:"body"`
}
