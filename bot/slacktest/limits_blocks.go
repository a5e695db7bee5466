package slacktest

import (
	"fmt"
	"strconv"
)

// walker checks decoded Block Kit JSON against Slack's limits and collects
// one message per violation, with Slack's wording and JSON pointer.
// surface is "message", "home" or "modal" (what some blocks depend on);
// tables are the pointers of the table blocks met (one per message).
type walker struct {
	errs    []string
	surface string
	tables  []string
}

func (k *walker) fail(ptr, format string, a ...any) {
	k.errs = append(k.errs, fmt.Sprintf(format, a...)+" [json-pointer:"+ptr+"]")
}

func at(ptr string, i int) string { return ptr + "/" + strconv.Itoa(i) }

// str checks an optional string field's length.
func (k *walker) str(ptr string, v any, maxLen int) {
	if v == nil {
		return
	}
	s, ok := v.(string)
	if !ok {
		k.fail(ptr, "must be a string")
		return
	}
	if runes(s) > maxLen {
		k.fail(ptr, "must be less than %d characters", maxLen+1)
	}
}

// text checks a text object: an object of type plain_text (or mrkdwn unless
// plainOnly) whose text has 1 to maxLen characters. required says whether a
// missing object is an error.
func (k *walker) text(ptr string, v any, maxLen int, plainOnly, required bool) {
	if v == nil {
		if required {
			k.fail(ptr, "must provide an object")
		}
		return
	}
	o, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	switch o["type"] {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			k.fail(ptr+"/type", "must be a valid enum value")
		}
	default:
		k.fail(ptr+"/type", "must be a valid enum value")
	}
	s, ok := o["text"].(string)
	switch {
	case !ok:
		k.fail(ptr+"/text", "must be a string")
	case s == "":
		k.fail(ptr+"/text", "must be more than 0 characters")
	case runes(s) > maxLen:
		k.fail(ptr+"/text", "must be less than %d characters", maxLen+1)
	}
}

// list returns v as an array, failing on a non-array or more than maxItems
// items; a missing one is fine unless required.
func (k *walker) list(ptr string, v any, maxItems int, required bool) []any {
	if v == nil {
		if required {
			k.fail(ptr, "must provide an array")
		}
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		k.fail(ptr, "must provide an array")
		return nil
	}
	if len(arr) > maxItems {
		k.fail(ptr, "no more than %d items allowed", maxItems)
	}
	return arr
}

func (k *walker) blocks(ptr string, v any, maxItems int) {
	for i, b := range k.list(ptr, v, maxItems, true) {
		k.block(at(ptr, i), b)
	}
}

func (k *walker) block(ptr string, v any) {
	b, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	k.str(ptr+"/block_id", b["block_id"], maxID)
	switch b["type"] {
	case "section":
		if b["text"] == nil && b["fields"] == nil {
			k.fail(ptr, "must provide either text or fields")
		}
		k.text(ptr+"/text", b["text"], maxSectionText, false, false)
		for i, f := range k.list(ptr+"/fields", b["fields"], maxFields, false) {
			k.text(at(ptr+"/fields", i), f, maxFieldText, false, true)
		}
		if b["accessory"] != nil {
			k.element(ptr+"/accessory", b["accessory"])
		}
	case "header":
		k.text(ptr+"/text", b["text"], maxHeaderText, true, true)
	case "context":
		for i, e := range k.list(ptr+"/elements", b["elements"], maxContextElems, true) {
			if m, _ := e.(map[string]any); m != nil && m["type"] == "image" {
				k.image(at(ptr+"/elements", i), m)
				continue
			}
			k.text(at(ptr+"/elements", i), e, maxGenericText, false, true)
		}
	case "actions":
		for i, e := range k.list(ptr+"/elements", b["elements"], maxActionElems, true) {
			k.element(at(ptr+"/elements", i), e)
		}
	case "input":
		k.text(ptr+"/label", b["label"], maxLabel, true, true)
		k.text(ptr+"/hint", b["hint"], maxLabel, true, false)
		if b["element"] == nil {
			k.fail(ptr+"/element", "must provide an object")
		} else {
			k.element(ptr+"/element", b["element"])
		}
	case "image":
		k.image(ptr, b)
		k.text(ptr+"/title", b["title"], maxLabel, true, false)
	case "table", "data_table":
		k.tableBlock(ptr, b)
	case "divider", "rich_text", "file", "video", "markdown":
	default:
		k.fail(ptr+"/type", "must be a valid enum value")
	}
}

func (k *walker) image(ptr string, m map[string]any) {
	if m["image_url"] == nil && m["slack_file"] == nil {
		k.fail(ptr, "must provide image_url or slack_file")
	}
	k.str(ptr+"/image_url", m["image_url"], maxURL)
	if m["alt_text"] == nil {
		k.fail(ptr+"/alt_text", "must be a string")
	}
	k.str(ptr+"/alt_text", m["alt_text"], maxLabel)
}

// element checks an interactive element (or an image element).
func (k *walker) element(ptr string, v any) {
	e, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	k.str(ptr+"/action_id", e["action_id"], maxID)
	if e["confirm"] != nil {
		k.confirm(ptr+"/confirm", e["confirm"])
	}
	typ, _ := e["type"].(string)
	switch typ {
	case "button":
		k.text(ptr+"/text", e["text"], maxButtonText, true, true)
		k.str(ptr+"/value", e["value"], maxButtonValue)
		k.str(ptr+"/url", e["url"], maxURL)
	case "static_select", "multi_static_select":
		k.placeholder(ptr, e)
		if e["options"] == nil && e["option_groups"] == nil {
			k.fail(ptr, "must provide either options or option_groups")
		}
		k.options(ptr+"/options", e["options"], maxSelectOpts, true)
		for i, g := range k.list(ptr+"/option_groups", e["option_groups"], maxSelectOpts, false) {
			gp := at(ptr+"/option_groups", i)
			gm, _ := g.(map[string]any)
			k.text(gp+"/label", gm["label"], maxOptionText, true, true)
			k.options(gp+"/options", gm["options"], maxSelectOpts, true)
		}
		k.initialOptions(ptr, e)
	case "external_select", "multi_external_select":
		k.placeholder(ptr, e)
		k.initialOptions(ptr, e)
	case "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
		"channels_select", "multi_channels_select", "datepicker", "timepicker", "datetimepicker",
		"email_text_input", "url_text_input", "number_input":
		k.placeholder(ptr, e)
	case "plain_text_input":
		k.placeholder(ptr, e)
		k.textInput(ptr, e)
	case "overflow":
		k.options(ptr+"/options", e["options"], maxOverflowOpts, false)
	case "radio_buttons", "checkboxes":
		k.options(ptr+"/options", e["options"], maxChoiceOpts, false)
		k.initialOptions(ptr, e)
	case "image":
		k.image(ptr, e)
	default:
		k.fail(ptr+"/type", "must be a valid enum value")
	}
}

func (k *walker) placeholder(ptr string, e map[string]any) {
	k.text(ptr+"/placeholder", e["placeholder"], maxPlaceholder, true, false)
}

// textInput checks plain_text_input's lengths: max_length and min_length at
// most 3,000, and an initial_value no longer than max_length.
func (k *walker) textInput(ptr string, e map[string]any) {
	limit := maxInputLength
	for _, f := range []string{"max_length", "min_length"} {
		if n, ok := e[f].(float64); ok && (n > maxInputLength || n < 0) {
			k.fail(ptr+"/"+f, "must be less than %d", maxInputLength+1)
		}
	}
	if n, ok := e["max_length"].(float64); ok && n >= 1 && n < maxInputLength {
		limit = int(n)
	}
	if s, ok := e["initial_value"].(string); ok && runes(s) > limit {
		k.fail(ptr+"/initial_value", "must be less than %d characters (the element's max_length)", limit+1)
	}
}

func (k *walker) options(ptr string, v any, maxItems int, plainOnly bool) {
	for i, o := range k.list(ptr, v, maxItems, false) {
		k.option(at(ptr, i), o, plainOnly)
	}
}

func (k *walker) option(ptr string, v any, plainOnly bool) {
	o, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	k.text(ptr+"/text", o["text"], maxOptionText, plainOnly, true)
	k.text(ptr+"/description", o["description"], maxOptionText, plainOnly, false)
	k.str(ptr+"/value", o["value"], maxOptionValue)
	k.str(ptr+"/url", o["url"], maxURL)
}

func (k *walker) initialOptions(ptr string, e map[string]any) {
	if e["initial_option"] != nil {
		k.option(ptr+"/initial_option", e["initial_option"], false)
	}
	for i, o := range k.list(ptr+"/initial_options", e["initial_options"], maxSelectOpts, false) {
		k.option(at(ptr+"/initial_options", i), o, false)
	}
}

func (k *walker) confirm(ptr string, v any) {
	c, ok := v.(map[string]any)
	if !ok {
		k.fail(ptr, "must provide an object")
		return
	}
	k.text(ptr+"/title", c["title"], 100, true, true)
	k.text(ptr+"/text", c["text"], 300, false, true)
	k.text(ptr+"/confirm", c["confirm"], 30, true, true)
	k.text(ptr+"/deny", c["deny"], 30, true, true)
}

// view checks a modal or Home tab view.
func (k *walker) view(ptr string, v map[string]any) {
	typ := v["type"]
	switch typ {
	case "modal", "home":
	default:
		k.fail(ptr+"/type", "must be a valid enum value")
	}
	modal := typ == "modal"
	k.surface, _ = typ.(string)
	k.text(ptr+"/title", v["title"], maxViewTitle, true, modal)
	k.text(ptr+"/submit", v["submit"], maxViewTitle, true, false)
	k.text(ptr+"/close", v["close"], maxViewTitle, true, false)
	k.str(ptr+"/private_metadata", v["private_metadata"], maxMetadata)
	k.str(ptr+"/callback_id", v["callback_id"], maxID)
	k.str(ptr+"/external_id", v["external_id"], maxID)
	k.blocks(ptr+"/blocks", v["blocks"], MaxViewBlocks)
	if modal && v["submit"] == nil {
		arr, _ := v["blocks"].([]any)
		for _, b := range arr {
			if m, _ := b.(map[string]any); m != nil && m["type"] == "input" {
				k.fail(ptr+"/submit", "must provide submit when the view has input blocks")
				break
			}
		}
	}
}
