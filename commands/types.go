package commands

import (
	"context"

	"github.com/383project/opsbot/chat"
	"github.com/slack-go/slack"
)

// User is the person acting, as the transport identified them. The ID is the
// Slack user ID (or the console's local user); it is the only thing RBAC trusts.
type User struct {
	ID   string
	Name string
}

// Command is one `/ops ...` invocation.
type Command struct {
	User        User
	ChannelID   string
	ChannelName string
	Text        string // everything after "/ops"
	TriggerID   string // opens a modal; Slack lets it live about 3 s
}

// Action is a click on an interactive element (a button) in a message or modal.
type Action struct {
	User      User
	ActionID  string
	BlockID   string
	Value     string
	ChannelID string // channel of the message holding the element; "" inside a modal
	MessageTS string // ts of that message; "" inside a modal
	ViewID    string // set when the element sits in a modal
	TriggerID string
}

// Submission is a modal's submit button (Slack view_submission).
type Submission struct {
	User            User
	CallbackID      string
	ViewID          string
	PrivateMetadata string
	// Values is the modal state: block_id → action_id → element state
	// (Value, SelectedOption, SelectedUser, SelectedDate, ...).
	Values map[string]map[string]slack.BlockAction
}

// Reply is what a handler wants the person to see in answer to their action.
type Reply struct {
	Text   string // mrkdwn; also the notification fallback when Blocks are set
	Blocks []slack.Block
	// InChannel makes the reply visible to the whole channel; otherwise only
	// the caller sees it (ephemeral).
	InChannel bool
	// ReplaceOriginal, for an Action, updates the message holding the clicked
	// element in place instead of sending a new ephemeral message.
	ReplaceOriginal bool
	// Modal, when set, is opened with the interaction's trigger.
	Modal *slack.ModalViewRequest
}

// IsZero reports whether the reply says nothing (the transport then sends nothing).
func (r Reply) IsZero() bool {
	return r.Text == "" && len(r.Blocks) == 0 && r.Modal == nil
}

// SubmitResult is a modal submission's outcome. Errors (input block_id →
// message) keep the modal open and show the messages under the fields; an
// empty result closes it.
type SubmitResult struct {
	Errors map[string]string
	// Update replaces the open modal with this view (e.g. a confirmation page).
	Update *slack.ModalViewRequest
	// Notice is sent to the submitter as a direct message (modals have no channel).
	Notice *Reply
}

// Message is something the bot posts into a channel on its own behalf.
type Message = chat.Message

// Poster delivers the bot's own messages (the Slack transport and the console).
type Poster = chat.Poster

// Directory resolves people by the name typed after "@".
type Directory interface {
	// UserByName finds a user by handle or display name (without "@").
	// It returns ErrUnknownUser when nobody matches.
	UserByName(ctx context.Context, name string) (User, error)
	// IsBot reports whether userID is a bot or app user (opsbot itself
	// included). It returns ErrUnknownUser when there is no such user.
	IsBot(ctx context.Context, userID string) (bool, error)
}
