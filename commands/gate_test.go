package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Every role (and no role) against every verb, button and modal of the route
// table. A cell must be allowed exactly when the role carries the route's
// permission; a denied cell must leave Redis untouched.
func TestRolesByVerbsMatrix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const bob = "UBOB000001"

	// A genuine role_grant modal opened by an admin, to be replayed by others.
	adminModal := f.run(admin, "role grant").Modal
	if adminModal == nil || adminModal.CallbackID != "role_grant" {
		t.Fatalf("role grant without args should open the modal, got %+v", adminModal)
	}
	values := map[string]map[string]slack.BlockAction{
		"role_user": {"value": {SelectedUser: bob}},
		"role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: "support"}}},
	}

	cells := []struct {
		name  string
		perm  store.Permission
		do    func(user string) (text string)
		wrote func() bool // did the attempt change state?
	}{
		{"help", store.PermPublic, func(u string) string { return text(f.run(u, "help")) }, nil},
		{"whoami", store.PermPublic, func(u string) string { return text(f.run(u, "whoami")) }, nil},
		{"role list", store.PermRoleManage, func(u string) string { return text(f.run(u, "role list")) }, nil},
		{"audit", store.PermAuditRead, func(u string) string { return text(f.run(u, "audit")) }, nil},
		{"role grant", store.PermRoleManage, func(u string) string { return text(f.run(u, "role grant @bob support")) }, bobIsSupport(f)},
		{"button role_undo (forged)", store.PermRoleManage, func(u string) string {
			f.grant(t, bob, store.Grant{Role: store.Support})
			r := f.r.Action(ctx, commands.Action{User: commands.User{ID: u}, ActionID: "role_undo", Value: bob + "|support|", ChannelID: "C1", MessageTS: "1.2"})
			return r.Text
		}, func() bool { return !bobIsSupport(f)() }},
		{"modal role_grant (replayed admin form)", store.PermRoleManage, func(u string) string {
			res := f.r.Submit(ctx, commands.Submission{User: commands.User{ID: u}, CallbackID: "role_grant", PrivateMetadata: adminModal.PrivateMetadata, Values: values})
			return noticeText(res)
		}, bobIsSupport(f)},
	}
	users := map[string]store.Grant{
		"UNOROLE001": {},
		"USUPPORT01": {Role: store.Support},
		"UENGINEER1": {Role: store.Engineer},
		"UFINANCE01": {Role: store.Finance},
		"USTAKE0001": {Role: store.Stakeholder, Client: "acme"},
		"USECURITY1": {Role: store.Security},
	}
	for user, g := range users {
		if g.Role != "" {
			f.grant(t, user, g)
		}
		for _, cell := range cells {
			f.rdb.Del(ctx, "opsbot:roles:"+bob)
			got := cell.do(user)
			wantAllowed := g.Role.Has(cell.perm) || cell.perm == store.PermPublic
			isDenied := strings.Contains(got, ":no_entry:")
			if isDenied == wantAllowed {
				t.Errorf("%s (%s) → %q; allowed=%v", cell.name, g, got, wantAllowed)
			}
			if !wantAllowed && cell.wrote != nil && cell.wrote() {
				t.Errorf("%s (%s) was denied but changed state", cell.name, g)
			}
		}
	}
}

func bobIsSupport(f *fixture) func() bool {
	return func() bool {
		roles, _ := f.st.Roles(context.Background(), "UBOB000001")
		return len(roles) == 1 && roles[0].Role == store.Support
	}
}

func noticeText(res commands.SubmitResult) string {
	if res.Notice == nil {
		return ""
	}
	return text(*res.Notice)
}

func TestModalIsAuthorisedAgainAtSubmission(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const alice = "UALICE0001"
	f.grant(t, alice, store.Grant{Role: store.Admin})
	modal := f.run(alice, "role grant").Modal
	values := map[string]map[string]slack.BlockAction{
		"role_user": {"value": {SelectedUser: "UBOB000001"}},
		"role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: "finance"}}},
	}
	sub := commands.Submission{User: commands.User{ID: alice}, CallbackID: "role_grant", PrivateMetadata: modal.PrivateMetadata, Values: values}

	// Alice loses admin while the form is open: the submission is refused.
	if _, err := f.st.Revoke(ctx, admin, alice, store.Grant{Role: store.Admin}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := noticeText(checkSubmit(t, "role_grant", f.r.Submit(ctx, sub))); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("submission after demotion: %q", got)
	}
	// Restored, the same form goes through; validation errors stay in the form.
	f.grant(t, alice, store.Grant{Role: store.Admin})
	bad := sub
	bad.Values = map[string]map[string]slack.BlockAction{"role_user": {"value": {SelectedUser: "UBOB000001"}}, "role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: "stakeholder"}}}}
	if res := f.r.Submit(ctx, bad); res.Errors["role_client"] == "" {
		t.Fatalf("stakeholder without client should be a field error, got %+v", res)
	}
	if got := noticeText(checkSubmit(t, "role_grant", f.r.Submit(ctx, sub))); !strings.Contains(got, "is now *finance*") {
		t.Fatalf("valid submission: %q", got)
	}
	// Tampered metadata and a submission by someone else are refused.
	tampered := sub
	tampered.PrivateMetadata = "9999999999.AAAA.x"
	if got := noticeText(checkSubmit(t, "role_grant", f.r.Submit(ctx, tampered))); !strings.Contains(got, "not opened for you") {
		t.Fatalf("tampered: %q", got)
	}
	other := sub
	other.User = commands.User{ID: admin}
	if got := noticeText(checkSubmit(t, "role_grant", f.r.Submit(ctx, other))); !strings.Contains(got, "not opened for you") {
		t.Fatalf("other user: %q", got)
	}
}
