package commands

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/slack-go/slack"
)

// A client picker is an external_select: Slack asks for its options while
// the person types (a block_suggestion, answered in the ack), so the form
// works with any number of clients (a static_select carries at most 100
// options) and lists only the clients the person may see.

// Slack's limits on an options list and on an option's text.
const (
	maxPickerOptions = 100
	maxOptionText    = 75
)

// clientPickerBlocks are the block IDs of the client pickers; the router
// answers suggestions for these only.
var clientPickerBlocks = []string{blockChangeClient, blockRoleClient}

// Suggestion is someone typing into an external_select in a modal (Slack's
// block_suggestion). The modal's callback ID and sealed metadata come with
// it, as they do with a submission.
type Suggestion struct {
	User            User
	CallbackID      string
	ViewID          string
	PrivateMetadata string
	BlockID         string
	ActionID        string
	Value           string // what they typed so far
}

// clientPicker is the select element of a client picker; initial, when a
// known client, is pre-selected.
func (c *Call) clientPicker(placeholder, initial string) *slack.SelectBlockElement {
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain(placeholder), elemValue)
	minQuery := 0 // list the clients as soon as the menu opens
	sel.MinQueryLength = &minQuery
	if name, ok := c.r.deps.Clients[initial]; ok {
		sel.InitialOption = clientOption(initial, name)
	}
	return sel
}

// clientOption is one client in a picker: "Name (key)", valued by its key.
func clientOption(key, name string) *slack.OptionBlockObject {
	label := key
	if name != "" && name != key {
		label = name + " (" + key + ")"
	}
	return slack.NewOptionBlockObject(key, plain(truncate(label, maxOptionText)), nil)
}

// Suggest answers a block_suggestion with the options to show: for a client
// picker, the clients the person may see under the permission of the modal
// holding it, matching what they typed, at most 100. It is authorised like a
// submission (the seal proves the modal was opened for this person, the
// permission is checked now); anything refused or unknown gets no options.
func (r *Router) Suggest(ctx context.Context, s Suggestion) (opts []*slack.OptionBlockObject) {
	start := r.deps.Now()
	outcome := "ok"
	defer func() { r.deps.Metrics.Command("suggestion", s.BlockID, outcome, r.deps.Now().Sub(start)) }()
	var panicReply Reply
	defer func() {
		if !panicReply.IsZero() {
			opts = nil
		}
	}()
	defer r.recoverPanic(&panicReply, &outcome, "suggestion", s.User.ID, s.BlockID)

	rt, ok := r.modals[s.CallbackID]
	if !ok || !slices.Contains(clientPickerBlocks, s.BlockID) {
		outcome = "unknown"
		return nil
	}
	if _, _, err := unseal(r.deps.SigningKey, s.User.ID, s.CallbackID, s.PrivateMetadata, start); err != nil {
		outcome = "denied"
		r.log.Warn("suggestion refused", "user_id", s.User.ID, "callback_id", s.CallbackID, "err", err)
		return nil
	}
	p, err := r.principal(ctx, s.User.ID)
	if err != nil {
		outcome = "unavailable"
		r.log.Warn("suggestion: roles unavailable", "user_id", s.User.ID, "err", err)
		return nil
	}
	all, scoped := p.Scope(rt.Perm)
	if !all && len(scoped) == 0 {
		outcome = "denied"
		return nil
	}
	return clientOptions(r.deps.Clients, all, scoped, s.Value)
}

// clientOptions lists the clients visible (all, or those in scoped) whose
// key or name contains query (case-insensitively), by key, at most 100.
func clientOptions(clients map[string]string, all bool, scoped []string, query string) []*slack.OptionBlockObject {
	q := strings.ToLower(strings.TrimSpace(query))
	opts := []*slack.OptionBlockObject{}
	for _, k := range slices.Sorted(maps.Keys(clients)) {
		if !all && !slices.Contains(scoped, k) {
			continue
		}
		if q != "" && !strings.Contains(k, q) && !strings.Contains(strings.ToLower(clients[k]), q) {
			continue
		}
		if len(opts) == maxPickerOptions {
			break
		}
		opts = append(opts, clientOption(k, clients[k]))
	}
	return opts
}
