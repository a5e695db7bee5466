package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadyz(t *testing.T) {
	redisUp := true
	h := Handler(http.NotFoundHandler(), Check{Name: "redis", Run: func(context.Context) error {
		if !redisUp {
			return errors.New("connection refused")
		}
		return nil
	}})
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
	if code, body := get("/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", code, body)
	}
	redisUp = false
	code, body := get("/readyz")
	checks, _ := body["checks"].(map[string]any)
	if code != 503 || checks["redis"] != "connection refused" {
		t.Fatalf("readyz with redis down = %d %v", code, body)
	}
}
