package slacktest

import (
	"encoding/json"
	"fmt"
	"time"
)

// BlockAction describes a button click. With ViewID set the container is
// that view (type "view", and the payload carries the view, whose
// callback_id is CallbackID if set, else the stored one); otherwise the
// container is the message ChannelID/MessageTS (ChannelID may be left empty
// when MessageTS was returned by chat.postMessage). Text is the button label
// (default ActionID).
type BlockAction struct {
	ActionID, BlockID, Value, ChannelID, MessageTS, ViewID, CallbackID string
	Text                                                               string
}

// ViewSubmission describes a modal submit. Values is state.values:
// block_id -> action_id -> element state, e.g.
// {"summary_block": {"summary_input": {"type": "plain_text_input", "value": "x"}}}.
// With ViewID of a view opened through the fake, title/blocks come from the
// stored view, and CallbackID/PrivateMetadata default to the stored ones.
// An empty ViewID gets a fresh "V<n>".
type ViewSubmission struct {
	CallbackID, ViewID, PrivateMetadata string
	Values                              map[string]map[string]any
}

type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           *int            `json:"retry_attempt,omitempty"`
	RetryReason            *string         `json:"retry_reason,omitempty"`
	Payload                json.RawMessage `json:"payload"`
}

func (s *Server) newID(kind, format string) string {
	s.mu.Lock()
	n := s.next(kind)
	s.mu.Unlock()
	return fmt.Sprintf(format, n)
}

// SendEnvelope sends an envelope of envType ("events_api", "interactive",
// "slash_commands", ...) with payload marshalled as JSON ([]byte and
// json.RawMessage are used as is) and returns its new ID "env-N".
// retry_attempt/retry_reason are included for events_api or retryAttempt > 0.
// Without a socket the envelope is queued until one connects.
func (s *Server) SendEnvelope(envType string, payload any, acceptsResponse bool, retryAttempt int) string {
	id := s.newID("env", "env-%d")
	s.SendEnvelopeWithID(id, envType, payload, acceptsResponse, retryAttempt)
	return id
}

// SendEnvelopeWithID is SendEnvelope with a caller-chosen envelope ID, e.g. to
// redeliver an envelope as Slack does; WaitAck(envelopeID) then waits for the
// ack of this latest delivery. It panics if payload cannot be marshalled.
func (s *Server) SendEnvelopeWithID(envelopeID, envType string, payload any, acceptsResponse bool, retryAttempt int) {
	var raw json.RawMessage
	switch p := payload.(type) {
	case []byte:
		raw = p
	case json.RawMessage:
		raw = p
	default:
		var err error
		if raw, err = json.Marshal(payload); err != nil {
			panic(fmt.Sprintf("slacktest: marshal %s payload: %v", envType, err))
		}
	}
	env := envelope{EnvelopeID: envelopeID, Type: envType, AcceptsResponsePayload: acceptsResponse, Payload: raw}
	if envType == "events_api" || retryAttempt > 0 {
		reason := ""
		if retryAttempt > 0 {
			reason = "timeout"
		}
		env.RetryAttempt, env.RetryReason = &retryAttempt, &reason
	}
	frame, err := json.Marshal(env)
	if err != nil {
		panic(fmt.Sprintf("slacktest: marshal envelope: %v", err))
	}
	s.mu.Lock()
	st := s.env(envelopeID)
	st.gen++
	s.noteEnvelope(st, envType, acceptsResponse, raw)
	s.mu.Unlock()
	s.deliver(envelopeID, frame)
}

// SlashCommand sends "/ops text" from userID in channelID as a
// slash_commands envelope (accepts_response_payload true) with a fresh
// trigger_id and response_url s.URL+"/hooks/commands/N"; returns its ID.
func (s *Server) SlashCommand(userID, channelID, text string) string {
	id := s.newID("env", "env-%d")
	s.SlashCommandWithID(id, userID, channelID, text)
	return id
}

// SlashCommandWithID is SlashCommand with a caller-chosen envelope ID.
func (s *Server) SlashCommandWithID(envelopeID, userID, channelID, text string) {
	s.mu.Lock()
	p := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "team_domain": "fake",
		"channel_id": channelID, "channel_name": s.channelName(channelID),
		"user_id": userID, "user_name": s.userName(userID),
		"command": Command, "text": text, "api_app_id": AppID,
		"is_enterprise_install": "false",
		"response_url":          fmt.Sprintf("%s/hooks/commands/%d", s.URL, s.next("hook")),
		"trigger_id":            s.issueTrigger(),
	}
	s.mu.Unlock()
	s.SendEnvelopeWithID(envelopeID, "slash_commands", p, true, 0)
}

// BlockAction sends a block_actions interactive envelope (accepts_response_payload
// false) with a fresh trigger_id and response_url s.URL+"/hooks/actions/N";
// returns its ID.
func (s *Server) BlockAction(userID string, a BlockAction) string {
	s.mu.Lock()
	text := a.Text
	if text == "" {
		text = a.ActionID
	}
	action := map[string]any{
		"type": "button", "action_id": a.ActionID, "block_id": a.BlockID, // block_id must be present
		"text":      map[string]any{"type": "plain_text", "text": text, "emoji": true},
		"action_ts": slackTS(time.Now()),
	}
	if a.Value != "" {
		action["value"] = a.Value
	}
	p := s.basePayload("block_actions", userID)
	p["actions"] = []any{action}
	p["state"] = map[string]any{"values": map[string]any{}}
	p["response_url"] = fmt.Sprintf("%s/hooks/actions/%d", s.URL, s.next("hook"))
	if a.ViewID != "" {
		p["container"] = map[string]any{"type": "view", "view_id": a.ViewID}
		p["view"] = s.viewObject(a.ViewID, a.CallbackID, "", nil)
	} else {
		ch := a.ChannelID
		msg := map[string]any{"type": "message", "ts": a.MessageTS, "text": ""}
		if m := s.msgByTS[a.MessageTS]; m != nil {
			if ch == "" {
				ch = m.Channel
			}
			msg["text"], msg["user"], msg["bot_id"] = m.Text, BotUserID, BotID
			if m.Blocks != nil {
				msg["blocks"] = m.Blocks
			}
			if m.ThreadTS != "" {
				msg["thread_ts"] = m.ThreadTS
			}
		}
		p["container"] = map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": ch, "is_ephemeral": false}
		p["channel"] = map[string]any{"id": ch, "name": s.channelName(ch)}
		p["message"] = msg
	}
	s.mu.Unlock()
	return s.SendEnvelope("interactive", p, false, 0)
}

// ViewSubmission sends a view_submission interactive envelope
// (accepts_response_payload true) with a fresh trigger_id; returns its ID.
func (s *Server) ViewSubmission(userID string, v ViewSubmission) string {
	s.mu.Lock()
	viewID := v.ViewID
	if viewID == "" {
		viewID = fmt.Sprintf("V%d", s.next("view"))
	}
	p := s.basePayload("view_submission", userID)
	view := s.viewObject(viewID, v.CallbackID, v.PrivateMetadata, v.Values)
	p["view"] = view
	p["response_urls"] = []any{}
	id := fmt.Sprintf("env-%d", s.next("env"))
	if _, opened := s.views[viewID]; opened {
		s.env(id).inputs = inputBlockIDs(view)
	}
	s.mu.Unlock()
	s.SendEnvelopeWithID(id, "interactive", p, true, 0)
	return id
}

// inputBlockIDs lists the block IDs of a view's input blocks: the only ones
// a response_action "errors" may name.
func inputBlockIDs(view map[string]any) map[string]bool {
	ids := map[string]bool{}
	blocks, _ := view["blocks"].([]any)
	for _, b := range blocks {
		if m, ok := b.(map[string]any); ok && m["type"] == "input" {
			if id, ok := m["block_id"].(string); ok {
				ids[id] = true
			}
		}
	}
	return ids
}

// ViewClosed sends a view_closed interactive envelope for viewID; returns its ID.
func (s *Server) ViewClosed(userID, viewID string) string {
	s.mu.Lock()
	p := s.basePayload("view_closed", userID)
	p["view"] = s.viewObject(viewID, "", "", nil)
	p["is_cleared"] = false
	delete(p, "trigger_id")
	s.mu.Unlock()
	return s.SendEnvelope("interactive", p, false, 0)
}

// EventCallback sends an events_api envelope whose payload is an
// event_callback wrapping event (e.g. {"type":"app_home_opened",...}), with a
// fresh event_id "EvN"; returns the envelope ID and the event_id.
func (s *Server) EventCallback(event any, retryAttempt int) (envelopeID, eventID string) {
	eventID = s.newID("event", "Ev%08d")
	return s.EventCallbackWithID(eventID, event, retryAttempt), eventID
}

// EventCallbackWithID is EventCallback with a caller-chosen event_id, e.g. to
// redeliver an event under a new envelope as Slack does; returns the new
// envelope ID.
func (s *Server) EventCallbackWithID(eventID string, event any, retryAttempt int) (envelopeID string) {
	p := map[string]any{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID,
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(), "event": event,
		"authorizations": []any{map[string]any{"team_id": TeamID, "user_id": BotUserID, "is_bot": true}},
	}
	return s.SendEnvelope("events_api", p, false, retryAttempt)
}

// basePayload is the common part of interactive payloads. s.mu held.
func (s *Server) basePayload(typ, userID string) map[string]any {
	name := s.userName(userID)
	return map[string]any{
		"type": typ, "api_app_id": AppID, "token": VerificationToken,
		"trigger_id": s.issueTrigger(),
		"user":       map[string]any{"id": userID, "username": name, "name": name, "team_id": TeamID},
		"team":       map[string]any{"id": TeamID, "domain": "fake"},
		"enterprise": nil, "is_enterprise_install": false,
	}
}

// viewObject builds the payload view for id from the stored view (if any),
// overriding callback_id/private_metadata when non-empty. s.mu held.
func (s *Server) viewObject(id, callbackID, meta string, values map[string]map[string]any) map[string]any {
	v := map[string]any{}
	if raw, ok := s.views[id]; ok {
		_ = json.Unmarshal(raw, &v)
	}
	v["id"], v["team_id"], v["app_id"], v["bot_id"] = id, TeamID, AppID, BotID
	if v["type"] == nil {
		v["type"] = "modal"
	}
	if callbackID != "" || v["callback_id"] == nil {
		v["callback_id"] = callbackID
	}
	if meta != "" || v["private_metadata"] == nil {
		v["private_metadata"] = meta
	}
	if v["root_view_id"] == nil {
		v["root_view_id"] = id
	}
	if v["hash"] == nil {
		v["hash"] = fmt.Sprintf("%s.h%d", slackTS(time.Now()), s.next("hash"))
	}
	st := map[string]any{}
	for k, m := range values {
		st[k] = m
	}
	v["state"] = map[string]any{"values": st}
	return v
}

// NewTriggerID issues a fresh trigger_id accepted once by views.open or
// views.push within the trigger TTL, as if an interaction had produced it.
func (s *Server) NewTriggerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTrigger()
}

// issueTrigger returns a fresh trigger_id valid for views.open. s.mu held.
func (s *Server) issueTrigger() string {
	n := s.next("trigger")
	id := fmt.Sprintf("%d.%d.faketrigger%04d", 1000000000+n, 700000000+n, n)
	s.triggers[id] = &trigger{issued: time.Now()}
	return id
}

// userName is the AddUser name of id, else id. s.mu held.
func (s *Server) userName(id string) string {
	if i, ok := s.userIdx[id]; ok && s.users[i].Name != "" {
		return s.users[i].Name
	}
	return id
}

// channelName is the AddChannel name of id, else id. s.mu held.
func (s *Server) channelName(id string) string {
	if n, ok := s.channels[id]; ok {
		return n
	}
	return id
}

// slackTS formats t as a Slack timestamp "seconds.micros".
func slackTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}
