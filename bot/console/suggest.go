package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

// attachSuggest gives each external_select of v a way to list its options
// through the handler, as Slack asks with block_suggestion: the prompt shows
// the list for an empty query (the clients this user may see), and an answer
// that is not in it is looked up as a query.
func (c *Console) attachSuggest(ctx context.Context, h Handler, v *slack.ModalViewRequest, viewID string, fields []field) {
	for i := range fields {
		f := &fields[i]
		if t := elemOf(f.el).typ; t != "external_select" && t != "multi_external_select" {
			continue
		}
		s := commands.Suggestion{User: c.acting(), CallbackID: v.CallbackID, ViewID: viewID,
			PrivateMetadata: v.PrivateMetadata, BlockID: f.blockID, ActionID: actionID(f.el)}
		f.suggest = func(query string) []*slack.OptionBlockObject {
			s.Value = query
			var opts []*slack.OptionBlockObject
			c.safely(func() { opts = h.Suggest(ctx, s) })
			return opts
		}
	}
}

// narrow picks the one option matching a typed query, or says why not.
func narrow(e elem, matches []*slack.OptionBlockObject, ans string) (slack.BlockAction, error) {
	switch len(matches) {
	case 1:
		return slack.BlockAction{Type: slack.ActionType(e.typ), SelectedOption: *matches[0]}, nil
	case 0:
		return slack.BlockAction{}, fmt.Errorf("%q matches none of the choices", ans)
	}
	names := make([]string, 0, 5)
	for _, o := range matches[:min(5, len(matches))] {
		names = append(names, optionText(o))
	}
	more := ""
	if len(matches) > 5 {
		more = ", …"
	}
	return slack.BlockAction{}, fmt.Errorf("%q matches %d choices (%s%s); type more of it", ans, len(matches), strings.Join(names, ", "), more)
}
