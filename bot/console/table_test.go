package console

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

// A table reaches the terminal as padded columns, its first row in bold
// (plain here: no ANSI); rich-text cells as their words, links by their
// text, users as @ID, dates as their
// fallback; a data table under its caption.
func TestRenderTables(t *testing.T) {
	fallback := "2 Mar 2026"
	tbl := slack.NewTableBlock("").
		AddRow(slack.NewTableRawTextCell("Client"), slack.NewTableRawTextCell("Open"), slack.NewTableRawTextCell("Owner")).
		AddRow(slack.NewTableRawTextCell("Acme Ltd"), slack.NewTableRawNumberCell(12), slack.NewTableRichTextCell(slack.NewRichTextSection(
			slack.NewRichTextSectionUserElement("U0ALICE", nil)))).
		AddRow(slack.NewTableRawTextCell("Beta"), slack.NewTableRawNumberCell(3).WithText("three"), slack.NewTableRichTextCell(slack.NewRichTextSection(
			slack.NewRichTextSectionLinkElement("https://x.example", "the runbook", nil)))).
		AddRow(slack.NewTableRawTextCell("Gamma"), slack.NewTableRawNumberCell(1), slack.NewTableRichTextCell(slack.NewRichTextSection(
			slack.NewRichTextSectionDateElement(1772409600, "{date_short}", nil, &fallback))))
	data := &slack.DataTableBlock{Type: slack.MBTDataTable, Caption: "Findings", Rows: [][]slack.DataTableCell{
		{slack.NewDataTableRawTextCell("Severity"), slack.NewDataTableRawTextCell("n")},
		{slack.NewDataTableRawTextCell("high"), slack.NewDataTableRawNumberCell(2.5)},
	}}
	want := `ops> findings
Client   │ Open  │ Owner
Acme Ltd │ 12    │ @U0ALICE
Beta     │ three │ the runbook
Gamma    │ 1     │ 2 Mar 2026
Findings
Severity │ n
high     │ 2.5
`
	h := &fakeHandler{command: func(commands.Command) commands.Reply {
		return commands.Reply{Text: "fallback", Blocks: []slack.Block{tbl, data}}
	}}
	if got := run(t, "findings\n", h); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
