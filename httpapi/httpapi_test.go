package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyz(t *testing.T) {
	redisUp := true
	h := Handler(http.NotFoundHandler(), Check{Name: "redis", Down: "Redis is not answering", Run: func(context.Context) error {
		if !redisUp {
			return errors.New("dial tcp 10.1.2.3:6379: connect: connection refused")
		}
		return nil
	}}, Check{Name: "other", Run: func(context.Context) error { return errors.New("10.9.9.9:443 timeout") }})
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	redisUp = false
	code, body := get("/readyz")
	checks, _ := body["checks"].(map[string]any)
	if code != 503 || body["status"] != "not ready" || checks["redis"] != "Redis is not answering" || checks["other"] != "unavailable" {
		t.Fatalf("readyz with redis down = %d %v", code, body)
	}
	if raw := fmt.Sprint(body); strings.Contains(raw, "10.") || strings.Contains(raw, "dial") {
		t.Fatalf("readyz shows the cause, with addresses: %v", body)
	}
}

func TestReadyzAllUp(t *testing.T) {
	srv := httptest.NewServer(Handler(nil, Check{Name: "redis", Run: func(context.Context) error { return nil }}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", resp.StatusCode, body)
	}
}

func TestRequireBearer(t *testing.T) {
	const token = "freeze-token-0123456789"
	var served int
	h := RequireBearer(token, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { served++; w.WriteHeader(http.StatusOK) }))
	for _, tt := range []struct {
		auth string
		want int
	}{
		{"", 401}, {"Bearer", 401}, {"Bearer ", 401}, {"Bearer wrong", 401}, {"Bearer " + token + "x", 401},
		{"Basic " + token, 401}, {token, 401},
		{"Bearer " + token, 200}, {"bearer " + token, 200},
	} {
		req := httptest.NewRequest("GET", "/v1/freeze?repo=acme/web", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Authorization %q: %d, want %d", tt.auth, rec.Code, tt.want)
		}
		if tt.want == 401 && (rec.Header().Get("WWW-Authenticate") == "" || strings.Contains(rec.Body.String(), token)) {
			t.Errorf("Authorization %q: 401 without a challenge, or echoing the token: %v %s", tt.auth, rec.Header(), rec.Body)
		}
	}
	if served != 2 {
		t.Errorf("the handler ran %d times, want 2", served)
	}
}
