package console

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// elem is what the console needs to ask for one input element's value.
type elem struct {
	typ, actionID string
	options       []*slack.OptionBlockObject // selects, radio buttons, checkboxes
	integer       bool                       // number_input without decimals
	min, max      string                     // number_input bounds
	def           *slack.BlockAction         // the initial value, taken on an empty answer
	defText       string
}

// elemOf describes an input element. Unknown elements are asked as free
// text into Value.
func elemOf(el slack.BlockElement) elem {
	e := elem{typ: string(el.ElementType())}
	set := func(ok bool, text string, fill func(*slack.BlockAction)) {
		if ok {
			a := slack.BlockAction{Type: slack.ActionType(e.typ)}
			fill(&a)
			e.def, e.defText = &a, text
		}
	}
	value := func(v string) { set(v != "", v, func(a *slack.BlockAction) { a.Value = v }) }
	option := func(o *slack.OptionBlockObject) {
		set(o != nil, optionText(o), func(a *slack.BlockAction) { a.SelectedOption = *o })
	}
	optionSet := func(opts []*slack.OptionBlockObject) {
		var texts []string
		for _, o := range opts {
			texts = append(texts, optionText(o))
		}
		set(len(opts) > 0, strings.Join(texts, ", "), func(a *slack.BlockAction) {
			for _, o := range opts {
				a.SelectedOptions = append(a.SelectedOptions, *o)
			}
		})
	}
	switch el := el.(type) {
	case *slack.PlainTextInputBlockElement:
		e.actionID = el.ActionID
		value(el.InitialValue)
	case *slack.EmailTextInputBlockElement:
		e.actionID = el.ActionID
		value(el.InitialValue)
	case *slack.URLTextInputBlockElement:
		e.actionID = el.ActionID
		value(el.InitialValue)
	case *slack.NumberInputBlockElement:
		e.actionID, e.integer, e.min, e.max = el.ActionID, !el.IsDecimalAllowed, el.MinValue, el.MaxValue
		value(el.InitialValue)
	case *slack.SelectBlockElement:
		e.actionID, e.options = el.ActionID, flatten(el.Options, el.OptionGroups)
		switch el.Type {
		case slack.OptTypeUser:
			set(el.InitialUser != "", el.InitialUser, func(a *slack.BlockAction) { a.SelectedUser = el.InitialUser })
		case slack.OptTypeConversations:
			set(el.InitialConversation != "", el.InitialConversation, func(a *slack.BlockAction) { a.SelectedConversation = el.InitialConversation })
		case slack.OptTypeChannels:
			set(el.InitialChannel != "", el.InitialChannel, func(a *slack.BlockAction) { a.SelectedChannel = el.InitialChannel })
		default:
			option(el.InitialOption)
		}
	case *slack.MultiSelectBlockElement:
		e.actionID, e.options = el.ActionID, flatten(el.Options, el.OptionGroups)
		optionSet(flatten(el.InitialOptions, nil))
	case *slack.RadioButtonsBlockElement:
		e.actionID, e.options = el.ActionID, flatten(el.Options, nil)
		option(el.InitialOption)
	case *slack.CheckboxGroupsBlockElement:
		e.actionID, e.options = el.ActionID, flatten(el.Options, nil)
		optionSet(flatten(el.InitialOptions, nil))
	case *slack.DatePickerBlockElement:
		e.actionID = el.ActionID
		set(el.InitialDate != "", el.InitialDate, func(a *slack.BlockAction) { a.SelectedDate = el.InitialDate })
	case *slack.TimePickerBlockElement:
		e.actionID = el.ActionID
		set(el.InitialTime != "", el.InitialTime, func(a *slack.BlockAction) { a.SelectedTime = el.InitialTime })
	}
	return e
}

// actionID is the key of an element's state in Submission.Values.
func actionID(el slack.BlockElement) string { return elemOf(el).actionID }

func flatten(opts []*slack.OptionBlockObject, groups []*slack.OptionGroupBlockObject) []*slack.OptionBlockObject {
	var out []*slack.OptionBlockObject
	for _, g := range groups {
		if g != nil {
			opts = append(opts, g.Options...)
		}
	}
	for _, o := range opts {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

func optionText(o *slack.OptionBlockObject) string {
	if o == nil || o.Text == nil {
		return ""
	}
	return o.Text.Text
}

// help is the interactive guidance under a field's label.
func (e elem) help(hint string, st style) []string {
	var lines []string
	if hint != "" {
		lines = append(lines, "  "+hint)
	}
	r := renderer{style: st}
	for i, o := range e.options {
		lines = append(lines, fmt.Sprintf("  %d. %s", i+1, r.text(o.Text)))
	}
	form := map[string]string{
		"datepicker": "YYYY-MM-DD", "timepicker": "HH:MM", "users_select": "@name",
		"multi_users_select": "@name, @name", "checkboxes": "numbers, comma-separated",
		"multi_static_select": "numbers, comma-separated", "channels_select": "#channel",
		"conversations_select": "#channel", "multi_channels_select": "#channel, #channel",
		"multi_conversations_select": "#channel, #channel",
	}[e.typ]
	if e.typ == "number_input" {
		form = "a number"
		if e.integer {
			form = "a whole number"
		}
	}
	if len(e.options) > 0 && form == "" {
		form = "a number or a value"
	}
	if form != "" {
		lines = append(lines, "  ("+form+")")
	}
	if e.def != nil {
		lines = append(lines, "  (Enter for: "+e.defText+")")
	}
	return lines
}

// parse turns a non-empty answer into the element's state as Slack's
// view_submission carries it.
func (c *Console) parse(ctx context.Context, e elem, ans string) (slack.BlockAction, error) {
	a := slack.BlockAction{Type: slack.ActionType(e.typ)}
	var err error
	switch e.typ {
	case "number_input":
		a.Value, err = e.number(ans)
	case "static_select", "external_select", "radio_buttons":
		a.SelectedOption, err = pick(e.options, ans)
	case "checkboxes", "multi_static_select", "multi_external_select":
		for _, s := range list(ans) {
			o, perr := pick(e.options, s)
			err = errors.Join(err, perr)
			a.SelectedOptions = append(a.SelectedOptions, o)
		}
	case "datepicker":
		if _, perr := time.Parse(time.DateOnly, ans); perr != nil {
			err = errors.New("enter a date as YYYY-MM-DD")
		}
		a.SelectedDate = ans
	case "timepicker":
		if _, perr := time.Parse("15:04", ans); perr != nil {
			err = errors.New("enter a time as HH:MM")
		}
		a.SelectedTime = ans
	case "users_select":
		a.SelectedUser, err = c.userID(ctx, ans)
	case "multi_users_select":
		for _, s := range list(ans) {
			id, uerr := c.userID(ctx, s)
			err = errors.Join(err, uerr)
			a.SelectedUsers = append(a.SelectedUsers, id)
		}
	case "conversations_select":
		a.SelectedConversation = channelName(ans)
	case "channels_select":
		a.SelectedChannel = channelName(ans)
	case "multi_conversations_select", "multi_channels_select":
		var chans []string
		for _, s := range list(ans) {
			chans = append(chans, channelName(s))
		}
		if e.typ == "multi_channels_select" {
			a.SelectedChannels = chans
		} else {
			a.SelectedConversations = chans
		}
	default:
		a.Value = ans
	}
	return a, err
}

// number checks a number_input answer against the element's rules.
func (e elem) number(ans string) (string, error) {
	f, err := strconv.ParseFloat(ans, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return "", errors.New("enter a number")
	case e.integer && strings.ContainsAny(ans, ".eExXpP_"):
		return "", errors.New("enter a whole number")
	}
	if m, err := strconv.ParseFloat(e.min, 64); err == nil && f < m {
		return "", fmt.Errorf("enter at least %s", e.min)
	}
	if m, err := strconv.ParseFloat(e.max, 64); err == nil && f > m {
		return "", fmt.Errorf("enter at most %s", e.max)
	}
	return ans, nil
}

// pick finds an option by its number (from 1), its value, or its text
// (case-insensitive). Without options (external_select) the answer is the value.
func pick(opts []*slack.OptionBlockObject, ans string) (slack.OptionBlockObject, error) {
	if len(opts) == 0 {
		return slack.OptionBlockObject{Text: slack.NewTextBlockObject(slack.PlainTextType, ans, false, false), Value: ans}, nil
	}
	if n, err := strconv.Atoi(ans); err == nil && n >= 1 && n <= len(opts) {
		return *opts[n-1], nil
	}
	for _, o := range opts {
		if o.Value == ans {
			return *o, nil
		}
	}
	for _, o := range opts {
		if strings.EqualFold(optionText(o), ans) {
			return *o, nil
		}
	}
	return slack.OptionBlockObject{}, fmt.Errorf("%q is not a choice; enter 1-%d or a value", ans, len(opts))
}

// list splits a comma-separated answer.
func list(ans string) []string {
	var out []string
	for _, s := range strings.Split(ans, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// userID resolves "@name" through the console's Directory; "<@U123>" is taken as is.
func (c *Console) userID(ctx context.Context, s string) (string, error) {
	if strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") {
		id, _, _ := strings.Cut(s[2:len(s)-1], "|")
		return id, nil
	}
	u, err := c.UserByName(ctx, s)
	return u.ID, err
}

// channelName takes "#name", "name" or "<#C1|name>" and returns "name" or "C1".
func channelName(s string) string {
	if strings.HasPrefix(s, "<#") && strings.HasSuffix(s, ">") {
		id, _, _ := strings.Cut(s[2:len(s)-1], "|")
		return id
	}
	return strings.TrimPrefix(s, "#")
}
