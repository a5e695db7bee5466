package statuscaketest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// list serves GET /v1/uptime?page=&limit=&status=&tags= with metadata.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var all []Test
	for _, t := range s.tests {
		if st := q.Get("status"); st != "" && t.Status != st {
			continue
		}
		if tags := q.Get("tags"); tags != "" && !slices.ContainsFunc(strings.Split(tags, ","), func(tag string) bool { return slices.Contains(t.Tags, tag) }) {
			continue
		}
		all = append(all, *t)
	}
	s.mu.Unlock()
	limit := s.limit(r)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	data := []map[string]any{}
	for i := (page - 1) * limit; i < len(all) && i < page*limit; i++ {
		data = append(data, overview(all[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data,
		"metadata": map[string]any{
			"page": page, "per_page": limit, "page_count": (len(all) + limit - 1) / limit, "total_count": len(all),
		},
	})
}

// get serves GET /v1/uptime/{id}.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	t, ok := s.find(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "No results found")
		return
	}
	d := overview(t)
	for k, v := range map[string]any{
		"confirmation": 2, "dns_ips": []string{}, "do_not_find": false, "enable_ssl_alert": true,
		"follow_redirects": true, "include_header": false, "processing": false, "processing_state": "complete",
		"servers": []any{}, "status_codes": []string{"500", "502", "503", "504"}, "timeout": 15,
		"trigger_rate": 0, "use_jar": false,
	} {
		d[k] = v
	}
	if !t.LastTested.IsZero() {
		d["last_tested_at"] = t.LastTested.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": d})
}

// listPeriods serves GET /v1/uptime/{id}/periods?limit=&before=&after=,
// newest first, filtering created_at by before/after (UNIX seconds,
// exclusive) and linking the next page with ?before=<oldest created_at>.
func (s *Server) listPeriods(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.find(id); !ok {
		writeError(w, http.StatusNotFound, "No results found")
		return
	}
	q := r.URL.Query()
	before, hasBefore := unix(q.Get("before"))
	after, hasAfter := unix(q.Get("after"))
	s.mu.Lock()
	ps := slices.Clone(s.periods[id])
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b period) int { return b.start.Compare(a.start) })
	var match []period
	for _, p := range ps {
		if hasBefore && p.start.Unix() >= before || hasAfter && p.start.Unix() <= after {
			continue
		}
		match = append(match, p)
	}
	limit := s.limit(r)
	base := "http://" + r.Host + r.URL.Path
	links := map[string]any{"self": base + "?" + r.URL.RawQuery}
	if len(match) > limit {
		match = match[:limit]
		next := "?before=" + strconv.FormatInt(match[limit-1].start.Unix(), 10) + "&limit=" + strconv.Itoa(limit)
		if hasAfter {
			next += "&after=" + strconv.FormatInt(after, 10)
		}
		links["next"] = base + next
	}
	data := []map[string]any{}
	for _, p := range match {
		d := map[string]any{"status": p.status, "created_at": p.start.Format(time.RFC3339)}
		if !p.end.IsZero() {
			d["ended_at"] = p.end.Format(time.RFC3339)
			d["duration"] = p.end.Sub(p.start).Milliseconds()
		}
		data = append(data, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}

func unix(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
