package slacktest

import (
	"encoding/json"
	"net/http"
	"time"
)

// SetTokens restricts the accepted bot (xoxb-) and app-level (xapp-) tokens
// to exactly these values. An empty string restores "any token with the
// right prefix" for that kind.
func (s *Server) SetTokens(bot, app string) {
	s.mu.Lock()
	s.botToken, s.appToken = bot, app
	s.mu.Unlock()
}

// SetPingInterval sets how often the fake sends websocket PINGs (default
// 50 ms); it takes effect after the next ping. d <= 0 stops pings, which
// makes slack-go drop the socket after its own ping timeout.
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	s.pingInterval = d
	s.mu.Unlock()
}

// SetTriggerTTL sets how long an issued trigger_id stays valid for views.open
// and views.push (default 3 s, as on Slack).
func (s *Server) SetTriggerTTL(d time.Duration) {
	s.mu.Lock()
	s.triggerTTL = d
	s.mu.Unlock()
}

// SetAckDeadline sets the ack deadline enforced by WaitAck (default 3 s, as
// on Slack); d <= 0 disables the check.
func (s *Server) SetAckDeadline(d time.Duration) {
	s.mu.Lock()
	s.ackDeadline = d
	s.mu.Unlock()
}

// AddUser adds or replaces a workspace member (users.list keeps insertion order).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.userIdx[u.ID]; ok {
		s.users[i] = u
		return
	}
	s.userIdx[u.ID] = len(s.users)
	s.users = append(s.users, u)
}

// AddChannel registers a channel so that "#name" and "name" resolve to id in
// chat.* calls and envelopes carry its name.
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	s.channels[id] = name
	s.channelByNam[name] = id
	s.mu.Unlock()
}

// next returns the next value of a named sequence, starting at 1. s.mu held.
func (s *Server) next(kind string) int {
	s.counters[kind]++
	return s.counters[kind]
}

// FailNext makes the next call of method ("chat.postMessage", "response_url",
// "file_upload", ...) get this response instead of the normal one. Several
// FailNext calls for one method queue up. A 429 without Retry-After gets
// "Retry-After: 1"; an empty body becomes {"ok":false,"error":"ratelimited"}
// for 429 and {"ok":false,"error":"fatal_error"} otherwise.
func (s *Server) FailNext(method string, status int, body string, header http.Header) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], failure{status: status, body: body, header: header.Clone()})
	s.mu.Unlock()
}

// Messages returns copies of the stored messages of channel (an ID, or a
// name registered with AddChannel) in posting order; "" returns all.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	channel = s.resolveChannel(channel)
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Files returns the files whose upload was completed with
// files.completeUploadExternal, in completion order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, id := range s.fileOrder {
		out = append(out, s.files[id].File)
	}
	return out
}

// View returns the view object last returned by views.open/update/push/publish
// for id (the same JSON the client got back).
func (s *Server) View(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	return v, ok
}

// Pongs returns how many websocket PONGs the client has sent.
func (s *Server) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

// resolveChannel maps "#name"/"name" to a registered ID and a user ID to
// their DM, for tests that look messages up. s.mu held.
func (s *Server) resolveChannel(ch string) string {
	if id := s.postTarget(ch); id != "" {
		return id
	}
	return ch
}
