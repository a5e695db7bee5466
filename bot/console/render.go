package console

import (
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// divider is how a Block Kit divider looks in the terminal.
var divider = strings.Repeat("─", 40)

// pressable is one thing a person can click in a message: a button, or one
// option of an overflow menu or static select.
type pressable struct {
	label, actionID, blockID, value, url string
	confirm                              *slack.ConfirmationBlockObject
}

// renderer turns Block Kit into terminal text (UX.md): headers in caps,
// sections as paragraphs, fields as "label: value", context indented (and
// dim), dividers as a rule, images as "[image: alt] url", buttons as "[n] Label",
// tables as padded columns (table.go).
type renderer struct {
	style
	// press numbers a pressable and returns its number; nil renders
	// pressables unnumbered ("[Label]"), as in a modal.
	press func(pressable) int
}

// message renders blocks, or text when the blocks render to nothing.
func (r renderer) message(text string, blocks []slack.Block) string {
	var lines []string
	for _, b := range blocks {
		if s := r.block(b); s != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) == 0 {
		return r.mrkdwn(text)
	}
	return strings.Join(lines, "\n")
}

// block renders one block; blocks without a text form (inputs, unknown
// types) render as "".
func (r renderer) block(b slack.Block) string {
	switch b := b.(type) {
	case *slack.HeaderBlock:
		return r.bold(strings.ToUpper(r.text(b.Text)))
	case *slack.SectionBlock:
		return r.section(b)
	case *slack.ContextBlock:
		return r.context(b)
	case *slack.DividerBlock:
		return divider
	case *slack.ImageBlock:
		return imageLine(b.AltText, imageSource(b))
	case *slack.ActionBlock:
		if b.Elements == nil {
			return ""
		}
		var parts []string
		for _, el := range b.Elements.ElementSet {
			parts = append(parts, r.element(b.BlockID, el)...)
		}
		return strings.Join(parts, "  ")
	case *slack.TableBlock:
		return r.tableBlock(b)
	case *slack.DataTableBlock:
		return r.dataTableBlock(b)
	case slack.HeaderBlock:
		return r.block(&b)
	case slack.SectionBlock:
		return r.block(&b)
	case slack.ContextBlock:
		return r.block(&b)
	case slack.DividerBlock:
		return divider
	case slack.ImageBlock:
		return r.block(&b)
	case slack.ActionBlock:
		return r.block(&b)
	}
	return ""
}

// text renders a text object: mrkdwn converted, plain_text as is.
func (r renderer) text(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return r.mrkdwn(t.Text)
	}
	return t.Text
}

func (r renderer) section(b *slack.SectionBlock) string {
	var lines []string
	if s := r.text(b.Text); s != "" {
		lines = append(lines, s)
	}
	for _, f := range b.Fields {
		if s := r.field(f); s != "" {
			lines = append(lines, s)
		}
	}
	if a := b.Accessory; a != nil {
		var parts []string
		switch {
		case a.ButtonElement != nil:
			parts = r.element(b.BlockID, a.ButtonElement)
		case a.OverflowElement != nil:
			parts = r.element(b.BlockID, a.OverflowElement)
		case a.SelectElement != nil:
			parts = r.element(b.BlockID, a.SelectElement)
		case a.ImageElement != nil:
			url := ""
			if a.ImageElement.ImageURL != nil {
				url = *a.ImageElement.ImageURL
			}
			parts = []string{imageLine(a.ImageElement.AltText, url)}
		}
		if len(parts) > 0 {
			lines = append(lines, strings.Join(parts, "  "))
		}
	}
	return strings.Join(lines, "\n")
}

// field renders a section field; "*Label*\nvalue" becomes "Label: value",
// further value lines indented by two spaces.
func (r renderer) field(f *slack.TextBlockObject) string {
	if f == nil {
		return ""
	}
	head, rest, ok := strings.Cut(f.Text, "\n")
	if !ok {
		return r.text(f)
	}
	conv := func(s string) string { return r.text(&slack.TextBlockObject{Type: f.Type, Text: s}) }
	label := conv(head)
	if f.Type == slack.MarkdownType && len(head) > 2 && head[0] == '*' && head[len(head)-1] == '*' {
		label = r.bold(r.mrkdwn(head[1 : len(head)-1]))
	}
	label = strings.TrimSuffix(label, ":")
	return label + ": " + strings.ReplaceAll(conv(rest), "\n", "\n  ")
}

// context renders a context block as one indented (dim) line.
func (r renderer) context(b *slack.ContextBlock) string {
	plain := renderer{style: r.style}
	plain.ansi = false
	var parts []string
	for _, el := range b.ContextElements.Elements {
		switch el := el.(type) {
		case *slack.TextBlockObject:
			parts = append(parts, plain.text(el))
		case slack.TextBlockObject:
			parts = append(parts, plain.text(&el))
		case *slack.ImageBlockElement:
			parts = append(parts, imageLine(el.AltText, ""))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := "  " + strings.ReplaceAll(strings.Join(parts, "  "), "\n", "\n  ")
	if r.ansi {
		return dimOn + s + dimOff
	}
	return s
}

// element renders an interactive element of an actions block or accessory:
// a button, or each option of an overflow menu or static select.
func (r renderer) element(blockID string, el slack.BlockElement) []string {
	switch el := el.(type) {
	case *slack.ButtonBlockElement:
		return []string{r.pressable(pressable{
			label: r.text(el.Text), actionID: el.ActionID, blockID: blockID,
			value: el.Value, url: el.URL, confirm: el.Confirm,
		})}
	case *slack.OverflowBlockElement:
		return r.options(blockID, el.ActionID, el.Options, el.Confirm)
	case *slack.SelectBlockElement:
		if el.Type == slack.OptTypeStatic {
			opts := el.Options
			for _, g := range el.OptionGroups {
				opts = append(opts, g.Options...)
			}
			return r.options(blockID, el.ActionID, opts, el.Confirm)
		}
	}
	return nil
}

func (r renderer) options(blockID, actionID string, opts []*slack.OptionBlockObject, confirm *slack.ConfirmationBlockObject) []string {
	var parts []string
	for _, o := range opts {
		if o == nil {
			continue
		}
		parts = append(parts, r.pressable(pressable{
			label: r.text(o.Text), actionID: actionID, blockID: blockID,
			value: o.Value, url: o.URL, confirm: confirm,
		}))
	}
	return parts
}

// pressable renders "[n] Label" (with "(url)" for a link button), numbering
// it through r.press.
func (r renderer) pressable(p pressable) string {
	s := "[" + p.label + "]"
	if r.press != nil {
		s = "[" + strconv.Itoa(r.press(p)) + "] " + p.label
	}
	if p.url != "" {
		s += " (" + p.url + ")"
	}
	return s
}

func imageSource(b *slack.ImageBlock) string {
	switch {
	case b.ImageURL != "":
		return b.ImageURL
	case b.SlackFile != nil && b.SlackFile.URL != "":
		return b.SlackFile.URL
	case b.SlackFile != nil:
		return b.SlackFile.ID
	}
	return ""
}

func imageLine(alt, src string) string {
	s := "[image: " + alt + "]"
	if src != "" {
		s += " " + src
	}
	return s
}
