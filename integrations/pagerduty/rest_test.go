package pagerduty_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
)

func TestAcknowledgeResolve(t *testing.T) {
	tests := []struct {
		name       string
		resolve    bool
		id, from   string
		token      string
		fail       []pagerdutytest.Response
		wantErr    error
		wantIn     string // substring of the error
		wantStatus string
	}{
		{name: "acknowledge", id: "PINC001", from: "ann@example.com", wantStatus: "acknowledged"},
		{name: "resolve", resolve: true, id: "PINC001", from: "ann@example.com", wantStatus: "resolved"},
		{name: "unknown incident", id: "PNOPE", from: "ann@example.com", wantErr: integrations.ErrNotFound, wantStatus: "triggered"},
		{name: "unknown requester", id: "PINC001", from: "bob@example.com", wantErr: integrations.ErrNotFound,
			wantIn: "Requester User Not Found", wantStatus: "triggered"},
		{name: "missing From", id: "PINC001", wantIn: `"From" header`, wantStatus: "triggered"},
		{name: "bad token", id: "PINC001", from: "ann@example.com", token: "wrong", wantErr: integrations.ErrUnauthorized, wantStatus: "triggered"},
		{name: "forbidden", id: "PINC001", from: "ann@example.com", fail: []pagerdutytest.Response{{Status: 403}},
			wantErr: integrations.ErrUnauthorized, wantStatus: "triggered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := pagerdutytest.New(t)
			fake.AddUser("PANN001", "Ann Example", "ann@example.com")
			c, _ := newClient(t, fake)
			if err := c.Send(context.Background(), alert("trigger")); err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				fake.SetToken(tt.token)
			}
			fake.FailREST(tt.fail...)
			op := c.Acknowledge
			if tt.resolve {
				op = c.Resolve
			}
			err := op(context.Background(), tt.id, tt.from)
			switch {
			case tt.wantErr == nil && tt.wantIn == "" && err != nil:
				t.Fatalf("got %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("got %v, want %v", err, tt.wantErr)
			case tt.wantIn != "" && (err == nil || !strings.Contains(err.Error(), tt.wantIn)):
				t.Errorf("got %v, want it to contain %q", err, tt.wantIn)
			}
			in := fake.Incidents()[0]
			if in.Status != tt.wantStatus {
				t.Errorf("status: got %s, want %s", in.Status, tt.wantStatus)
			}
			if tt.wantStatus != "triggered" && in.From != tt.from {
				t.Errorf("From: got %q, want %q", in.From, tt.from)
			}
		})
	}
}

func TestRESTRetryable(t *testing.T) {
	fake := pagerdutytest.New(t)
	c, _ := newClient(t, fake)
	fake.FailREST(pagerdutytest.Response{Status: 429, RetryAfter: 3 * time.Second}, pagerdutytest.Response{Status: 502})
	for _, want := range []time.Duration{3 * time.Second, 0} {
		_, _, err := c.UserByEmail(context.Background(), "ann@example.com")
		if ok, d := integrations.IsRetryable(err); !ok || d != want {
			t.Errorf("got %v (retry after %s), want retryable after %s", err, d, want)
		}
	}
}

func TestIncidentByDedupKey(t *testing.T) {
	fake := pagerdutytest.New(t)
	c, _ := newClient(t, fake)
	for _, act := range []string{"trigger", "resolve", "trigger", "acknowledge"} {
		if err := c.Send(context.Background(), alert(act)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.IncidentByDedupKey(context.Background(), alert("").DedupKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "PINC002" || got.Status != "acknowledged" || got.Number != 2 || got.Urgency != "high" ||
		got.Title != "acme.example homepage is DOWN" || got.Service != "fake service" || got.CreatedAt.IsZero() {
		t.Errorf("got %+v", got)
	}
	if _, err := c.IncidentByDedupKey(context.Background(), "nope"); !errors.Is(err, integrations.ErrNotFound) {
		t.Errorf("missing: got %v, want ErrNotFound", err)
	}
}

func TestUserByEmail(t *testing.T) {
	fake := pagerdutytest.New(t)
	fake.AddUser("PANN001", "Ann Example", "ann@example.com")
	fake.AddUser("PANN002", "Joanne Example", "joann@example.com")
	c, _ := newClient(t, fake)
	tests := []struct {
		email, wantID, wantName string
		wantErr                 error
	}{
		{"ann@example.com", "PANN001", "Ann Example", nil},
		{"JOANN@example.com", "PANN002", "Joanne Example", nil},
		{"nn@example.com", "", "", integrations.ErrNotFound}, // substring matches are not enough
		{"bob@example.com", "", "", integrations.ErrNotFound},
	}
	for _, tt := range tests {
		id, name, err := c.UserByEmail(context.Background(), tt.email)
		if id != tt.wantID || name != tt.wantName || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tt.email, id, name, err, tt.wantID, tt.wantName, tt.wantErr)
		}
	}
}

func TestOnCalls(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	fake := pagerdutytest.New(t)
	fake.AddUser("PTIM001", "Tim Wright", "tim@example.com")
	fake.AddUser("PEAR001", "Earline Greenholt", "earline@example.com")
	shifts := []pagerdutytest.OnCall{
		{UserID: "PTIM001", ScheduleID: "PSCH001", Schedule: "Daily Engineering Rotation", EscalationPolicyID: "PEP001",
			EscalationPolicy: "Engineering", Level: 1, Start: now.Add(-3 * time.Hour), End: now.Add(21 * time.Hour)},
		{UserID: "PEAR001", EscalationPolicyID: "PEP001", EscalationPolicy: "Engineering", Level: 2},
		{UserID: "PEAR001", ScheduleID: "PSCH002", Schedule: "Later", EscalationPolicyID: "PEP002",
			EscalationPolicy: "Ops", Level: 1, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
	}
	for i := range 120 { // forces a second page (limit 100)
		shifts = append(shifts, pagerdutytest.OnCall{UserID: "PTIM001", ScheduleID: "PSCH003", Schedule: "Bulk",
			EscalationPolicyID: "PEP003", EscalationPolicy: "Bulk", Level: i + 1})
	}
	fake.SetOnCalls(shifts...)
	c, _ := newClient(t, fake)

	got, err := c.OnCalls(context.Background(), []string{"PSCH001"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := integrations.OnCall{Schedule: "Daily Engineering Rotation", EscalationPolicy: "Engineering", Level: 1,
		UserName: "Tim Wright", UserEmail: "tim@example.com", Start: now.Add(-3 * time.Hour), End: now.Add(21 * time.Hour)}
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %+v, want [%+v]", got, want)
	}

	all, err := c.OnCalls(context.Background(), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 122 { // the future shift is excluded
		t.Fatalf("all: got %d on-calls, want 122", len(all))
	}
	if perm := all[1]; perm.UserEmail != "earline@example.com" || !perm.Start.IsZero() || perm.Schedule != "" || perm.Level != 2 {
		t.Errorf("permanent level: got %+v", perm)
	}
	var q string
	for _, r := range fake.Requests() {
		if r.Path == "/oncalls" {
			q = r.RawQuery
			break
		}
	}
	for _, p := range []string{"time_zone=UTC", "earliest=true", "schedule_ids%5B%5D=PSCH001", "include%5B%5D=users"} {
		if !strings.Contains(q, p) {
			t.Errorf("query %q lacks %s", q, p)
		}
	}
}

// TestSeparateHosts points the REST and Events URLs at two different fakes
// (as for the EU hosts) and checks each request went to its own host.
func TestSeparateHosts(t *testing.T) {
	api, events := pagerdutytest.New(t), pagerdutytest.New(t)
	api.AddUser("PANN001", "Ann Example", "ann@example.com")
	c := pagerduty.New(pagerduty.Config{APIURL: api.URL + "/", EventsURL: events.URL, Token: pagerdutytest.Token},
		&http.Client{Timeout: 5 * time.Second}, nil)
	if err := c.Send(context.Background(), alert("trigger")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.UserByEmail(context.Background(), "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	paths := func(s *pagerdutytest.Server) (out []string) {
		for _, r := range s.Requests() {
			out = append(out, r.Method+" "+r.Path)
		}
		return out
	}
	if got := strings.Join(paths(events), ","); got != "POST /v2/enqueue" {
		t.Errorf("events host got %s", got)
	}
	if got := strings.Join(paths(api), ","); got != "GET /users" {
		t.Errorf("api host got %s", got)
	}
	if got := api.Requests()[0].Header.Get("Authorization"); got != "Token token="+pagerdutytest.Token {
		t.Errorf("Authorization: got %q", got)
	}
	if got := events.Requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("events must carry no Authorization, got %q", got)
	}
}
