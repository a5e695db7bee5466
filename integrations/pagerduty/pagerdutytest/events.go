package pagerdutytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// Event is one accepted (202) Events v2 enqueue body, parsed.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Client      string   `json:"client"`
	ClientURL   string   `json:"client_url"`
	Payload     *Payload `json:"payload"`
	Links       []Link   `json:"links"`
}

// Payload is an event's payload (present on triggers).
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component"`
	Group         string         `json:"group"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

// Link is an event link.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Incident is the fake's view of one incident.
type Incident struct {
	ID       string
	Number   int
	Title    string
	Status   string // triggered, acknowledged, resolved
	Urgency  string
	DedupKey string // incident_key
	Alerts   int    // triggers deduplicated onto it, including the first
	From     string // From header of the last REST change ("" if none)
	// SnoozedUntil is when a snoozed incident re-alerts (zero: not snoozed).
	SnoozedUntil time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// FailEnqueue queues canned responses for the next enqueues, e.g.
// {Status: 500}, {Status: 429, RetryAfter: 2*time.Second}, {Status: 400, Body: ...};
// afterwards enqueues are processed and answered 202. Failed enqueues are
// not recorded as events.
func (s *Server) FailEnqueue(responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueueFail = append(s.enqueueFail, responses...)
}

// Events returns the accepted events so far, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// WaitEvents waits until at least n events were accepted and returns them.
func (s *Server) WaitEvents(n int, timeout time.Duration) ([]Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		evs, ch := append([]Event(nil), s.events...), s.changed
		s.mu.Unlock()
		if len(evs) >= n {
			return evs, nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return evs, fmt.Errorf("pagerdutytest: %d of %d events after %s", len(evs), n, timeout)
		}
	}
}

// Incidents returns a snapshot of all incidents, oldest first.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Incident, len(s.incidents))
	for i, in := range s.incidents {
		out[i] = *in
	}
	return out
}

func eventsBody(status int) string {
	switch status {
	case http.StatusBadRequest:
		return `{"status":"invalid event","message":"Event object is invalid","errors":["Event object is invalid"]}`
	case http.StatusTooManyRequests:
		return `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`
	}
	return `{"status":"error","message":"Internal Server Error"}`
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var canned *Response
	if len(s.enqueueFail) > 0 {
		canned = &s.enqueueFail[0]
		s.enqueueFail = s.enqueueFail[1:]
	}
	s.mu.Unlock()
	if canned != nil {
		writeCanned(w, *canned, eventsBody)
		return
	}
	var ev Event
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 512<<10)).Decode(&ev); err != nil {
		invalidEvent(w, "Could not parse event: "+err.Error())
		return
	}
	if errs := validate(ev); len(errs) > 0 {
		invalidEvent(w, errs...)
		return
	}
	s.mu.Lock()
	if ev.DedupKey == "" {
		ev.DedupKey = fmt.Sprintf("fake-%d", len(s.events)+1)
	}
	s.events = append(s.events, ev)
	s.apply(ev)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]string{
		"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func invalidEvent(w http.ResponseWriter, errs ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"status": "invalid event", "message": "Event object is invalid", "errors": errs})
}

// validate applies PagerDuty's documented rules for Events v2 bodies.
func validate(ev Event) []string {
	var errs []string
	if len(ev.RoutingKey) != 32 {
		errs = append(errs, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	if len(ev.DedupKey) > 255 {
		errs = append(errs, "Length of 'dedup_key' is incorrect (should be at most 255 characters)")
	}
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		if p == nil {
			return append(errs, "'payload' is missing or blank")
		}
		if p.Summary == "" {
			errs = append(errs, "'payload.summary' is missing or blank")
		} else if utf8.RuneCountInString(p.Summary) > 1024 {
			errs = append(errs, "Length of 'payload.summary' is incorrect (should be at most 1024 characters)")
		}
		if p.Source == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		}
		switch p.Severity {
		case "critical", "error", "warning", "info":
		default:
			errs = append(errs, "'payload.severity' is invalid (must be one of: critical, error, warning, info)")
		}
		if p.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
				errs = append(errs, "'payload.timestamp' is invalid")
			}
		}
		for i, l := range ev.Links {
			if l.Href == "" {
				errs = append(errs, fmt.Sprintf("'links[%d].href' is missing or blank", i))
			}
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing or blank")
		}
	default:
		errs = append(errs, "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
	}
	return errs
}

// apply runs the incident state machine for one accepted event; s.mu held.
func (s *Server) apply(ev Event) {
	now := s.now().UTC()
	open := s.openIncident(ev.DedupKey)
	switch {
	case ev.EventAction == "trigger" && open != nil:
		open.Alerts++
		open.UpdatedAt = now
	case ev.EventAction == "trigger":
		n := len(s.incidents) + 1
		s.incidents = append(s.incidents, &Incident{
			ID: fmt.Sprintf("PINC%03d", n), Number: n, Title: ev.Payload.Summary,
			Status: "triggered", Urgency: urgency(ev.Payload.Severity), DedupKey: ev.DedupKey,
			Alerts: 1, CreatedAt: now, UpdatedAt: now,
		})
	case open == nil: // ack/resolve for nothing open: dropped, like PagerDuty
	case ev.EventAction == "acknowledge" && open.Status == "triggered":
		open.Status, open.UpdatedAt = "acknowledged", now
	case ev.EventAction == "resolve":
		open.Status, open.UpdatedAt = "resolved", now
	}
}

func (s *Server) openIncident(key string) *Incident {
	for _, in := range s.incidents {
		if in.DedupKey == key && in.Status != "resolved" {
			return in
		}
	}
	return nil
}

func urgency(sev string) string {
	if sev == "critical" || sev == "error" {
		return "high"
	}
	return "low"
}
