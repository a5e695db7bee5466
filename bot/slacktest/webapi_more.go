package slacktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

var tzCache sync.Map // IANA name -> *time.Location (nil if unknown)

// userObject renders u in the users.info / users.list member shape.
func userObject(u User) map[string]any {
	off, label := 0, ""
	if u.TZ != "" {
		loc, seen := tzCache.Load(u.TZ)
		if !seen {
			l, err := time.LoadLocation(u.TZ)
			if err != nil {
				l = nil
			}
			loc, _ = tzCache.LoadOrStore(u.TZ, l)
		}
		if l, _ := loc.(*time.Location); l != nil {
			label, off = time.Now().In(l).Zone()
		}
	}
	return map[string]any{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": u.Deleted, "is_bot": u.IsBot, "is_app_user": false, "updated": 1700000000,
		"tz": u.TZ, "tz_label": label, "tz_offset": off,
		"profile": map[string]any{
			"email": u.Email, "real_name": u.RealName, "real_name_normalized": u.RealName,
			"display_name": u.Name, "display_name_normalized": u.Name, "team": TeamID,
		},
	}
}

func (s *Server) usersInfo(c Call) map[string]any {
	i, found := s.userIdx[param(c, "user")]
	if !found {
		return apiErr("user_not_found")
	}
	return map[string]any{"ok": true, "user": userObject(s.users[i])}
}

func (s *Server) usersLookupByEmail(c Call) map[string]any {
	email := param(c, "email")
	for _, u := range s.users {
		if email != "" && strings.EqualFold(u.Email, email) {
			return map[string]any{"ok": true, "user": userObject(u)}
		}
	}
	return apiErr("users_not_found")
}

// usersList pages through users in AddUser order; limit <= 0 means all,
// cursors are opaque (base64 "user:<offset>").
func (s *Server) usersList(c Call) map[string]any {
	off := 0
	if cur := param(c, "cursor"); cur != "" {
		b, err := base64.StdEncoding.DecodeString(cur)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "user:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "user:") || n < 0 || n > len(s.users) {
			return apiErr("invalid_cursor")
		}
		off = n
	}
	end := len(s.users)
	if limit, _ := strconv.Atoi(param(c, "limit")); limit > 0 && off+limit < end {
		end = off + limit
	}
	members := make([]any, 0, end-off)
	for _, u := range s.users[off:end] {
		members = append(members, userObject(u))
	}
	next := ""
	if end < len(s.users) {
		next = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "user:%d", end))
	}
	return map[string]any{"ok": true, "members": members, "cache_ts": 1700000000,
		"response_metadata": map[string]any{"next_cursor": next}}
}

// conversationsOpen returns the DM "D<user>" for the first of users, or
// echoes channel. Users are not validated.
func (s *Server) conversationsOpen(c Call) map[string]any {
	id := param(c, "channel")
	if users := param(c, "users"); id == "" && users != "" {
		id = "D" + strings.Split(users, ",")[0]
	}
	if id == "" {
		return apiErr("users_list_not_supplied")
	}
	return map[string]any{"ok": true, "no_op": false, "already_open": false, "channel": map[string]any{"id": id}}
}

// useTrigger validates and consumes a trigger_id. s.mu held.
func (s *Server) useTrigger(id string) string {
	tr := s.triggers[id]
	switch {
	case tr == nil:
		return "invalid_trigger_id"
	case time.Since(tr.issued) > s.triggerTTL:
		return "expired_trigger_id"
	case tr.used:
		return "trigger_exchanged"
	}
	tr.used = true
	return ""
}

// requestView extracts the "view" argument (JSON object or JSON string).
func requestView(c Call) (map[string]any, bool) {
	if v, isMap := c.JSON["view"].(map[string]any); isMap {
		return v, true
	}
	var v map[string]any
	if str := param(c, "view"); str != "" && json.Unmarshal([]byte(str), &v) == nil && v != nil {
		return v, true
	}
	return nil, false
}

// storeView stores the echo of view under id and returns the response.
// s.mu held.
func (s *Server) storeView(id, rootID string, view map[string]any) map[string]any {
	v := make(map[string]any, len(view)+10)
	for k, x := range view {
		v[k] = x
	}
	for k, def := range map[string]any{"type": "modal", "callback_id": "", "private_metadata": "",
		"external_id": "", "state": map[string]any{"values": map[string]any{}}, "blocks": []any{}} {
		if v[k] == nil {
			v[k] = def
		}
	}
	v["id"], v["team_id"], v["app_id"], v["bot_id"], v["app_installed_team_id"] = id, TeamID, AppID, BotID, TeamID
	v["root_view_id"], v["hash"] = rootID, fmt.Sprintf("%s.h%d", slackTS(time.Now()), s.next("hash"))
	raw, err := json.Marshal(v)
	if err != nil {
		return apiErr("invalid_arguments")
	}
	s.views[id] = raw
	return map[string]any{"ok": true, "view": json.RawMessage(raw)}
}

func (s *Server) viewsOpen(c Call) map[string]any {
	if code := s.useTrigger(param(c, "trigger_id")); code != "" {
		return apiErr(code)
	}
	view, found := requestView(c)
	if !found {
		return apiErr("invalid_arguments")
	}
	id := fmt.Sprintf("V%d", s.next("view"))
	return s.storeView(id, id, view)
}

func (s *Server) viewsPush(c Call) map[string]any {
	if code := s.useTrigger(param(c, "trigger_id")); code != "" {
		return apiErr(code)
	}
	view, found := requestView(c)
	if !found {
		return apiErr("invalid_arguments")
	}
	id := fmt.Sprintf("V%d", s.next("view"))
	return s.storeView(id, id, view)
}

// viewsUpdate needs view_id or external_id of a stored view (not_found) and,
// if hash is given, the current hash (hash_conflict).
func (s *Server) viewsUpdate(c Call) map[string]any {
	view, found := requestView(c)
	if !found {
		return apiErr("invalid_arguments")
	}
	id := param(c, "view_id")
	if ext := param(c, "external_id"); id == "" && ext != "" {
		for vid, raw := range s.views {
			var old struct {
				ExternalID string `json:"external_id"`
			}
			if json.Unmarshal(raw, &old) == nil && old.ExternalID == ext {
				id = vid
			}
		}
	}
	raw, exists := s.views[id]
	if !exists {
		return apiErr("not_found")
	}
	var old struct{ Hash, RootViewID string }
	_ = json.Unmarshal(raw, &old)
	if h := param(c, "hash"); h != "" && h != old.Hash {
		return apiErr("hash_conflict")
	}
	return s.storeView(id, old.RootViewID, view)
}

// viewsPublish stores the App Home view of user_id (same view ID per user).
func (s *Server) viewsPublish(c Call) map[string]any {
	user := param(c, "user_id")
	view, found := requestView(c)
	if user == "" || !found || view["type"] != "home" {
		return apiErr("invalid_arguments") // views.publish takes Home tab views only
	}
	id, exists := s.homeViews[user]
	if !exists {
		id = fmt.Sprintf("V%d", s.next("view"))
		s.homeViews[user] = id
	}
	return s.storeView(id, id, view)
}
