package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// filesGetUploadURLExternal needs filename and length > 0.
func (s *Server) filesGetUploadURL(c Call) map[string]any {
	name := param(c, "filename")
	if n, _ := strconv.Atoi(param(c, "length")); name == "" || n <= 0 {
		return apiErr("invalid_arguments")
	}
	id := fmt.Sprintf("F%07d", s.next("file"))
	s.files[id] = &pendingFile{File: File{ID: id, Name: name}}
	return map[string]any{"ok": true, "upload_url": s.URL + "/upload/v1/" + id, "file_id": id}
}

// conversationID is what files.completeUploadExternal accepts as channel_id:
// a channel, group or DM ID. A user ID (U…) or a #name is refused with
// invalid_arguments, as Slack does ("input must match regex pattern:
// ^[CGDZ][A-Z0-9]{8,}$"); a DM needs conversations.open first.
var conversationID = regexp.MustCompile(`^[CGDZ][A-Z0-9]{8,}$`)

// filesComplete shares uploaded files; unknown or not-uploaded IDs give
// file_not_found, a channel that is not a conversation ID invalid_arguments.
func (s *Server) filesComplete(c Call) map[string]any {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if json.Unmarshal([]byte(param(c, "files")), &list) != nil || len(list) == 0 {
		return apiErr("invalid_arguments")
	}
	ch := param(c, "channel_id")
	if ch == "" {
		ch = strings.Split(param(c, "channels"), ",")[0]
	}
	if ch != "" && !conversationID.MatchString(ch) {
		return apiErr("invalid_arguments") // channel_id takes a conversation ID: not a name, not a user
	}
	out := make([]any, 0, len(list))
	for _, f := range list {
		pf := s.files[f.ID]
		if pf == nil || !pf.uploaded {
			return apiErr("file_not_found")
		}
		if !pf.completed {
			pf.completed = true
			s.fileOrder = append(s.fileOrder, f.ID)
		}
		pf.Title, pf.Channel = f.Title, ch
		pf.ThreadTS, pf.InitialComment = param(c, "thread_ts"), param(c, "initial_comment")
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	return map[string]any{"ok": true, "files": out}
}

// serveUpload receives the bytes of a file (multipart field "file", as
// slack-go sends it) at the upload_url; recorded as Method "file_upload".
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	c, mf, err := readCall(r, "file_upload")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer s.recordCall(c) // once handled, as for the Web API
	if s.injectFailure(w, "file_upload", false) {
		return
	}
	var content []byte
	if mf != nil && len(mf.File["file"]) > 0 {
		f, err := mf.File["file"][0].Open()
		if err == nil {
			content, err = io.ReadAll(f)
			_ = f.Close()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	id := strings.TrimPrefix(r.URL.Path, "/upload/v1/")
	s.mu.Lock()
	pf := s.files[id]
	code := s.checkToken(c, false)
	if pf != nil && code == "" {
		pf.Content, pf.uploaded = content, true
	}
	s.mu.Unlock()
	switch {
	case code != "":
		http.Error(w, code, http.StatusUnauthorized)
	case pf == nil:
		http.Error(w, "unknown upload", http.StatusNotFound)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintf(w, "OK - %d", len(content))
	}
}

// serveHook accepts response_url posts: recorded as Method "response_url",
// answered 200 "ok" (text/plain), unless FailNext("response_url", ...).
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	c, _, err := readCall(r, "response_url")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.recordCall(c)
	if s.injectFailure(w, "response_url", false) {
		return
	}
	if e := hookRefusal(c); e != nil {
		s.mu.Lock()
		s.refusals = append(s.refusals, "response_url: "+e.Error())
		s.mu.Unlock()
		http.Error(w, e.Code, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}
