package slacktest

import "fmt"

// Slack's table blocks (https://docs.slack.dev/reference/block-kit/blocks/table-block,
// .../data-table-block):
//
//	table        rows 1 – 100, each at most 20 cells; a cell is raw_text or
//	             rich_text; column_settings at most 20, align left, center
//	             or right, is_wrapped a boolean
//	data_table   caption required; rows 2 – 101 (a header row and up to 100);
//	             every row as long as the header; header cells raw_text only;
//	             cells raw_text, raw_number, rich_text or action_cell;
//	             page_size 1 – 100
//	per message  one table or data_table: a second is refused with
//	             invalid_attachments, "only_one_table_allowed" (Slack shows
//	             the table as an attachment under the message)
//	views        refused: Slack's table pages speak of messages only, the
//	             one-table rule is a message rule, and a table in a Home tab
//	             or modal is reported not to render; opsbot keeps Home in
//	             sections (README, App Home)
const (
	maxTableRows        = 100
	maxTableCells       = 20
	maxTableColumnSets  = 20
	maxDataTableRows    = 101
	minDataTableRows    = 2
	maxDataTablePage    = 100
	tablesPerMessage    = 1
	errOnlyOneTable     = "only_one_table_allowed"
	tableRefusedInViews = "must be a valid enum value"
)

// tableBlock checks a table or data_table block where the walker stands: in
// a view it is refused; in a message it is counted (one per message) and
// its rows checked.
func (k *walker) tableBlock(ptr string, b map[string]any) {
	if k.surface != "message" {
		k.fail(ptr+"/type", tableRefusedInViews)
		return
	}
	k.tables = append(k.tables, ptr)
	if b["type"] == "data_table" {
		k.dataTable(ptr, b)
		return
	}
	rows := k.list(ptr+"/rows", b["rows"], maxTableRows, true)
	if b["rows"] != nil && len(rows) == 0 {
		k.fail(ptr+"/rows", "must provide at least 1 item")
	}
	for i, r := range rows {
		rp := at(ptr+"/rows", i)
		for j, cell := range k.list(rp, r, maxTableCells, true) {
			k.tableCell(at(rp, j), cell, "raw_text", "rich_text")
		}
	}
	for i, cs := range k.list(ptr+"/column_settings", b["column_settings"], maxTableColumnSets, false) {
		cp := at(ptr+"/column_settings", i)
		m, ok := cs.(map[string]any)
		if !ok {
			k.fail(cp, "must provide an object")
			continue
		}
		switch m["align"] {
		case nil, "left", "center", "right":
		default:
			k.fail(cp+"/align", "must be a valid enum value")
		}
		if w, ok := m["is_wrapped"]; ok {
			if _, isBool := w.(bool); !isBool {
				k.fail(cp+"/is_wrapped", "must be a boolean")
			}
		}
	}
}

// dataTable checks a data_table: a caption, a header row of raw_text, rows
// as long as the header, a page size within 1 – 100.
func (k *walker) dataTable(ptr string, b map[string]any) {
	if s, ok := b["caption"].(string); !ok || s == "" {
		k.fail(ptr+"/caption", "must provide a string")
	}
	if p, ok := b["page_size"]; ok {
		if n, isNum := p.(float64); !isNum || n < 1 || n > maxDataTablePage || n != float64(int(n)) {
			k.fail(ptr+"/page_size", "must be an integer from 1 to %d", maxDataTablePage)
		}
	}
	rows := k.list(ptr+"/rows", b["rows"], maxDataTableRows, true)
	if b["rows"] != nil && len(rows) < minDataTableRows {
		k.fail(ptr+"/rows", "must provide at least %d items", minDataTableRows)
	}
	width := -1
	for i, r := range rows {
		rp := at(ptr+"/rows", i)
		cells := k.list(rp, r, maxTableCells, true)
		if width < 0 {
			width = len(cells)
		} else if len(cells) != width {
			k.fail(rp, "must have the same number of items as the header row (%d)", width)
		}
		for j, cell := range cells {
			if i == 0 {
				k.tableCell(at(rp, j), cell, "raw_text")
				continue
			}
			k.tableCell(at(rp, j), cell, "raw_text", "raw_number", "rich_text", "action_cell")
		}
	}
}

// tableCell checks one cell against the types allowed where it stands.
func (k *walker) tableCell(ptr string, v any, types ...string) {
	c, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	typ, _ := c["type"].(string)
	allowed := false
	for _, t := range types {
		allowed = allowed || t == typ
	}
	if !allowed {
		k.fail(ptr+"/type", "must be a valid enum value")
		return
	}
	switch typ {
	case "raw_text":
		s, ok := c["text"].(string)
		switch {
		case !ok:
			k.fail(ptr+"/text", "must be a string")
		case s == "":
			k.fail(ptr+"/text", "must be more than 0 characters")
		}
	case "raw_number":
		if _, ok := c["value"].(float64); !ok {
			k.fail(ptr+"/value", "must be a number")
		}
	case "rich_text":
		if _, ok := c["elements"].([]any); !ok {
			k.fail(ptr+"/elements", "must provide an array")
		}
	case "action_cell":
		if c["element"] == nil {
			k.fail(ptr+"/element", "must provide an object")
		} else {
			k.element(ptr+"/element", c["element"])
		}
	}
}

// tableRefusal is Slack's answer to a message with more than one table, or
// nil.
func (k *walker) tableRefusal() *LimitError {
	if len(k.tables) <= tablesPerMessage {
		return nil
	}
	msgs := make([]string, 0, len(k.tables)-tablesPerMessage)
	for _, ptr := range k.tables[tablesPerMessage:] {
		msgs = append(msgs, fmt.Sprintf("%s [json-pointer:%s]", errOnlyOneTable, ptr))
	}
	return &LimitError{Code: "invalid_attachments", Messages: msgs}
}
