package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ErrAckDropped is wrapped by the error WaitAck returns when the latest
// delivery's ack was dropped, as Slack drops it: a frame of 20 KB or more, or
// a payload Slack refuses (an invalid view, too many options). Slack says
// nothing to the app; the envelope counts as not acknowledged.
var ErrAckDropped = errors.New("slacktest: ack dropped")

// DroppedAck is an ack frame the fake received and threw away, with why.
type DroppedAck struct {
	EnvelopeID string
	Size       int // bytes of the frame
	Reason     string
	At         time.Time
}

// DroppedAcks returns the acks dropped so far, in arrival order.
func (s *Server) DroppedAcks() []DroppedAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DroppedAck(nil), s.dropped...)
}

// recordDropped stores a dropped ack against the current delivery of its
// envelope and wakes WaitAck.
func (s *Server) recordDropped(id string, size int, reason string) {
	s.mu.Lock()
	st := s.env(id)
	st.droppedGen = st.gen
	s.dropped = append(s.dropped, DroppedAck{EnvelopeID: id, Size: size, Reason: reason, At: time.Now()})
	s.refusals = append(s.refusals, "ack of "+id+": "+reason)
	s.notifyAcks()
	s.mu.Unlock()
}

// ackRefusal says why Slack would drop this ack frame, or "". The payload is
// judged by what it carries: a view_submission response_action, a
// block_suggestion's options, or a message (a slash command's reply).
func ackRefusal(frame []byte, payload json.RawMessage) string {
	if len(frame) >= MaxAckBytes {
		return fmt.Sprintf("frame of %d bytes; Slack drops acks of %d bytes or more", len(frame), MaxAckBytes)
	}
	if len(payload) == 0 || string(payload) == "null" {
		return ""
	}
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		return "payload is not a JSON object"
	}
	var e *LimitError
	switch {
	case p["response_action"] != nil:
		e = checkResponseAction(p)
	case p["options"] != nil || p["option_groups"] != nil:
		e = checkOptionsResponse(p)
	default:
		text, _ := p["text"].(string)
		blocks, _ := asJSON(p["blocks"])
		e = checkMessage(text, true, blocks)
	}
	if e != nil {
		return e.Error()
	}
	return ""
}

// errorsRefusal says why Slack would refuse a view_submission's
// response_action "errors" naming a block that is not an input block of the
// submitted view, or "". Slack then shows "We had some trouble connecting"
// in the modal and the person's answers stay unexplained. Only checked when
// the view was opened through the fake (its blocks are known).
func (s *Server) errorsRefusal(envelopeID string, payload json.RawMessage) string {
	var p struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Action != "errors" {
		return ""
	}
	s.mu.Lock()
	inputs := s.env(envelopeID).inputs
	s.mu.Unlock()
	if inputs == nil {
		return ""
	}
	for _, id := range slices.Sorted(maps.Keys(p.Errors)) {
		if !inputs[id] {
			return fmt.Sprintf("response_action errors names block %q, which is not an input block of the view; Slack shows \"We had some trouble connecting\"", id)
		}
	}
	return ""
}

// checkResponseAction checks a view_submission response: update and push
// carry a view under the view rules; errors is an object of messages.
func checkResponseAction(p map[string]any) *LimitError {
	switch p["response_action"] {
	case "update", "push":
		v, ok := p["view"].(map[string]any)
		if !ok {
			return &LimitError{Code: "invalid_arguments", Messages: []string{"must provide an object [json-pointer:/view]"}}
		}
		return checkView(v)
	case "errors":
		if _, ok := p["errors"].(map[string]any); !ok {
			return &LimitError{Code: "invalid_arguments", Messages: []string{"must provide an object [json-pointer:/errors]"}}
		}
	case "clear":
	default:
		return &LimitError{Code: "invalid_arguments", Messages: []string{"must be a valid enum value [json-pointer:/response_action]"}}
	}
	return nil
}

// checkOptionsResponse checks a block_suggestion answer: at most 100 options
// (or option groups), each under the option rules with plain_text text.
func checkOptionsResponse(p map[string]any) *LimitError {
	k := &walker{}
	k.options("/options", p["options"], maxSelectOpts, true)
	for i, g := range k.list("/option_groups", p["option_groups"], maxSelectOpts, false) {
		gm, _ := g.(map[string]any)
		k.text(at("/option_groups", i)+"/label", gm["label"], maxOptionText, true, true)
		k.options(at("/option_groups", i)+"/options", gm["options"], maxSelectOpts, true)
	}
	if len(k.errs) > 0 {
		return &LimitError{Code: "invalid_arguments", Messages: k.errs}
	}
	return nil
}

// hookRefusal applies the message rules to a response_url post; Slack's
// hooks answer a refused one with HTTP 400 and the error code as the body.
func hookRefusal(c Call) *LimitError {
	if c.JSON == nil {
		return nil
	}
	text, _ := c.JSON["text"].(string)
	blocks, err := asJSON(c.JSON["blocks"])
	if err != nil {
		return &LimitError{Code: "invalid_blocks", Messages: []string{err.Error()}}
	}
	return checkMessage(text, true, blocks)
}
