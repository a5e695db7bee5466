package console

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

// pickerHandler opens a form with one external_select whose options come
// from Suggest: the clients containing the query, as the router answers.
func pickerHandler() *fakeHandler {
	clients := []*slack.OptionBlockObject{opt("acme", "Acme Ltd (acme)"), opt("acorn", "Acorn (acorn)"), opt("beta", "Beta (beta)")}
	return &fakeHandler{
		command: func(commands.Command) commands.Reply {
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, txt(slack.PlainTextType, "Type to find the client"), "value")
			return commands.Reply{Modal: &slack.ModalViewRequest{Type: slack.VTModal, CallbackID: "change_open", PrivateMetadata: "sealed",
				Title: txt(slack.PlainTextType, "Pick"), Submit: txt(slack.PlainTextType, "Go"),
				Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("cr_client", txt(slack.PlainTextType, "Client"), nil, sel)}}}}
		},
		suggest: func(s commands.Suggestion) []*slack.OptionBlockObject {
			var out []*slack.OptionBlockObject
			for _, o := range clients {
				if strings.Contains(o.Value, s.Value) {
					out = append(out, o)
				}
			}
			return out
		},
	}
}

// The console lists an external_select's options from Suggest, takes a
// number, and looks a typed word up as a query when it is not in the list.
func TestExternalSelectAsksSuggest(t *testing.T) {
	for _, tc := range []struct{ answers, want, out string }{
		{"2\n", "acorn", ""},
		{"be\n", "beta", ""},
		{"ac\nacm\n", "acme", `"ac" matches 2 choices (Acme Ltd (acme), Acorn (acorn)); type more of it`},
		{"zzz\nbeta\n", "beta", `"zzz" matches none of the choices`},
	} {
		h := pickerHandler()
		out := run(t, "/ops change\n"+tc.answers, h)
		if len(h.submits) != 1 {
			t.Fatalf("%q: %d submits\n%s", tc.answers, len(h.submits), out)
		}
		if got := h.submits[0].Values["cr_client"]["value"]; got.SelectedOption.Value != tc.want || got.Type != "external_select" {
			t.Errorf("%q: picked %+v, want %s", tc.answers, got, tc.want)
		}
		if !strings.Contains(out, tc.out) {
			t.Errorf("%q: output lacks %q:\n%s", tc.answers, tc.out, out)
		}
		s := h.suggests[0]
		if s.CallbackID != "change_open" || s.PrivateMetadata != "sealed" || s.BlockID != "cr_client" || s.ActionID != "value" || s.User != admin || s.Value != "" {
			t.Errorf("first suggestion %+v", s)
		}
	}
}

// Interactively, the prompt shows the numbered list Suggest returned.
func TestExternalSelectListsChoices(t *testing.T) {
	var out bytes.Buffer
	c := New(Options{In: strings.NewReader("/ops change\n3\n"), Out: &out, User: admin, Interactive: true})
	if err := c.Run(context.Background(), pickerHandler()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1. Acme Ltd (acme)", "2. Acorn (acorn)", "3. Beta (beta)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("prompt lacks %q:\n%s", want, out.String())
		}
	}
}
