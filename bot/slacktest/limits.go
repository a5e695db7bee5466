package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Slack's documented limits, enforced on every chat.postMessage,
// chat.update, chat.postEphemeral and response_url post (message rules),
// every views.open/push/update/publish (view rules) and every Socket Mode ack
// (size, and the rules of what the payload carries). Lengths count
// characters (runes), as Slack's docs state them.
//
//	what                                   limit   Slack's answer
//	message text                           40,000  msg_too_long
//	blocks in a message                        50  invalid_blocks
//	blocks in a modal or Home tab             100  invalid_arguments
//	section text                            3,000
//	section fields                      10 × 2,000
//	header text                               150
//	context elements                           10
//	actions elements                           25
//	input label, hint                       2,000
//	image alt_text                          2,000
//	block_id, action_id, callback_id          255
//	button text                                75
//	button value                            2,000
//	url (button, option, image)             3,000
//	placeholder                           1 – 150
//	static_select options, option groups      100
//	radio_buttons, checkboxes options          10
//	overflow options                            5
//	option text, description                   75
//	option value                              150
//	confirm title / text / confirm / deny  100 / 300 / 30 / 30
//	plain_text_input max_length, min_length 3,000
//	plain_text_input initial_value          ≤ its max_length (else 3,000)
//	view title, submit, close                  24
//	view private_metadata                   3,000
//	view external_id                          255
//	any text object                       ≥ 1 character
//	Socket Mode ack frame                < 20,480 bytes (a larger one is dropped silently)
//	table / data_table                     limits_table.go (messages only, one each)
//	block_suggestion options                  100
const (
	MaxMessageText  = 40000
	MaxMessageBlock = 50
	MaxViewBlocks   = 100
	MaxAckBytes     = 20 * 1024 // an ack frame of this size or more is dropped
)

// Limits of single fields, named where the tests and the walker share them.
const (
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10
	maxHeaderText   = 150
	maxContextElems = 10
	maxActionElems  = 25
	maxLabel        = 2000
	maxID           = 255
	maxButtonText   = 75
	maxButtonValue  = 2000
	maxURL          = 3000
	maxPlaceholder  = 150
	maxSelectOpts   = 100
	maxChoiceOpts   = 10
	maxOverflowOpts = 5
	maxOptionText   = 75
	maxOptionValue  = 150
	maxInputLength  = 3000
	maxViewTitle    = 24
	maxMetadata     = 3000
	maxGenericText  = 3000
)

// LimitError is Slack's refusal of a payload: the error code and one message
// per violation, each ending in the JSON pointer of the offending field, e.g.
// "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
type LimitError struct {
	Code     string // invalid_blocks, invalid_arguments, invalid_attachments or msg_too_long
	Messages []string
}

func (e *LimitError) Error() string {
	return "slack: " + e.Code + ": " + strings.Join(e.Messages, "; ")
}

// response is the Web API body Slack sends for e: invalid_blocks lists the
// problems under "errors" too; every code carries them as response_metadata
// messages prefixed "[ERROR] ".
func (e *LimitError) response() map[string]any {
	r := apiErr(e.Code)
	msgs := make([]any, len(e.Messages))
	for i, m := range e.Messages {
		msgs[i] = "[ERROR] " + m
	}
	if e.Code == "invalid_blocks" {
		errs := make([]any, len(e.Messages))
		for i, m := range e.Messages {
			errs[i] = m
		}
		r["errors"] = errs
	}
	r["response_metadata"] = map[string]any{"messages": msgs}
	return r
}

// CheckMessage applies the message rules to text and blocks (a []slack.Block,
// a JSON string, raw JSON or nil) as chat.postMessage would, and returns
// Slack's refusal or nil. Other packages' tests use it on rendered replies.
func CheckMessage(text string, blocks any) error {
	raw, err := asJSON(blocks)
	if err != nil {
		return &LimitError{Code: "invalid_blocks", Messages: []string{err.Error()}}
	}
	if e := checkMessage(text, true, raw); e != nil {
		return e
	}
	return nil
}

// CheckView applies the view rules to view (a *slack.ModalViewRequest,
// slack.HomeTabViewRequest, JSON or a map) as views.open would, and returns
// Slack's refusal or nil.
func CheckView(view any) error {
	raw, err := asJSON(view)
	if err != nil || raw == "" {
		return &LimitError{Code: "invalid_arguments", Messages: []string{"must provide an object [json-pointer:/view]"}}
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v == nil {
		return &LimitError{Code: "invalid_arguments", Messages: []string{"must provide an object [json-pointer:/view]"}}
	}
	if e := checkView(v); e != nil {
		return e
	}
	return nil
}

func asJSON(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case json.RawMessage:
		return string(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot encode: %w", err)
	}
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

// checkMessage applies the message rules. hasText is false when the request
// leaves the text alone (chat.update without text). blocks is the JSON of the
// blocks argument ("" when absent).
func checkMessage(text string, hasText bool, blocks string) *LimitError {
	if hasText && runes(text) > MaxMessageText {
		return &LimitError{Code: "msg_too_long", Messages: []string{
			fmt.Sprintf("must be less than %d characters [json-pointer:/text]", MaxMessageText+1)}}
	}
	if blocks == "" {
		return nil
	}
	var arr any
	if err := json.Unmarshal([]byte(blocks), &arr); err != nil {
		return &LimitError{Code: "invalid_blocks", Messages: []string{"invalid JSON [json-pointer:/blocks]"}}
	}
	k := &walker{surface: "message"}
	k.blocks("/blocks", arr, MaxMessageBlock)
	if len(k.errs) > 0 {
		return &LimitError{Code: "invalid_blocks", Messages: k.errs}
	}
	return k.tableRefusal()
}

// checkView applies the view rules to a decoded view object.
func checkView(v map[string]any) *LimitError {
	k := &walker{}
	k.view("/view", v)
	if len(k.errs) > 0 {
		return &LimitError{Code: "invalid_arguments", Messages: k.errs}
	}
	return nil
}

// refuseOverLimits checks the payload of a Web API call that carries
// messages or views; it returns Slack's error response, or nil to go on.
// The refusal is remembered for the end-of-test report. s.mu held.
func (s *Server) refuseOverLimits(method string, c Call) map[string]any {
	var e *LimitError
	switch method {
	case "chat.postMessage", "chat.postEphemeral":
		e = checkMessage(param(c, "text"), true, param(c, "blocks"))
	case "chat.update":
		_, hasText := c.Form["text"]
		if !hasText {
			_, hasText = c.JSON["text"]
		}
		e = checkMessage(param(c, "text"), hasText, param(c, "blocks"))
	case "views.open", "views.push", "views.update", "views.publish":
		if v, found := requestView(c); found {
			e = checkView(v)
		}
	}
	if e == nil {
		return nil
	}
	s.refusals = append(s.refusals, method+": "+e.Error())
	return e.response()
}

// ExpectRefusals tells the fake that this test sends payloads over Slack's
// limits on purpose. Otherwise any refusal (a Web API call, a response_url
// post or an ack) fails the test when it ends, even if the code under test
// swallowed the error, since real Slack would have refused it too.
func (s *Server) ExpectRefusals() {
	s.mu.Lock()
	s.expectRef = true
	s.mu.Unlock()
}

// Refusals lists the payloads refused for Slack's limits so far, each as
// "<method>: <Slack's error>".
func (s *Server) Refusals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals...)
}

func (s *Server) reportRefusals(t testing.TB) {
	s.mu.Lock()
	refused, expected := s.refusals, s.expectRef
	s.mu.Unlock()
	if len(refused) > 0 && !expected {
		t.Errorf("slacktest: Slack would have refused %d payload(s) for its limits:\n%s", len(refused), strings.Join(refused, "\n"))
	}
}

func runes(s string) int { return len([]rune(s)) }
