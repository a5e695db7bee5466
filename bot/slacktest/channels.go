package slacktest

import (
	"encoding/base64"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	reConversationID = regexp.MustCompile(`^[CGD][A-Z0-9]+$`)
	reUserID         = regexp.MustCompile(`^[UW][A-Z0-9]+$`)
)

// Like Slack, the fake takes a #name (or bare name) only where Slack does:
// chat.postMessage and chat.postEphemeral. chat.update, files and the
// conversations.* methods need the ID and answer channel_not_found for a
// name (slackapi/python-slack-sdk#696). Any well-formed ID is accepted as an
// existing channel; a name must be registered with AddChannel.

// postTarget resolves the channel argument of chat.postMessage: an ID as it
// is, a user ID to the user's DM with the bot ("D"+user), a registered name
// to its ID; "" when nothing matches.
func (s *Server) postTarget(ch string) string {
	switch {
	case reConversationID.MatchString(ch):
		return ch
	case reUserID.MatchString(ch):
		return "D" + ch
	}
	if id, ok := s.channelByNam[strings.TrimPrefix(ch, "#")]; ok {
		return id
	}
	return ""
}

// idTarget is the channel argument of a method that takes IDs only: "" for
// anything else, a name included.
func (s *Server) idTarget(ch string) string {
	if reConversationID.MatchString(ch) {
		return ch
	}
	return ""
}

// RenameChannel gives channel id a new name; the old name no longer resolves.
func (s *Server) RenameChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.channelByNam, s.channels[id])
	s.channels[id] = name
	s.channelByNam[name] = id
}

// ArchiveChannel archives id: it leaves conversations.list (exclude_archived)
// and posts to it fail with is_archived.
func (s *Server) ArchiveChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived[id] = true
	delete(s.channelByNam, s.channels[id])
}

// conversationsList pages through the registered channels by ID, as
// Slack does: limit 1-1000 (default 100), an opaque cursor, and
// response_metadata.next_cursor "" on the last page.
func (s *Server) conversationsList(c Call) map[string]any {
	ids := make([]string, 0, len(s.channels))
	for id := range s.channels {
		if !(s.archived[id] && param(c, "exclude_archived") == "true") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	off := 0
	if cur := param(c, "cursor"); cur != "" {
		b, err := base64.StdEncoding.DecodeString(cur)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "chan:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "chan:") || n < 0 || n > len(ids) {
			return apiErr("invalid_cursor")
		}
		off = n
	}
	limit := 100
	if l := param(c, "limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return apiErr("invalid_limit")
		}
		limit = n
	}
	end := min(off+limit, len(ids))
	out := make([]any, 0, end-off)
	for _, id := range ids[off:end] {
		out = append(out, map[string]any{"id": id, "name": s.channels[id], "is_channel": id[0] == 'C',
			"is_private": id[0] == 'G', "is_archived": s.archived[id], "is_member": !s.notJoined[id]})
	}
	next := ""
	if end < len(ids) {
		next = base64.StdEncoding.EncodeToString([]byte("chan:" + strconv.Itoa(end)))
	}
	return map[string]any{"ok": true, "channels": out, "response_metadata": map[string]any{"next_cursor": next}}
}

// SetMember makes the bot a member of public channel id or not (by default
// it is a member of every channel). opsbot may post to a public channel it
// has not joined (chat:write.public), but Slack refuses to let it read one:
// conversations.history and .replies answer not_in_channel until
// conversations.join.
func (s *Server) SetMember(id string, member bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if member {
		delete(s.notJoined, id)
	} else {
		s.notJoined[id] = true
	}
}

// readable refuses to read a channel the bot is not in. s.mu held.
func (s *Server) readable(ch string) map[string]any {
	if s.notJoined[ch] {
		return apiErr("not_in_channel")
	}
	return nil
}

// conversationsJoin joins a public channel by ID (channels:join). Private
// channels need an invitation: method_not_supported_for_channel_type.
func (s *Server) conversationsJoin(c Call) map[string]any {
	ch := s.idTarget(param(c, "channel")) // any ID-shaped channel exists, as for history
	name := s.channels[ch]
	switch {
	case ch == "":
		return apiErr("channel_not_found")
	case ch[0] != 'C':
		return apiErr("method_not_supported_for_channel_type")
	case s.archived[ch]:
		return apiErr("is_archived")
	}
	delete(s.notJoined, ch)
	return map[string]any{"ok": true, "channel": map[string]any{"id": ch, "name": name, "is_channel": true, "is_member": true}}
}
