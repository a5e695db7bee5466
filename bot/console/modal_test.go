package console

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/383project/opsbot/commands"
)

func opt(value, text string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, txt(slack.PlainTextType, text), nil)
}

// changeModal has the four kinds of input the change request form uses.
func changeModal() *slack.ModalViewRequest {
	return &slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           txt(slack.PlainTextType, "Request a change"),
		CallbackID:      "change_request",
		PrivateMetadata: "acme",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(txt(slack.MarkdownType, "For *acme*"), nil, nil),
			slack.NewInputBlock("summary", txt(slack.PlainTextType, "Summary"), txt(slack.PlainTextType, "One line"),
				slack.NewPlainTextInputBlockElement(nil, "summary_input")),
			slack.NewInputBlock("env", txt(slack.PlainTextType, "Environment"), nil,
				slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "env_select", opt("stg", "Staging"), opt("prod", "Production"))),
			slack.NewInputBlock("when", txt(slack.PlainTextType, "When"), nil, slack.NewDatePickerBlockElement("when_date")),
			slack.NewInputBlock("approver", txt(slack.PlainTextType, "Approver"), nil,
				slack.NewOptionsSelectBlockElement(slack.OptTypeUser, nil, "approver_user")).WithOptional(true),
		}},
	}
}

func changeValues(summary, date, user string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"summary":  {"summary_input": {Type: "plain_text_input", Value: summary}},
		"env":      {"env_select": {Type: "static_select", SelectedOption: *opt("prod", "Production")}},
		"when":     {"when_date": {Type: "datepicker", SelectedDate: date}},
		"approver": {"approver_user": {Type: "users_select", SelectedUser: user}},
	}
}

func modalHandler(submit func(commands.Submission) commands.SubmitResult) *fakeHandler {
	return &fakeHandler{
		command: func(c commands.Command) commands.Reply {
			if c.Text != "change" {
				return commands.Reply{}
			}
			return commands.Reply{Modal: changeModal()}
		},
		submit: submit,
	}
}

func TestModalFromPipedLines(t *testing.T) {
	h := modalHandler(func(commands.Submission) commands.SubmitResult {
		return commands.SubmitResult{Notice: &commands.Reply{Text: "Change *CR-1* opened."}}
	})
	// "" re-asks the required summary, "x" and "2024-13-01" are refused.
	got := run(t, "/ops change\n\nFix DNS\nx\nprod\n2024-13-01\n2024-05-01\n@bob\nwhoami\n", h)
	want := `ops> /ops change
REQUEST A CHANGE
For acme
Summary
  ✗ Summary: required
Summary
> Fix DNS
Environment
> x
  ✗ Environment: "x" is not a choice; enter 1-2 or a value
Environment
> prod
When
> 2024-13-01
  ✗ When: enter a date as YYYY-MM-DD
When
> 2024-05-01
Approver (optional)
> @bob
Change CR-1 opened.
ops> whoami
`
	if got != want {
		t.Errorf("output:\ngot:\n%s\nwant:\n%s", got, want)
	}
	if len(h.submits) != 1 {
		t.Fatalf("%d submits, want 1", len(h.submits))
	}
	s := h.submits[0]
	if s.CallbackID != "change_request" || s.PrivateMetadata != "acme" || s.User != admin || s.ViewID == "" {
		t.Errorf("submission %+v", s)
	}
	if want := changeValues("Fix DNS", "2024-05-01", "UBOB"); !reflect.DeepEqual(s.Values, want) {
		t.Errorf("values:\ngot  %+v\nwant %+v", s.Values, want)
	}
	if n := len(h.commands); n != 2 {
		t.Errorf("%d commands, want 2 (the line after the modal is a command)", n)
	}
}

func TestModalErrorsReprompt(t *testing.T) {
	h := modalHandler(func(s commands.Submission) commands.SubmitResult {
		if s.Values["when"]["when_date"].SelectedDate < "2025-01-01" {
			return commands.SubmitResult{Errors: map[string]string{"when": "must be in the future"}}
		}
		return commands.SubmitResult{}
	})
	got := run(t, "change\nFix DNS\n2\n2024-05-01\n\n2030-01-02\n", h)
	if want := "When\n> 2024-05-01\nApprover (optional)\n  ✗ When: must be in the future\nWhen\n> 2030-01-02\n"; !strings.HasSuffix(got, want) {
		t.Errorf("output:\n%s\nwant suffix:\n%s", got, want)
	}
	if len(h.submits) != 2 {
		t.Fatalf("%d submits, want 2", len(h.submits))
	}
	want := []map[string]map[string]slack.BlockAction{changeValues("Fix DNS", "2024-05-01", ""), changeValues("Fix DNS", "2030-01-02", "")}
	for i := range want {
		want[i]["approver"] = map[string]slack.BlockAction{"approver_user": {Type: "users_select"}}
		if !reflect.DeepEqual(h.submits[i].Values, want[i]) {
			t.Errorf("submit %d values:\ngot  %+v\nwant %+v", i, h.submits[i].Values, want[i])
		}
	}
}

func TestModalCancel(t *testing.T) {
	h := modalHandler(nil)
	got := run(t, "change\nFix DNS\nCancel\nwhoami\n", h)
	if want := "ops> change\nREQUEST A CHANGE\nFor acme\nSummary\n> Fix DNS\nEnvironment\n> Cancel\ncancelled\nops> whoami\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(h.submits) != 0 || len(h.commands) != 2 {
		t.Errorf("%d submits, %d commands; want 0, 2", len(h.submits), len(h.commands))
	}
}

func TestModalUpdate(t *testing.T) {
	confirm := &slack.ModalViewRequest{
		Type: slack.VTModal, Title: txt(slack.PlainTextType, "Confirm"), CallbackID: "confirm",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("ok", txt(slack.PlainTextType, "Checks"), nil, slack.NewCheckboxGroupsBlockElement("ok_boxes",
				opt("tests", "Tests pass"), opt("backup", "Backup taken"), opt("plan", "Rollback plan"))),
			slack.NewInputBlock("n", txt(slack.PlainTextType, "Replicas"), nil, &slack.NumberInputBlockElement{
				Type: slack.METNumber, ActionID: "n_num", MinValue: "1", InitialValue: "3"}),
			slack.NewInputBlock("r", txt(slack.PlainTextType, "Risk"), nil, slack.NewRadioButtonsBlockElement("r_radio", opt("low", "Low"), opt("high", "High"))),
			slack.NewInputBlock("c", txt(slack.PlainTextType, "Channel"), nil, slack.NewOptionsSelectBlockElement(slack.OptTypeChannels, nil, "c_chan")),
		}},
	}
	h := modalHandler(func(s commands.Submission) commands.SubmitResult {
		if s.CallbackID == "change_request" {
			return commands.SubmitResult{Update: confirm}
		}
		return commands.SubmitResult{Update: &slack.ModalViewRequest{Title: txt(slack.PlainTextType, "Done"),
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(txt(slack.MarkdownType, "Thanks"), nil, nil)}}}}
	})
	got := run(t, "change\nFix\n1\n2024-05-01\n\n1, plan\n0\n1.5\n\nhigh\n#ops\n", h)
	if want := "CONFIRM\nChecks\n> 1, plan\nReplicas\n> 0\n  ✗ Replicas: enter at least 1\nReplicas\n> 1.5\n  ✗ Replicas: enter a whole number\nReplicas\nRisk\n> high\nChannel\n> #ops\nDONE\nThanks\n"; !strings.HasSuffix(got, want) {
		t.Errorf("output:\n%s\nwant suffix:\n%s", got, want)
	}
	if len(h.submits) != 2 {
		t.Fatalf("%d submits, want 2", len(h.submits))
	}
	s := h.submits[1]
	want := map[string]map[string]slack.BlockAction{
		"ok": {"ok_boxes": {Type: "checkboxes", SelectedOptions: []slack.OptionBlockObject{*opt("tests", "Tests pass"), *opt("plan", "Rollback plan")}}},
		"n":  {"n_num": {Type: "number_input", Value: "3"}},
		"r":  {"r_radio": {Type: "radio_buttons", SelectedOption: *opt("high", "High")}},
		"c":  {"c_chan": {Type: "channels_select", SelectedChannel: "ops"}},
	}
	if s.CallbackID != "confirm" || s.ViewID != h.submits[0].ViewID || !reflect.DeepEqual(s.Values, want) {
		t.Errorf("second submission %+v\nwant values %+v", s, want)
	}
}

// TestModalErrorElsewhereAsksAgain: an error for a block the form does not
// show is printed without the internal block ID, and the whole form is
// asked again instead of being closed.
func TestModalErrorElsewhereAsksAgain(t *testing.T) {
	h := modalHandler(func(s commands.Submission) commands.SubmitResult {
		if s.Values["summary"]["summary_input"].Value != "Fix DNS" {
			return commands.SubmitResult{Errors: map[string]string{"role_client": "A stakeholder is given per client: pick one."}}
		}
		return commands.SubmitResult{Notice: &commands.Reply{Text: "done"}}
	})
	got := run(t, "change\nFix\n1\n2024-05-01\n\nFix DNS\n2\n2024-05-02\n\n", h)
	want := "Approver (optional)\n  ✗ A stakeholder is given per client: pick one.\nSummary\n> Fix DNS\nEnvironment\n> 2\nWhen\n> 2024-05-02\nApprover (optional)\ndone\n"
	if !strings.HasSuffix(got, want) || strings.Contains(got, "role_client") {
		t.Errorf("output:\n%s\nwant suffix:\n%s", got, want)
	}
	if len(h.submits) != 2 {
		t.Errorf("%d submits, want 2", len(h.submits))
	}
}
