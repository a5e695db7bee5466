package statuscaketest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Run is one check of a test as GET /v1/uptime/{id}/history lists it.
// StatusCode 0 means the target did not answer: the field is left out, as
// the API does.
type Run struct {
	At          time.Time
	Location    string // e.g. "UKCON2"
	StatusCode  int
	Performance int64 // milliseconds
}

// AddRun records a check of test id.
func (s *Server) AddRun(id string, run Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[id] = append(s.runs[id], run)
}

// listHistory serves GET /v1/uptime/{id}/history?limit=&before=, newest
// first, linking the next page with ?before=<oldest created_at>.
func (s *Server) listHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.find(id); !ok {
		writeError(w, http.StatusNotFound, "No results found")
		return
	}
	before, hasBefore := unix(r.URL.Query().Get("before"))
	s.mu.Lock()
	runs := slices.Clone(s.runs[id])
	s.mu.Unlock()
	slices.SortFunc(runs, func(a, b Run) int { return b.At.Compare(a.At) })
	var match []Run
	for _, run := range runs {
		if !hasBefore || run.At.Unix() < before {
			match = append(match, run)
		}
	}
	limit := s.limit(r)
	base := "http://" + r.Host + r.URL.Path
	links := map[string]any{"self": base + "?" + r.URL.RawQuery}
	if len(match) > limit {
		match = match[:limit]
		links["next"] = base + "?before=" + strconv.FormatInt(match[limit-1].At.Unix(), 10) + "&limit=" + strconv.Itoa(limit)
	}
	data := []map[string]any{}
	for _, run := range match {
		d := map[string]any{"created_at": run.At.Format(time.RFC3339), "location": run.Location, "performance": run.Performance}
		if run.StatusCode != 0 {
			d["status_code"] = run.StatusCode
		}
		data = append(data, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}
