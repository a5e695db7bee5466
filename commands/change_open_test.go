package commands_test

import (
	"strings"
	"testing"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// TestChangeOpenNamesItsChannel: the notice names the channel holding the
// request's message once: a link for an ID, the name for a #name (the
// console, or a name not resolved at start), never "##ops-support".
func TestChangeOpenNamesItsChannel(t *testing.T) {
	for _, tt := range []struct{ channel, want string }{
		{"C0SUPPORT", "its message in <#C0SUPPORT> shows"},
		{"#ops-support", "its message in #ops-support shows"},
	} {
		f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
			d.Now, d.Changes = changeNow, st
			d.ChangeSettings = commands.ChangeSettings{Channel: tt.channel}
		})
		f.grant(t, requester, store.Grant{Role: store.Engineer})
		v := func(s string) map[string]slack.BlockAction { return map[string]slack.BlockAction{"value": {Value: s}} }
		form := f.run(requester, "change").Modal
		if form == nil {
			t.Fatal("/ops change opened no form")
		}
		res := f.submit(requester, "change_open", form.PrivateMetadata, map[string]map[string]slack.BlockAction{
			"cr_client": {"value": {SelectedOption: slack.OptionBlockObject{Value: "acme"}}},
			"cr_title":  v("Checkout slow"), "cr_problem": v("Times out at 9am"),
		})
		if res.Notice == nil {
			t.Fatalf("%s: %+v", tt.channel, res)
		}
		if !strings.Contains(res.Notice.Text, tt.want) {
			t.Errorf("%s: notice %q, want %q in it", tt.channel, res.Notice.Text, tt.want)
		}
	}
}
