package pagerdutytest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User is a PagerDuty user known to the fake.
type User struct{ ID, Name, Email string }

// OnCall is one on-call shift: UserID (added with AddUser) is on call at
// Level of the escalation policy, via the schedule (empty for a permanent
// level). Zero Start/End are sent as null (permanently on call).
type OnCall struct {
	UserID             string
	ScheduleID         string
	Schedule           string // schedule name
	EscalationPolicyID string
	EscalationPolicy   string // policy name
	Level              int
	Start, End         time.Time
}

// AddUser adds a user; its email is what the From header must carry.
func (s *Server) AddUser(id, name, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, User{ID: id, Name: name, Email: email})
}

// SetOnCalls replaces the on-call shifts GET /oncalls serves.
func (s *Server) SetOnCalls(shifts ...OnCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oncalls = append([]OnCall(nil), shifts...)
}

func (s *Server) userByEmail(email string) (User, bool) {
	for _, u := range s.users {
		if email != "" && strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return User{}, false
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("query"))
	s.mu.Lock()
	var users []map[string]any
	for _, u := range s.users {
		if strings.Contains(strings.ToLower(u.Name), q) || strings.Contains(strings.ToLower(u.Email), q) {
			users = append(users, userJSON(u))
		}
	}
	s.mu.Unlock()
	lo, hi, env := page(r, len(users))
	env["users"] = append([]map[string]any{}, users[lo:hi]...)
	writeJSON(w, http.StatusOK, env)
}

func userJSON(u User) map[string]any {
	return map[string]any{"id": u.ID, "type": "user", "summary": u.Name, "name": u.Name,
		"email": u.Email, "self": "https://api.pagerduty.com/users/" + u.ID}
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, statuses := q.Get("incident_key"), q["statuses[]"]
	s.mu.Lock()
	var list []map[string]any
	for _, in := range s.incidents {
		if (key == "" || in.DedupKey == key) && (len(statuses) == 0 || slices.Contains(statuses, in.Status)) {
			list = append(list, incidentJSON(in))
		}
	}
	s.mu.Unlock()
	lo, hi, env := page(r, len(list))
	env["incidents"] = append([]map[string]any{}, list[lo:hi]...)
	writeJSON(w, http.StatusOK, env)
}

func incidentJSON(in *Incident) map[string]any {
	return map[string]any{
		"id": in.ID, "type": "incident", "incident_number": in.Number, "title": in.Title,
		"summary": "[#" + strconv.Itoa(in.Number) + "] " + in.Title, "status": in.Status, "urgency": in.Urgency,
		"incident_key": in.DedupKey, "html_url": "https://fake.pagerduty.com/incidents/" + in.ID,
		"self":       "https://api.pagerduty.com/incidents/" + in.ID,
		"created_at": in.CreatedAt.Format(time.RFC3339), "updated_at": in.UpdatedAt.Format(time.RFC3339),
		"service":     map[string]any{"id": "PSVC001", "type": "service_reference", "summary": "fake service"},
		"assignments": []any{},
	}
}

// manageIncidents is PUT /incidents: {"incidents":[{"id","type","status"}]}
// with a From header naming a known user.
func (s *Server) manageIncidents(w http.ResponseWriter, r *http.Request) {
	from, ok := requireFrom(w, r)
	if !ok {
		return
	}
	var body struct {
		Incidents []struct{ ID, Type, Status string } `json:"incidents"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Incidents) == 0 {
		restError(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "params must be a Hash")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.knownRequester(w, from) {
		return
	}
	var targets []*Incident
	for _, u := range body.Incidents {
		i := slices.IndexFunc(s.incidents, func(in *Incident) bool { return in.ID == u.ID })
		if i < 0 {
			restError(w, http.StatusNotFound, "Not Found", 2100)
			return
		}
		if u.Status != "acknowledged" && u.Status != "resolved" {
			restError(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "Status is invalid")
			return
		}
		targets = append(targets, s.incidents[i])
	}
	now := s.now().UTC()
	out := make([]map[string]any, 0, len(targets))
	for i, in := range targets {
		if in.Status != "resolved" { // resolved is final; PagerDuty ignores the change
			in.Status = body.Incidents[i].Status
		}
		in.From, in.UpdatedAt = from, now
		out = append(out, incidentJSON(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"incidents": out, "limit": len(out), "offset": 0, "more": false, "total": nil})
}

func (s *Server) listOnCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scheds, withUsers := q["schedule_ids[]"], slices.Contains(q["include[]"], "users")
	now := time.Now()
	since, until := parseOr(q.Get("since"), now), parseOr(q.Get("until"), now)
	s.mu.Lock()
	var list []map[string]any
	for _, oc := range s.oncalls {
		if len(scheds) > 0 && !slices.Contains(scheds, oc.ScheduleID) {
			continue
		}
		if (!oc.Start.IsZero() && oc.Start.After(until)) || (!oc.End.IsZero() && !oc.End.After(since)) {
			continue
		}
		list = append(list, s.onCallJSON(oc, withUsers))
	}
	s.mu.Unlock()
	lo, hi, env := page(r, len(list))
	env["oncalls"] = append([]map[string]any{}, list[lo:hi]...)
	writeJSON(w, http.StatusOK, env)
}

func (s *Server) onCallJSON(oc OnCall, withUsers bool) map[string]any {
	user := map[string]any{"id": oc.UserID, "type": "user_reference"}
	for _, u := range s.users {
		if u.ID == oc.UserID {
			user["summary"] = u.Name
			if withUsers {
				user = userJSON(u)
			}
		}
	}
	m := map[string]any{
		"user": user, "escalation_level": oc.Level, "start": timeOrNull(oc.Start), "end": timeOrNull(oc.End),
		"escalation_policy": map[string]any{"id": oc.EscalationPolicyID,
			"type": "escalation_policy_reference", "summary": oc.EscalationPolicy},
		"schedule": nil,
	}
	if oc.ScheduleID != "" {
		m["schedule"] = map[string]any{"id": oc.ScheduleID, "type": "schedule_reference", "summary": oc.Schedule}
	}
	return m
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func parseOr(s string, def time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	return def
}

// snooze is POST /incidents/{id}/snooze {"duration": seconds}, with a From
// header naming a known user. Only an acknowledged incident can be snoozed.
func (s *Server) snooze(w http.ResponseWriter, r *http.Request) {
	from, ok := requireFrom(w, r)
	if !ok {
		return
	}
	var body struct {
		Duration *int `json:"duration"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Duration == nil || *body.Duration <= 0 {
		restError(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "Duration must be a positive number of seconds")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.knownRequester(w, from) {
		return
	}
	i := slices.IndexFunc(s.incidents, func(in *Incident) bool { return in.ID == r.PathValue("id") })
	if i < 0 {
		restError(w, http.StatusNotFound, "Not Found", 2100)
		return
	}
	in := s.incidents[i]
	if in.Status != "acknowledged" {
		restError(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "Incident is not acknowledged")
		return
	}
	now := s.now().UTC()
	in.From, in.UpdatedAt, in.SnoozedUntil = from, now, now.Add(time.Duration(*body.Duration)*time.Second)
	writeJSON(w, http.StatusCreated, map[string]any{"incident": incidentJSON(in)})
}

// requireFrom reads the From header write operations need, answering
// PagerDuty's error when it is missing.
func requireFrom(w http.ResponseWriter, r *http.Request) (string, bool) {
	from := r.Header.Get("From")
	if from == "" {
		restError(w, http.StatusBadRequest,
			`You must specify a user's email address in the "From" header to perform this action`, 2016)
	}
	return from, from != ""
}

// knownRequester answers PagerDuty's error when from is no user; s.mu held.
func (s *Server) knownRequester(w http.ResponseWriter, from string) bool {
	if _, ok := s.userByEmail(from); !ok {
		restError(w, http.StatusBadRequest, "Invalid Input Provided", 2001, "Requester User Not Found")
		return false
	}
	return true
}
