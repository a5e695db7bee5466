package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/httpapi"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

var freezeT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fakeFreezes freezes one repository (exact match) and records what it was asked.
type fakeFreezes struct {
	repo    string
	err     error
	gotRepo string
	gotNow  time.Time
}

func (f *fakeFreezes) ActiveFreeze(_ context.Context, repo string, now time.Time) (string, time.Time, bool, error) {
	f.gotRepo, f.gotNow = repo, now
	if f.err != nil {
		return "", time.Time{}, false, f.err
	}
	if repo == f.repo {
		return "CR-7", freezeT0.Add(2 * time.Hour).In(time.FixedZone("CET", 3600)), true, nil
	}
	return "", time.Time{}, false, nil
}

// getFreeze calls the handler as run.go mounts it and decodes the answer.
func getFreeze(t *testing.T, h http.Handler, method, query string) (int, map[string]any, http.Header) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/v1/freeze", h) // any method: the handler answers 405 itself
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, "/v1/freeze"+query, nil))
	var body map[string]any
	raw, _ := io.ReadAll(rec.Body)
	if method != http.MethodHead {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, query, raw, err)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type = %q", query, ct)
	}
	return rec.Code, body, rec.Header()
}

func TestFreezeHandlerAnswers(t *testing.T) {
	fake := &fakeFreezes{repo: "acme/website"}
	h := httpapi.FreezeHandler(fake, func() time.Time { return freezeT0 })

	code, body, hdr := getFreeze(t, h, "GET", "?repo=acme/website")
	if code != http.StatusLocked || body["frozen"] != true || body["until"] != "2026-11-22T12:00:00Z" || body["change_id"] != "CR-7" || len(body) != 3 {
		t.Fatalf("frozen repo → %d %v; want 423 frozen until 2026-11-22T12:00:00Z by CR-7", code, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", hdr.Get("Cache-Control"))
	}
	if fake.gotRepo != "acme/website" || !fake.gotNow.Equal(freezeT0) {
		t.Fatalf("reader asked about %q at %v", fake.gotRepo, fake.gotNow)
	}
	code, body, _ = getFreeze(t, h, "GET", "?repo=acme/api")
	if code != http.StatusOK || body["frozen"] != false || len(body) != 1 {
		t.Fatalf("free repo → %d %v; want 200 {frozen:false}", code, body)
	}
	if code, _, _ := getFreeze(t, h, "HEAD", "?repo=acme/website"); code != http.StatusLocked {
		t.Fatalf("HEAD on a frozen repo → %d, want 423", code)
	}

	fake.err = errors.New("dial tcp 10.0.0.5:6379: connection refused")
	code, body, _ = getFreeze(t, h, "GET", "?repo=acme/website")
	msg, _ := body["error"].(string)
	if code != http.StatusServiceUnavailable || msg == "" || strings.Contains(msg, "10.0.0.5") {
		t.Fatalf("store down → %d %v; want 503 with an error that does not leak the cause", code, body)
	}
	code, body, _ = getFreeze(t, httpapi.FreezeHandler(nil, nil), "GET", "?repo=acme/website")
	if code != http.StatusServiceUnavailable || body["error"] == nil {
		t.Fatalf("no reader configured → %d %v; want 503 (fail closed)", code, body)
	}
}

func TestFreezeHandlerBadRequests(t *testing.T) {
	fake := &fakeFreezes{repo: "acme/website"}
	h := httpapi.FreezeHandler(fake, func() time.Time { return freezeT0 })
	for _, q := range []string{
		"", "?repo=", "?repository=acme/website", "?repo=acme", "?repo=acme/", "?repo=/website",
		"?repo=-acme/website", "?repo=acme/web/site", "?repo=acme/web%20site", "?repo=ac_me/website",
		"?repo=" + strings.Repeat("a", 40) + "/website", "?repo=acme/" + strings.Repeat("w", 101),
		"?repo=acme/website&repo=acme/api", "?repo=acme/website%zz", "?repo=acme%2Fwebsite%0A",
	} {
		fake.gotRepo = ""
		code, body, _ := getFreeze(t, h, "GET", q)
		if code != http.StatusBadRequest || body["error"] == nil || body["example"] != "/v1/freeze?repo=acme/website" {
			t.Errorf("%q → %d %v; want 400 with an error and an example", q, code, body)
		}
		if fake.gotRepo != "" {
			t.Errorf("%q reached the store as %q", q, fake.gotRepo)
		}
	}
	for _, q := range []string{"?repo=Acme-Corp/My_Site.v2", "?repo=a/b", "?repo=" + strings.Repeat("a", 39) + "/" + strings.Repeat("w", 100)} {
		if code, _, _ := getFreeze(t, h, "GET", q); code != http.StatusOK {
			t.Errorf("%q → %d, want 200", q, code)
		}
	}
	code, _, hdr := getFreeze(t, h, "POST", "?repo=acme/website")
	if code != http.StatusMethodNotAllowed || !strings.Contains(hdr.Get("Allow"), "GET") {
		t.Fatalf("POST → %d (Allow %q), want 405", code, hdr.Get("Allow"))
	}
}

// TestFreezeHandlerWithStore runs the handler on the real store: a major
// change's freeze answers 423 for its repositories in any case, 200 once the
// change closes, and 503 while Redis is down.
func TestFreezeHandlerWithStore(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	st := store.New(rdb, "opsbot:")
	now := freezeT0.Add(time.Hour)
	h := httpapi.FreezeHandler(st, func() time.Time { return now })

	if err := st.AddFreeze(ctx, store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/website"},
		Start: freezeT0, End: freezeT0.Add(2 * time.Hour), Reason: "database move"}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := getFreeze(t, h, "GET", "?repo=ACME/Website")
	if code != http.StatusLocked || body["change_id"] != "CR-7" || body["until"] != "2026-11-22T12:00:00Z" {
		t.Fatalf("frozen (real store) → %d %v", code, body)
	}
	if code, _, _ := getFreeze(t, h, "GET", "?repo=acme/api"); code != http.StatusOK {
		t.Fatalf("another repository → %d, want 200", code)
	}
	if err := st.EndFreeze(ctx, "CR-7"); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := getFreeze(t, h, "GET", "?repo=acme/website"); code != http.StatusOK || body["frozen"] != false {
		t.Fatalf("after the change closed → %d %v, want 200", code, body)
	}
	srv.Stop()
	if code, _, _ := getFreeze(t, h, "GET", "?repo=acme/website"); code != http.StatusServiceUnavailable {
		t.Fatalf("Redis down → %d, want 503", code)
	}
}
