package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// TestRolesAreNotGrantedToBots: a bot or app user, and someone the
// workspace does not know, gets no role, by command or by form; nothing is
// stored or audited. Revoking still works (to clean up an old grant).
func TestRolesAreNotGrantedToBots(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, who := range []string{"<@UAPPBOT01>", "<@UGONE0001>"} {
		got := text(f.run(admin, "role grant "+who+" admin"))
		if !strings.Contains(got, ":warning:") || !strings.Contains(got, "/ops role grant @alice support") {
			t.Errorf("grant to %s: %s", who, got)
		}
	}
	if got := text(f.run(admin, "role grant <@UAPPBOT01> support")); !strings.Contains(got, "is a bot or an app, and roles are for people") {
		t.Errorf("grant to a bot: %s", got)
	}
	modal := f.run(admin, "role grant").Modal
	if modal == nil {
		t.Fatal("role grant opened no form")
	}
	res := f.r.Submit(ctx, commands.Submission{User: commands.User{ID: admin}, CallbackID: modal.CallbackID, PrivateMetadata: modal.PrivateMetadata,
		Values: map[string]map[string]slack.BlockAction{
			"role_user": {"value": {SelectedUser: "UAPPBOT01"}},
			"role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: "finance"}}},
		}})
	if !strings.Contains(res.Errors["role_user"], "That user is a bot or an app") {
		t.Errorf("form grant to a bot: %+v", res)
	}
	all, err := f.st.AllGrants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Fatalf("grants stored: %v", all)
	}
	if n := f.rdb.XLen(ctx, "opsbot:audit").Val(); n != 0 {
		t.Fatalf("%d audit entries for refused grants", n)
	}
	// People are unaffected.
	if got := text(f.run(admin, "role grant @alice support")); !strings.Contains(got, "is now *support*") {
		t.Fatalf("grant to a person: %s", got)
	}
}
