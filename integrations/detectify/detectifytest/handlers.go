package detectifytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var tokenForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

// guard answers queued failures, then refuses what Detectify refuses before
// any handler runs: a bad key, a bad signature, a path without its slash.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var f *failure
		for i := range s.fails {
			if s.fails[i].path == "" || s.fails[i].path == r.URL.Path {
				cp := s.fails[i]
				f = &cp
				s.fails = append(s.fails[:i:i], s.fails[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		if f != nil {
			for k, vs := range f.header {
				w.Header()[k] = vs
			}
			if f.body == "" {
				writeError(w, f.status, http.StatusText(f.status))
				return
			}
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.body)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if msg := s.authenticate(r, body); msg != "" {
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/") {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		key := r.Method + " " + r.URL.Path
		if parts := strings.Split(r.URL.Path, "/"); len(parts) == 6 && parts[3] == "scans" {
			key = r.Method + " /rest/v2/scans/{token}/"
		}
		s.mu.Lock()
		s.requests[key]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// authenticate returns why the request is refused ("" when it is not): the
// key in X-Detectify-Key (or as the Basic user name), and with a secret a
// signature over "METHOD;PATH;KEY;TIMESTAMP;BODY" made within -10 s/+5 s.
func (s *Server) authenticate(r *http.Request, body []byte) string {
	key := r.Header.Get("X-Detectify-Key")
	if key == "" {
		if user, _, ok := r.BasicAuth(); ok {
			key = user
		}
	}
	if key != Key {
		return "Missing or invalid API key"
	}
	s.mu.Lock()
	secret, now := s.secret, s.now()
	s.mu.Unlock()
	if secret == nil {
		return ""
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-Detectify-Timestamp"), 10, 64)
	if err != nil {
		return "Missing or invalid timestamp"
	}
	if d := time.Unix(ts, 0).Sub(now); d < -10*time.Second || d > 5*time.Second {
		return "Invalid timestamp"
	}
	path := strings.TrimPrefix(r.URL.Path, "/rest")
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s;%s;%s;%d;%s", r.Method, path, key, ts, body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Detectify-Signature"))) {
		return "Invalid message signature"
	}
	return ""
}

// listProfiles serves GET /rest/v2/profiles/: a bare JSON array.
func (s *Server) listProfiles(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]map[string]any, 0, len(s.profiles))
	for _, p := range s.profiles {
		status := "unverified"
		if p.Verified {
			status = "verified"
		}
		m := map[string]any{"name": p.Name, "endpoint": p.Endpoint, "created": p.created.UTC().Format(time.RFC3339),
			"token": p.Token, "status": status, "latest_scan": nil}
		if p.latest != nil {
			m["latest_scan"] = p.latest
		}
		out = append(out, m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// startScan serves POST /rest/v2/scans/{token}/.
func (s *Server) startScan(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	s.mu.Lock()
	p := s.find(tok)
	switch {
	case !tokenForm.MatchString(tok) || p == nil:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Invalid scan profile token")
		return
	case !p.Verified:
		s.mu.Unlock()
		writeError(w, http.StatusLocked, "The domain is not verified")
		return
	case p.running != nil:
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "A scan is already running on the specified profile")
		return
	}
	p.running = s.begin(p)
	s.starts[tok]++
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{})
}

// scanStatus serves GET /rest/v2/scans/{token}/: each poll of a running scan
// moves it a step on; the poll after its last step ends it (404 from then on).
func (s *Server) scanStatus(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	s.mu.Lock()
	p := s.find(tok)
	if p == nil || p.running == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "No scan running for the specified profile")
		return
	}
	run := p.running
	if run.polls >= len(run.scan.Steps) {
		s.end(p)
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "No scan running for the specified profile")
		return
	}
	step := run.scan.Steps[run.polls]
	run.polls++
	body := map[string]any{"scan_profile_token": tok, "created": run.started.UTC().Format(time.RFC3339),
		"phase": step.Phase, "state": step.State}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// listFindings serves GET /rest/v2/vulnerabilities/?marker=&page_size=.
func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 100
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "page_size must be a positive number")
			return
		}
		size = n
	}
	s.mu.Lock()
	size = min(size, s.MaxPageSize)
	offset := 0
	if m := q.Get("marker"); m != "" {
		off, ok := s.markers[m]
		if !ok {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "Invalid marker")
			return
		}
		offset = off
	}
	var all []*Finding
	for _, p := range s.profiles {
		all = append(all, p.findings...)
	}
	end := min(offset+size, len(all))
	page := make([]map[string]any, 0, max(end-offset, 0))
	for _, f := range all[min(offset, len(all)):end] {
		page = append(page, findingJSON(f))
	}
	next := ""
	if end < len(all) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		next = hex.EncodeToString(b[:])
		s.markers[next] = end
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"vulnerabilities": page, "has_more": next != "", "next_marker": next})
}

// findingJSON is a finding in the field set of /v2/vulnerabilities/, with a
// request and a response carrying bodies (which opsbot must not show to
// stakeholders or keep).
func findingJSON(f *Finding) map[string]any {
	tags := make([]map[string]any, 0, len(f.Tags))
	for i, t := range f.Tags {
		tags = append(tags, map[string]any{"uuid": fmt.Sprintf("tag-%d", i), "name": t})
	}
	created := f.Created.UTC().Format(time.RFC3339)
	m := map[string]any{
		"version": "1", "title": f.Title, "severity": f.Severity, "status": f.Status,
		"scan_source": "application_scan", "source": map[string]any{"value": "application-scan"},
		"created_at": created, "updated_at": created,
		"asset_token": "b27aa17bdb7a176c56bbad1c7bba14cf", "asset": map[string]any{"token": "b27aa17bdb7a176c56bbad1c7bba14cf", "name": rootOf(f.Host)},
		"host": f.Host, "location": f.Location,
		"definition": map[string]any{"title": f.Title, "description": "…", "risk": "…", "is_crowdsourced": true},
		"cwe":        f.CWE, "tags": tags,
		"links": map[string]any{"details_page": "https://detectify.com/dashboard/findings/" + f.UUID},
		"request": map[string]any{"method": "GET", "url": f.Location + "%3Csvg%20onload%3Dalert(1)%3E",
			"headers": []map[string]any{{"name": "User-Agent", "value": "Detectify"}}, "body": "SECRET-REQUEST-BODY"},
		"response": map[string]any{"status_code": 200, "headers": []any{}, "body": "<html>SECRET-RESPONSE-BODY</html>"},
	}
	if f.UUID != "" {
		m["uuid"] = f.UUID
	}
	return m
}

// rootOf is the registrable-looking root of a host (its last two labels).
func rootOf(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) <= 2 {
		return host
	}
	return strings.Join(parts[len(parts)-2:], ".")
}
