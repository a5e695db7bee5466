package slacktest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/slack-go/slack"
)

// table is a table block of rows × cols raw_text cells, built by slack-go.
func table(rows, cols int) *slack.TableBlock {
	t := slack.NewTableBlock("")
	for range rows {
		cells := make([]slack.TableCell, cols)
		for j := range cells {
			cells[j] = slack.NewTableRawTextCell("x")
		}
		t.AddRow(cells...)
	}
	return t
}

// dataTable is a data_table with a header and rows body rows of cols.
func dataTable(rows, cols int) *slack.DataTableBlock {
	d := &slack.DataTableBlock{Type: slack.MBTDataTable, Caption: "Findings"}
	head := make([]slack.DataTableCell, cols)
	for j := range head {
		head[j] = slack.NewDataTableRawTextCell("h")
	}
	d.Rows = append(d.Rows, head)
	for range rows {
		row := make([]slack.DataTableCell, cols)
		for j := range row {
			row[j] = slack.NewDataTableRawNumberCell(float64(j))
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

func limitErr(t *testing.T, err error) *slacktest.LimitError {
	t.Helper()
	var le *slacktest.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("want Slack's refusal, got %v", err)
	}
	return le
}

// The table block in a message: Slack's row, cell and cell-type limits,
// and one table (or data_table) per message.
func TestTableBlockInMessages(t *testing.T) {
	intro := slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Findings", false, false), nil, nil)
	for _, tt := range []struct {
		name   string
		blocks []slack.Block
		code   string // "" accepted
		msg    string
	}{
		{"one table at the limits", []slack.Block{intro, table(100, 20)}, "", ""},
		{"101 rows", []slack.Block{table(101, 2)}, "invalid_blocks", "no more than 100 items allowed [json-pointer:/blocks/0/rows]"},
		{"21 cells", []slack.Block{table(2, 21)}, "invalid_blocks", "no more than 20 items allowed [json-pointer:/blocks/0/rows/0]"},
		{"no rows", []slack.Block{slack.NewTableBlock("")}, "invalid_blocks", "must provide at least 1 item [json-pointer:/blocks/0/rows]"},
		{"a raw_number cell", []slack.Block{slack.NewTableBlock("").AddRow(slack.NewTableRawNumberCell(3))}, "invalid_blocks",
			"must be a valid enum value [json-pointer:/blocks/0/rows/0/0/type]"},
		{"an empty cell", []slack.Block{slack.NewTableBlock("").AddRow(slack.NewTableRawTextCell(""))}, "invalid_blocks",
			"must be more than 0 characters [json-pointer:/blocks/0/rows/0/0/text]"},
		{"a rich_text cell", []slack.Block{slack.NewTableBlock("").AddRow(slack.NewTableRichTextCell(
			slack.NewRichTextSection(slack.NewRichTextSectionTextElement("bold", &slack.RichTextSectionTextStyle{Bold: true}))))}, "", ""},
		{"bad alignment", []slack.Block{table(1, 1).WithColumnSettings(slack.ColumnSetting{Align: "middle"})}, "invalid_blocks",
			"must be a valid enum value [json-pointer:/blocks/0/column_settings/0/align]"},
		{"two tables", []slack.Block{table(1, 1), intro, table(1, 1)}, "invalid_attachments", "only_one_table_allowed [json-pointer:/blocks/2]"},
		{"a table and a data_table", []slack.Block{table(1, 1), dataTable(1, 1)}, "invalid_attachments", "only_one_table_allowed [json-pointer:/blocks/1]"},
		{"a data_table at the limits", []slack.Block{dataTable(100, 20)}, "", ""},
		{"a data_table of 101 rows", []slack.Block{dataTable(101, 2)}, "invalid_blocks", "no more than 101 items allowed [json-pointer:/blocks/0/rows]"},
		{"a data_table without body", []slack.Block{dataTable(0, 2)}, "invalid_blocks", "must provide at least 2 items [json-pointer:/blocks/0/rows]"},
		{"a data_table without caption", []slack.Block{&slack.DataTableBlock{Type: slack.MBTDataTable, Rows: dataTable(1, 1).Rows}}, "invalid_blocks",
			"must provide a string [json-pointer:/blocks/0/caption]"},
		{"a number in the header", []slack.Block{&slack.DataTableBlock{Type: slack.MBTDataTable, Caption: "c",
			Rows: [][]slack.DataTableCell{{slack.NewDataTableRawNumberCell(1)}, {slack.NewDataTableRawNumberCell(2)}}}}, "invalid_blocks",
			"must be a valid enum value [json-pointer:/blocks/0/rows/0/0/type]"},
		{"a ragged data_table", []slack.Block{&slack.DataTableBlock{Type: slack.MBTDataTable, Caption: "c",
			Rows: [][]slack.DataTableCell{{slack.NewDataTableRawTextCell("a"), slack.NewDataTableRawTextCell("b")}, {slack.NewDataTableRawNumberCell(2)}}}},
			"invalid_blocks", "must have the same number of items as the header row (2) [json-pointer:/blocks/0/rows/1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := slacktest.CheckMessage("findings", tt.blocks)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			le := limitErr(t, err)
			if le.Code != tt.code || !strings.Contains(strings.Join(le.Messages, "\n"), tt.msg) {
				t.Fatalf("got %s %q, want %s with %q", le.Code, le.Messages, tt.code, tt.msg)
			}
		})
	}
}

// A Home tab or a modal takes no table: views.publish and views.open refuse
// it, through the real client; the same blocks post fine as a message.
func TestTableBlockRefusedInViews(t *testing.T) {
	fake := slacktest.New(t)
	fake.ExpectRefusals()
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	blocks := slack.Blocks{BlockSet: []slack.Block{table(2, 2)}}
	_, err := api.PublishViewContext(context.Background(), slack.PublishViewContextRequest{UserID: "U0HOME0001",
		View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: blocks}})
	if err == nil || !strings.Contains(err.Error(), "invalid_arguments") {
		t.Fatalf("views.publish with a table: %v", err)
	}
	if le := limitErr(t, slacktest.CheckView(slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "T", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{dataTable(1, 1)}}})); !strings.Contains(le.Messages[0], "[json-pointer:/view/blocks/0/type]") {
		t.Fatalf("a modal with a data_table: %q", le.Messages)
	}
	if err := slacktest.CheckMessage("t", blocks.BlockSet); err != nil {
		t.Fatalf("the same table in a message: %v", err)
	}
	if refused := fake.Refusals(); len(refused) != 1 || !strings.HasPrefix(refused[0], "views.publish: slack: invalid_arguments") {
		t.Fatalf("refusals: %q", refused)
	}
}
