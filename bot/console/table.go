package console

import (
	"cmp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block Kit tables in the terminal: one line per row, columns padded to
// their widest cell and separated by " │ ", the first row (a data table's
// header) in bold. A rich-text cell shows its words, links by their text
// and users as @ID.

// tableBlock renders a table block.
func (r renderer) tableBlock(b *slack.TableBlock) string {
	rows := make([][]string, len(b.Rows))
	for i, row := range b.Rows {
		for _, c := range row {
			rows[i] = append(rows[i], tableCellText(c))
		}
	}
	return r.grid(rows)
}

// dataTableBlock renders a data table with its caption above.
func (r renderer) dataTableBlock(b *slack.DataTableBlock) string {
	rows := make([][]string, len(b.Rows))
	for i, row := range b.Rows {
		for _, c := range row {
			rows[i] = append(rows[i], dataCellText(c))
		}
	}
	return strings.TrimLeft(b.Caption+"\n"+r.grid(rows), "\n")
}

// grid lays rows out in padded columns.
func (r renderer) grid(rows [][]string) string {
	var widths []int
	for _, row := range rows {
		for j, c := range row {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	lines := make([]string, len(rows))
	for i, row := range rows {
		cells := make([]string, len(row))
		for j, c := range row {
			cells[j] = c
			if j < len(row)-1 {
				cells[j] += strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			}
		}
		lines[i] = strings.TrimRight(strings.Join(cells, " │ "), " ")
		if i == 0 && len(rows) > 1 {
			lines[i] = r.bold(lines[i])
		}
	}
	return strings.Join(lines, "\n")
}

func tableCellText(c slack.TableCell) string {
	switch c := c.(type) {
	case *slack.TableRawTextCell:
		return c.Text
	case *slack.TableRawNumberCell:
		return numberText(c.Text, c.Value)
	case *slack.TableRichTextCell:
		return richText(c.Elements)
	}
	return ""
}

func dataCellText(c slack.DataTableCell) string {
	switch c := c.(type) {
	case *slack.DataTableRawTextCell:
		return c.Text
	case *slack.DataTableRawNumberCell:
		return numberText(c.Text, c.Value)
	case *slack.DataTableRichTextCell:
		return richText(c.Elements)
	case *slack.DataTableActionCell:
		if c.Element != nil && c.Element.Text != nil {
			return "[" + c.Element.Text.Text + "]"
		}
	}
	return ""
}

func numberText(text string, v float64) string {
	if text != "" {
		return text
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// richText is the words of rich-text elements, on one line.
func richText(els []slack.RichTextElement) string {
	var b strings.Builder
	for _, el := range els {
		sec, ok := el.(*slack.RichTextSection)
		if !ok {
			continue
		}
		for _, e := range sec.Elements {
			switch e := e.(type) {
			case *slack.RichTextSectionTextElement:
				b.WriteString(e.Text)
			case *slack.RichTextSectionLinkElement:
				b.WriteString(cmp.Or(e.Text, e.URL))
			case *slack.RichTextSectionUserElement:
				b.WriteString("@" + e.UserID)
			case *slack.RichTextSectionDateElement:
				if e.Fallback != nil {
					b.WriteString(*e.Fallback)
				}
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
