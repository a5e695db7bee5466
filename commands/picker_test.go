package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// manyClients is 150 clients: more than a static_select may list.
func manyClients() map[string]string {
	clients := map[string]string{}
	for i := range 150 {
		clients[fmt.Sprintf("client-%03d", i)] = fmt.Sprintf("Client number %03d", i)
	}
	return clients
}

func optionValues(opts []*slack.OptionBlockObject) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// The change form's client picker asks Slack for its options as the person
// types: the form stays valid with 150 clients, and Suggest answers with at
// most 100 matching ones, only for the person the form was opened for and
// only while they may still use it.
func TestClientPickerSuggestsClients(t *testing.T) {
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) { d.Changes, d.Clients = st, manyClients() })
	f.grant(t, requester, store.Grant{Role: store.Engineer})
	f.grant(t, "UOTHER0001", store.Grant{Role: store.Engineer})
	form := f.run(requester, "change").Modal
	if form == nil {
		t.Fatal("no form")
	}
	sel := form.Blocks.BlockSet[0].(*slack.InputBlock).Element.(*slack.SelectBlockElement)
	if sel.Type != slack.OptTypeExternal || len(sel.Options) != 0 || sel.MinQueryLength == nil || *sel.MinQueryLength != 0 {
		t.Fatalf("client picker = %+v", sel)
	}
	ctx := context.Background()
	suggest := func(user, value string) []string {
		opts := f.r.Suggest(ctx, commands.Suggestion{User: commands.User{ID: user}, CallbackID: "change_open",
			PrivateMetadata: form.PrivateMetadata, BlockID: "cr_client", ActionID: "value", Value: value})
		if err := slacktest.CheckMessage("x", []slack.Block{slack.NewInputBlock("b", slack.NewTextBlockObject("plain_text", "l", false, false), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "a", opts...))}); len(opts) > 0 && err != nil {
			t.Errorf("options Slack would refuse: %v", err)
		}
		return optionValues(opts)
	}
	if got := suggest(requester, ""); len(got) != 100 || got[0] != "client-000" || got[99] != "client-099" {
		t.Errorf("empty query: %d options %v…", len(got), got[:min(3, len(got))])
	}
	if got := suggest(requester, "14"); fmt.Sprint(got) != "[client-014 client-114 client-140 client-141 client-142 client-143 client-144 client-145 client-146 client-147 client-148 client-149]" {
		t.Errorf(`"14": %v`, got)
	}
	if got := suggest(requester, "NUMBER 007"); fmt.Sprint(got) != "[client-007]" {
		t.Errorf("by name: %v", got)
	}
	if got := suggest("UOTHER0001", ""); len(got) != 0 {
		t.Errorf("someone else's form answered: %v", got)
	}
	if _, err := f.st.Revoke(ctx, admin, requester, store.Grant{Role: store.Engineer}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := suggest(requester, ""); len(got) != 0 {
		t.Errorf("answered after the role was revoked: %v", got)
	}
}

// The role form's client picker, for an admin, lists every client.
func TestRoleFormClientPicker(t *testing.T) {
	f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) { d.Clients = manyClients() })
	form := f.run(admin, "role grant").Modal
	if form == nil {
		t.Fatal("no form")
	}
	opts := f.r.Suggest(context.Background(), commands.Suggestion{User: commands.User{ID: admin}, CallbackID: "role_grant",
		PrivateMetadata: form.PrivateMetadata, BlockID: "role_client", ActionID: "value", Value: "client-12"})
	if got := optionValues(opts); len(got) != 10 || got[0] != "client-120" || opts[0].Text.Text != "Client number 120 (client-120)" {
		t.Errorf("options %v", got)
	}
	if opts := f.r.Suggest(context.Background(), commands.Suggestion{User: commands.User{ID: admin}, CallbackID: "role_grant",
		PrivateMetadata: form.PrivateMetadata, BlockID: "role_role", Value: ""}); opts != nil {
		t.Errorf("a block that is no client picker got %d options", len(opts))
	}
}
