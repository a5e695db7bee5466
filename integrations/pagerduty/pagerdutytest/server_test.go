package pagerdutytest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestWireFormat(t *testing.T) {
	s := New(t)
	s.AddUser("PANN001", "Ann", "ann@example.com")
	auth := "Token token=" + Token
	tests := []struct {
		name, method, path, auth, body string
		wantStatus                     int
		wantKeys                       []string
	}{
		{"enqueue", "POST", "/v2/enqueue", "", `{"routing_key":"e93facc04764012d7bfb002500d5d1a6","event_action":"trigger","dedup_key":"k","payload":{"summary":"s","source":"x","severity":"info"}}`,
			202, []string{"status", "message", "dedup_key"}},
		{"invalid event", "POST", "/v2/enqueue", "", `{"routing_key":"short","event_action":"trigger"}`, 400, []string{"status", "message", "errors"}},
		{"no token", "GET", "/users", "", "", 401, []string{"error"}},
		{"users list", "GET", "/users?query=ann", auth, "", 200, []string{"users", "limit", "offset", "more", "total"}},
		{"no From", "PUT", "/incidents", auth, `{"incidents":[{"id":"PINC001","type":"incident","status":"resolved"}]}`, 400, []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("got %d %s, want %d json", resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantStatus)
			}
			for _, k := range tt.wantKeys {
				if _, ok := m[k]; !ok {
					t.Errorf("body %v lacks %q", m, k)
				}
			}
		})
	}
}
