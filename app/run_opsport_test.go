package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

// TestFreezeEndpointNeedsTheToken: with OPSBOT_FREEZE_TOKEN set, CI must
// send it; the answer carries frozen, until and change_id only (never the
// change's title or reason), and the token never reaches the logs.
func TestFreezeEndpointNeedsTheToken(t *testing.T) {
	const token = "ci-freeze-token-5f2b9c0d"
	o := start(t, map[string]string{"OPSBOT_FREEZE_TOKEN": token})
	st := store.New(o.rdb, "opsbot:")
	now := time.Now()
	if err := st.AddFreeze(context.Background(), store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/website"},
		Start: now.Add(-time.Minute), End: now.Add(time.Hour), Reason: "Secret ACME migration"}); err != nil {
		t.Fatal(err)
	}
	get := func(auth string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", "http://"+o.httpAddr+"/v1/freeze?repo=acme/website", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	for _, auth := range []string{"", "Bearer nope", "Basic " + token} {
		code, body, h := get(auth)
		if code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" || strings.Contains(body, "CR-7") {
			t.Errorf("Authorization %q: %d %s %v", auth, code, body, h)
		}
	}
	code, body, _ := get("Bearer " + token)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusLocked {
		t.Fatalf("with the token: %d %s", code, body)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"change_id", "frozen", "until"}) || strings.Contains(body, "ACME") {
		t.Fatalf("answer = %s, want frozen, until and change_id only", body)
	}
	// The other endpoints stay open for Kubernetes probes and Prometheus.
	if code, _ := o.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if strings.Contains(o.logs.String(), token) {
		t.Fatal("the freeze token is in the logs")
	}
}

// TestReadyzNamesTheDependencyWithoutAddresses: /readyz says Redis is
// down in words; the address opsbot dials stays in the log.
func TestReadyzNamesTheDependencyWithoutAddresses(t *testing.T) {
	o := start(t, nil)
	o.redis.Stop()
	code, body := o.get(t, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "Redis is not answering") {
		t.Fatalf("/readyz with Redis down = %d %s", code, body)
	}
	if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "dial") || strings.Contains(body, "localhost") {
		t.Fatalf("/readyz shows an address: %s", body)
	}
	if !strings.Contains(o.logs.String(), "readiness: redis is not answering") {
		t.Fatalf("the cause is not logged:\n%s", o.logs)
	}
}
