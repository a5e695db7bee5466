package console

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

var (
	errCancel = errors.New("console: modal cancelled")
	errEOF    = errors.New("console: input ended")
)

// field is one input block of a modal, as it is prompted.
type field struct {
	blockID, label, hint string
	optional             bool
	el                   slack.BlockElement
	// suggest lists an external_select's options for a query, as Slack's
	// block_suggestion does; nil for other elements.
	suggest func(query string) []*slack.OptionBlockObject
}

// modal runs a modal as prompts: it shows the view's title and text blocks,
// asks each input in order, submits, and follows the result. Errors print
// "  ✗ <label>: <msg>" and re-ask just those fields before submitting again
// (errors only for blocks not in the form print "  ✗ <msg>" and re-ask all);
// an Update shows the next view (asked in turn if it has inputs); a Notice is
// rendered like a reply. "cancel" at any prompt, or the end of input,
// abandons the modal without submitting.
func (c *Console) modal(ctx context.Context, h Handler, v *slack.ModalViewRequest) {
	viewID := c.nextID("view")
	for v != nil {
		c.showView(v)
		fields := inputs(v)
		c.attachSuggest(ctx, h, v, viewID, fields)
		if len(fields) == 0 {
			return
		}
		values := map[string]map[string]slack.BlockAction{}
		if !c.fill(ctx, fields, values) {
			return
		}
		for {
			sub := commands.Submission{
				User: c.acting(), CallbackID: v.CallbackID, ViewID: viewID,
				PrivateMetadata: v.PrivateMetadata, Values: cloneValues(values),
			}
			var res commands.SubmitResult
			if !c.safely(func() { res = h.Submit(ctx, sub) }) {
				return
			}
			if len(res.Errors) == 0 {
				if res.Notice != nil {
					n := *res.Notice
					n.Modal = nil // a notice is a message; it opens nothing
					c.reply(ctx, h, n)
				} else if res.Update == nil && c.interactive {
					c.say("  ✓ submitted")
				}
				v = res.Update
				break
			}
			bad := c.showErrors(fields, res.Errors)
			if len(bad) == 0 {
				// Errors only for blocks the form does not show: the
				// answers together are wrong, so ask them all again.
				bad = fields
			}
			if !c.fill(ctx, bad, values) {
				return
			}
		}
	}
}

// showView prints a view's title in caps and its non-input blocks, with
// buttons unnumbered (they cannot be pressed from a prompt).
func (c *Console) showView(v *slack.ModalViewRequest) {
	r := renderer{style: c.st}
	var lines []string
	if v.Title != nil && v.Title.Text != "" {
		lines = append(lines, r.bold(strings.ToUpper(v.Title.Text)))
	}
	for _, b := range v.Blocks.BlockSet {
		if s := r.block(b); s != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) > 0 {
		c.say(strings.Join(lines, "\n"))
	}
}

// inputs lists a view's input blocks in order. A block without an ID gets
// "input<n>", as Slack gives it a generated one.
func inputs(v *slack.ModalViewRequest) []field {
	var fs []field
	for i, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if val, isValue := b.(slack.InputBlock); isValue {
			in, ok = &val, true
		}
		if !ok || in.Element == nil {
			continue
		}
		f := field{blockID: in.BlockID, optional: in.Optional, el: in.Element}
		if f.blockID == "" {
			f.blockID = fmt.Sprintf("input%d", i)
		}
		if in.Label != nil {
			f.label = in.Label.Text
		}
		if in.Hint != nil {
			f.hint = in.Hint.Text
		}
		fs = append(fs, f)
	}
	return fs
}

// fill asks each field and stores its answer in values; false when the
// person cancelled (said so on Out) or input ended.
func (c *Console) fill(ctx context.Context, fields []field, values map[string]map[string]slack.BlockAction) bool {
	for _, f := range fields {
		a, err := c.ask(ctx, f)
		if errors.Is(err, errCancel) {
			c.say("cancelled")
		}
		if err != nil {
			return false
		}
		values[f.blockID] = map[string]slack.BlockAction{actionID(f.el): a}
	}
	return true
}

// ask prompts one field until it gets a valid answer. The label line is
// always printed; the hint, the choices and the default only interactively.
// An empty answer takes the element's initial value, is accepted empty for
// an optional field, and re-asks for a required one.
func (c *Console) ask(ctx context.Context, f field) (slack.BlockAction, error) {
	e := elemOf(f.el)
	if f.suggest != nil {
		e.options = f.suggest("")
	}
	label := f.label
	if f.optional {
		label += " (optional)"
	}
	for {
		lines := []string{label}
		if c.interactive {
			lines = append(lines, e.help(f.hint, c.st)...)
		}
		c.say(strings.Join(lines, "\n"))
		ans, ok := c.readLine(ctx, "> ", "> ")
		if !ok {
			return slack.BlockAction{}, errEOF
		}
		ans = strings.TrimSpace(ans)
		switch {
		case strings.EqualFold(ans, "cancel"):
			return slack.BlockAction{}, errCancel
		case ans == "" && e.def != nil:
			return *e.def, nil
		case ans == "" && f.optional:
			return slack.BlockAction{Type: slack.ActionType(e.typ)}, nil
		case ans == "":
			c.say("  ✗ " + f.label + ": required")
			continue
		}
		a, err := c.parse(ctx, e, ans)
		if err != nil && f.suggest != nil {
			a, err = narrow(e, f.suggest(ans), ans)
		}
		if err != nil {
			c.say("  ✗ " + f.label + ": " + err.Error())
			continue
		}
		return a, nil
	}
}

// showErrors prints a submission's errors in field order (then any for
// unknown blocks) and returns the fields to ask again.
func (c *Console) showErrors(fields []field, errs map[string]string) []field {
	var bad []field
	var lines []string
	seen := map[string]bool{}
	for _, f := range fields {
		if msg, ok := errs[f.blockID]; ok {
			bad = append(bad, f)
			seen[f.blockID] = true
			lines = append(lines, "  ✗ "+f.label+": "+c.st.mrkdwn(msg))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(errs)) {
		if !seen[id] { // a block ID means nothing to the person: the message alone
			lines = append(lines, "  ✗ "+c.st.mrkdwn(errs[id]))
		}
	}
	c.say(strings.Join(lines, "\n"))
	return bad
}

func cloneValues(v map[string]map[string]slack.BlockAction) map[string]map[string]slack.BlockAction {
	out := make(map[string]map[string]slack.BlockAction, len(v))
	for k, m := range v {
		out[k] = maps.Clone(m)
	}
	return out
}
