package commands

import (
	"context"
	"strings"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// IDs of the role modal and buttons; Slack echoes them back, and the route
// table maps them to handlers and permissions.
const (
	callbackRoleGrant = "role_grant"
	actionRoleUndo    = "role_undo"

	blockRoleUser   = "role_user"
	blockRoleRole   = "role_role"
	blockRoleClient = "role_client"
	elemValue       = "value"
)

// roleGrantModal is the form `/ops role grant` opens when given no arguments.
func roleGrantModal(c *Call) *slack.ModalViewRequest {
	roleOpts := make([]*slack.OptionBlockObject, 0, len(store.Roles))
	for _, r := range store.Roles {
		roleOpts = append(roleOpts, slack.NewOptionBlockObject(string(r), slack.NewTextBlockObject(slack.PlainTextType, string(r), false, false), nil))
	}
	user := slack.NewInputBlock(blockRoleUser, plain("Person"), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Pick someone"), elemValue))
	role := slack.NewInputBlock(blockRoleRole, plain("Role"), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick a role"), elemValue, roleOpts...))
	blocks := []slack.Block{user, role}
	if len(c.r.deps.Clients) > 0 {
		client := slack.NewInputBlock(blockRoleClient, plain("Client (stakeholders only)"), plain("A stakeholder sees and approves for this client only."),
			c.clientPicker("Type to find the client", ""))
		client.Optional = true
		blocks = append(blocks, client)
	}
	return &slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackRoleGrant,
		Title: plain("Grant a role"), Submit: plain("Grant"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// submitRoleGrant validates the form; errors go back under the fields.
func submitRoleGrant(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	v := func(block string) slack.BlockAction { return s.Values[block][elemValue] }
	target := v(blockRoleUser).SelectedUser
	role := store.Role(v(blockRoleRole).SelectedOption.Value)
	client := v(blockRoleClient).SelectedOption.Value
	errs := map[string]string{}
	if !bareUserID.MatchString(target) && !mentionForm.MatchString("<@"+target+">") {
		errs[blockRoleUser] = "Pick the person to grant the role to."
	}
	if !role.Valid() {
		errs[blockRoleRole] = "Pick one of the listed roles."
	}
	switch {
	case role == store.Stakeholder && len(c.r.deps.Clients) == 0:
		// The form has no client field then: an error under it could not
		// be shown (Slack refuses errors for blocks not in the view).
		errs[blockRoleRole] = "A stakeholder is given per client, and no clients are configured: add one under clients: in the config file, or pick another role."
	case role == store.Stakeholder && client == "":
		errs[blockRoleClient] = "A stakeholder is given per client: pick one."
	case role != store.Stakeholder && client != "":
		errs[blockRoleClient] = "Only stakeholders are given per client; clear this field."
	case client != "":
		if _, ok := c.r.deps.Clients[client]; !ok {
			errs[blockRoleClient] = "Pick one of the listed clients."
		}
	}
	if _, bad := errs[blockRoleUser]; !bad {
		why, err := c.botRefusal(ctx, target)
		if err != nil {
			return SubmitResult{}, err
		}
		if why != "" {
			errs[blockRoleUser] = "That user " + why
		}
	}
	if len(errs) > 0 {
		return SubmitResult{Errors: errs}, nil
	}
	c.Args = []string{"grant", "<@" + target + ">", string(role)}
	if client != "" {
		c.Args = append(c.Args, client)
	}
	reply, err := changeRole(ctx, c, true)
	if err != nil {
		return SubmitResult{}, err
	}
	return SubmitResult{Notice: &reply}, nil
}

// undoValue encodes a grant for the Undo button: "U123|stakeholder|acme".
func undoValue(target string, g store.Grant) string {
	return target + "|" + string(g.Role) + "|" + g.Client
}

// runRoleUndo revokes a grant just made. The value comes from the client and
// may be forged, so it is parsed and validated like typed input, and the
// gate has already required admin.
func runRoleUndo(ctx context.Context, c *Call, a Action) (Reply, error) {
	parts := strings.Split(a.Value, "|")
	if len(parts) != 3 || !bareUserID.MatchString(parts[0]) && !mentionForm.MatchString("<@"+parts[0]+">") {
		return Reply{}, userErrorf("/ops role revoke @alice support", "That button is malformed; use the command instead.")
	}
	g := store.Grant{Role: store.Role(parts[1]), Client: parts[2]}
	if err := g.Validate(); err != nil {
		return Reply{}, userErrorf("/ops role revoke @alice support", "That button is malformed; use the command instead.")
	}
	c.Args = []string{"revoke", "<@" + parts[0] + ">", string(g.Role)}
	if g.Client != "" {
		c.Args = append(c.Args, g.Client)
	}
	reply, err := changeRole(ctx, c, false)
	if err != nil {
		return Reply{}, err
	}
	reply.ReplaceOriginal = a.MessageTS != "" || a.ChannelID != ""
	reply.Text += " (undone by " + mention(c.User.ID) + ")"
	return reply, nil
}

// undoBlocks is the grant confirmation with an Undo button.
func undoBlocks(text, target string, g store.Grant) []slack.Block {
	btn := slack.NewButtonBlockElement(actionRoleUndo, undoValue(target, g), plain("Undo"))
	btn.Style = slack.StyleDanger
	btn.Confirm = slack.NewConfirmationBlockObject(plain("Undo this grant?"),
		mrkdwn("Revoke *"+string(g.Role)+"* from "+mention(target)+" again?"), plain("Revoke"), plain("Keep"))
	return []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil),
		slack.NewActionBlock("role_actions", btn),
	}
}
