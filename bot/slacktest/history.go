package slacktest

import (
	"net/http"
	"strconv"
	"strings"
)

// FailAfter makes the next call of method take effect and then answer with
// status (e.g. 500): a reply lost on its way back, after Slack processed
// the call. A client that simply retries posts a second message.
func (s *Server) FailAfter(method string, status int) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], failure{status: status, after: true, header: http.Header{}})
	s.mu.Unlock()
}

// historyObject is a message as conversations.history/replies return it:
// metadata only when include_all_metadata=true.
func historyObject(m *Message, withMetadata bool) map[string]any {
	o := messageObject(m)
	if withMetadata && m.Metadata != nil {
		o["metadata"] = m.Metadata
	}
	return o
}

// historyLimit reads limit (1-999, default 100) or answers invalid_limit.
func historyLimit(c Call) (int, bool) {
	l := param(c, "limit")
	if l == "" {
		return 100, true
	}
	n, err := strconv.Atoi(l)
	return n, err == nil && n >= 1 && n <= 999
}

// conversationsHistory returns a channel's top-level messages, newest
// first. It takes an ID only (channel_not_found for a name), like Slack.
func (s *Server) conversationsHistory(c Call) map[string]any {
	ch := s.idTarget(param(c, "channel"))
	if ch == "" {
		return apiErr("channel_not_found")
	}
	if refused := s.readable(ch); refused != nil {
		return refused
	}
	limit, ok := historyLimit(c)
	if !ok {
		return apiErr("invalid_limit")
	}
	meta := truthy(param(c, "include_all_metadata"))
	out := []any{}
	for i := len(s.messages) - 1; i >= 0 && len(out) < limit; i-- {
		if m := s.messages[i]; m.Channel == ch && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			out = append(out, historyObject(m, meta))
		}
	}
	return map[string]any{"ok": true, "messages": out, "has_more": false}
}

// conversationsReplies returns a thread: its parent, then the replies in
// order, limit at a time with a cursor (has_more and next_cursor) as Slack
// pages it. It takes an ID only; an unknown ts gives thread_not_found.
func (s *Server) conversationsReplies(c Call) map[string]any {
	ch := s.idTarget(param(c, "channel"))
	if ch == "" {
		return apiErr("channel_not_found")
	}
	if refused := s.readable(ch); refused != nil {
		return refused
	}
	parent := s.msgByTS[param(c, "ts")]
	if parent == nil || parent.Channel != ch {
		return apiErr("thread_not_found")
	}
	limit, ok := historyLimit(c)
	if !ok {
		return apiErr("invalid_limit")
	}
	off := 0
	if cur := param(c, "cursor"); cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "replies:"))
		if err != nil || !strings.HasPrefix(cur, "replies:") || n < 0 {
			return apiErr("invalid_cursor")
		}
		off = n
	}
	meta := truthy(param(c, "include_all_metadata"))
	thread := []*Message{parent}
	for _, m := range s.messages {
		if m.Channel == ch && m.ThreadTS == parent.TS && m != parent {
			thread = append(thread, m)
		}
	}
	end := min(off+limit, len(thread))
	out := []any{}
	for _, m := range thread[min(off, end):end] {
		out = append(out, historyObject(m, meta))
	}
	resp := map[string]any{"ok": true, "messages": out, "has_more": end < len(thread)}
	if end < len(thread) {
		resp["response_metadata"] = map[string]any{"next_cursor": "replies:" + strconv.Itoa(end)}
	}
	return resp
}

// truthy reads a Slack boolean argument: "true" or "1".
func truthy(v string) bool { return v == "true" || v == "1" }
