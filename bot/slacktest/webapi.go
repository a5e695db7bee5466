package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const maxBody = 64 << 20

// apiHandler answers one Web API method; it runs with s.mu held and returns
// the JSON response object (always sent with HTTP 200).
type apiHandler func(s *Server, c Call) map[string]any

var apiHandlers map[string]apiHandler

func init() {
	apiHandlers = map[string]apiHandler{
		"apps.connections.open":        (*Server).appsConnectionsOpen,
		"auth.test":                    (*Server).authTest,
		"chat.postMessage":             (*Server).chatPostMessage,
		"chat.update":                  (*Server).chatUpdate,
		"chat.postEphemeral":           (*Server).chatPostEphemeral,
		"chat.unfurl":                  (*Server).chatUnfurl,
		"conversations.open":           (*Server).conversationsOpen,
		"conversations.list":           (*Server).conversationsList,
		"conversations.history":        (*Server).conversationsHistory,
		"conversations.join":           (*Server).conversationsJoin,
		"conversations.replies":        (*Server).conversationsReplies,
		"users.info":                   (*Server).usersInfo,
		"users.list":                   (*Server).usersList,
		"users.lookupByEmail":          (*Server).usersLookupByEmail,
		"views.open":                   (*Server).viewsOpen,
		"views.push":                   (*Server).viewsPush,
		"views.update":                 (*Server).viewsUpdate,
		"views.publish":                (*Server).viewsPublish,
		"files.getUploadURLExternal":   (*Server).filesGetUploadURL,
		"files.completeUploadExternal": (*Server).filesComplete,
	}
}

func ok() map[string]any { return map[string]any{"ok": true} }

func apiErr(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// serveAPI handles POST (or GET) /api/<method>: record, failure injection,
// token check, then the method handler; unknown methods get unknown_method.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	c, _, err := readCall(r, method)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The call is recorded once it has been handled, so a test that sees
	// it (WaitCall) also sees its effect (Messages, views).
	defer s.recordCall(c)
	if s.injectFailure(w, method, false) {
		return
	}
	s.mu.Lock()
	var resp map[string]any
	h := apiHandlers[method]
	switch {
	case h == nil:
		resp = apiErr("unknown_method")
	default:
		if code := s.checkToken(c, method == "apps.connections.open"); code != "" {
			resp = apiErr(code)
		} else if resp = s.refuseOverLimits(method, c); resp == nil {
			resp = h(s, c)
		}
	}
	s.mu.Unlock()
	if s.injectFailure(w, method, true) {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// readCall reads and parses a request body (JSON, form or multipart) into a
// Call; the multipart form (with files) is returned too.
func readCall(r *http.Request, method string) (Call, *multipart.Form, error) {
	c := Call{Method: method, Path: r.URL.Path, Form: r.URL.Query(), Header: r.Header.Clone(), At: time.Now()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return c, nil, err
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" && len(bytes.TrimSpace(body)) > 0:
		if err := json.Unmarshal(body, &c.JSON); err != nil {
			return c, nil, fmt.Errorf("bad JSON body: %w", err)
		}
	case ct == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return c, nil, fmt.Errorf("bad form body: %w", err)
		}
		for k, v := range vals {
			c.Form[k] = append(c.Form[k], v...)
		}
	case ct == "multipart/form-data":
		mf, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return c, nil, fmt.Errorf("bad multipart body: %w", err)
		}
		for k, v := range mf.Value {
			c.Form[k] = append(c.Form[k], v...)
		}
		return c, mf, nil
	}
	return c, nil, nil
}

// param returns a request parameter from the form, else a string field of
// the JSON body.
func param(c Call, key string) string {
	if v := c.Form.Get(key); v != "" {
		return v
	}
	if v, ok := c.JSON[key].(string); ok {
		return v
	}
	return ""
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(h http.Header) string {
	a := h.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return a[7:]
	}
	return ""
}

// checkToken returns "" if the call carries a valid bot (or, for app, app-level)
// token in the form field token or an Authorization Bearer header, else the
// Slack error code. s.mu held.
func (s *Server) checkToken(c Call, app bool) string {
	tok := c.Form.Get("token")
	if tok == "" {
		tok = bearer(c.Header)
	}
	want, prefix := s.botToken, "xoxb-"
	if app {
		want, prefix = s.appToken, "xapp-"
	}
	switch {
	case tok == "":
		return "not_authed"
	case want != "" && tok != want, want == "" && !strings.HasPrefix(tok, prefix):
		return "invalid_auth"
	}
	return ""
}

// injectFailure writes the queued FailNext (after: FailAfter) response for
// method, if one is next.
func (s *Server) injectFailure(w http.ResponseWriter, method string, after bool) bool {
	s.mu.Lock()
	q := s.fail[method]
	if len(q) == 0 || q[0].after != after {
		s.mu.Unlock()
		return false
	}
	f := q[0]
	s.fail[method] = q[1:]
	s.mu.Unlock()
	for k, v := range f.header {
		w.Header()[k] = v
	}
	body := f.body
	if f.status == http.StatusTooManyRequests {
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
		if body == "" {
			body = `{"ok":false,"error":"ratelimited"}`
		}
	}
	if body == "" {
		body = `{"ok":false,"error":"fatal_error"}`
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, body)
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appsConnectionsOpen issues a single-use ticket for /ws.
func (s *Server) appsConnectionsOpen(Call) map[string]any {
	ticket := fmt.Sprintf("t%d", s.next("ticket"))
	s.tickets[ticket] = true
	return map[string]any{"ok": true, "url": s.wsURL + "/ws?ticket=" + ticket + "&app_id=" + AppID}
}

func (s *Server) authTest(Call) map[string]any {
	return map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "fake", "user": "opsbot",
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID}
}

// nextTS returns a unique, increasing message ts: 1700000000.000100, .000200, ...
func (s *Server) nextTS() string {
	total := int64(1700000000)*1_000_000 + int64(s.next("ts"))*100
	return fmt.Sprintf("%d.%06d", total/1_000_000, total%1_000_000)
}

// messageObject is the message JSON returned by chat.postMessage/update.
func messageObject(m *Message) map[string]any {
	o := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "user": BotUserID, "bot_id": BotID}
	if m.Blocks != nil {
		o["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	return o
}

// chatPostMessage stores the message; requires a channel ID, user ID or
// registered name and text, blocks or attachments (no_text); blocks must be
// valid JSON (invalid_blocks). It answers with the channel's ID.
func (s *Server) chatPostMessage(c Call) map[string]any {
	ch := s.postTarget(param(c, "channel"))
	switch {
	case ch == "":
		return apiErr("channel_not_found")
	case s.archived[ch]:
		return apiErr("is_archived")
	}
	text, blocks := param(c, "text"), param(c, "blocks")
	if text == "" && blocks == "" && param(c, "attachments") == "" {
		return apiErr("no_text")
	}
	m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: param(c, "thread_ts"), Text: text}
	if md := param(c, "metadata"); md != "" {
		if !json.Valid([]byte(md)) {
			return apiErr("invalid_metadata_format")
		}
		m.Metadata = json.RawMessage(md)
	}
	if blocks != "" {
		if !json.Valid([]byte(blocks)) {
			return apiErr("invalid_blocks")
		}
		m.Blocks = json.RawMessage(blocks)
	}
	s.messages = append(s.messages, m)
	s.msgByTS[m.TS] = m
	return map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": messageObject(m)}
}

// chatUpdate replaces text and/or blocks (those present in the request) of a
// stored message; a name (not an ID) gives channel_not_found, an unknown
// channel/ts message_not_found.
func (s *Server) chatUpdate(c Call) map[string]any {
	ch := s.idTarget(param(c, "channel"))
	if ch == "" {
		return apiErr("channel_not_found")
	}
	m := s.msgByTS[param(c, "ts")]
	if m == nil || m.Channel != ch {
		return apiErr("message_not_found")
	}
	if blocks, has := c.Form["blocks"]; has {
		if !json.Valid([]byte(blocks[0])) {
			return apiErr("invalid_blocks")
		}
		m.Blocks = json.RawMessage(blocks[0])
	}
	if _, has := c.Form["text"]; has {
		m.Text = c.Form.Get("text")
	}
	m.Updated++
	return map[string]any{"ok": true, "channel": ch, "ts": m.TS, "text": m.Text, "message": messageObject(m)}
}

// chatPostEphemeral requires channel and user; only recorded as a Call.
func (s *Server) chatPostEphemeral(c Call) map[string]any {
	if s.postTarget(param(c, "channel")) == "" {
		return apiErr("channel_not_found")
	}
	if param(c, "user") == "" {
		return apiErr("user_not_in_channel")
	}
	return map[string]any{"ok": true, "message_ts": s.nextTS()}
}
