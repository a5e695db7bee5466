package commands_test

import (
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// TestRoleGrantFormErrorsAreUnderItsFields: with no clients configured the
// form has no client field, so choosing stakeholder is answered under the
// role (Slack refuses errors for blocks the view does not have, and the
// console could only close the form); with clients, under the client.
func TestRoleGrantFormErrorsAreUnderItsFields(t *testing.T) {
	for _, tt := range []struct {
		clients   map[string]string
		wantBlock string
		wantText  string
	}{
		{nil, "role_role", "no clients are configured"},
		{map[string]string{"acme": "Acme"}, "role_client", "pick one"},
	} {
		f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) { d.Clients = tt.clients })
		form := f.run(admin, "role grant").Modal
		blocks := map[string]bool{}
		for _, b := range form.Blocks.BlockSet {
			if in, ok := b.(*slack.InputBlock); ok {
				blocks[in.BlockID] = true
			}
		}
		res := f.submit(admin, "role_grant", form.PrivateMetadata, map[string]map[string]slack.BlockAction{
			"role_user": {"value": {SelectedUser: "UBOB000001"}},
			"role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: "stakeholder"}}},
		})
		for id := range res.Errors {
			if !blocks[id] {
				t.Errorf("%d clients: error under %q, a block the form does not have: %+v", len(tt.clients), id, res.Errors)
			}
		}
		if msg := res.Errors[tt.wantBlock]; !strings.Contains(msg, tt.wantText) {
			t.Errorf("%d clients: errors %+v, want %q under %s", len(tt.clients), res.Errors, tt.wantText, tt.wantBlock)
		}
	}
}
