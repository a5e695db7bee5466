package loaderio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/loaderio"
	"github.com/383project/opsbot/integrations/loaderio/loaderiotest"
)

const token = "loaderio-0123456789abcdef0123456789abcdef"

// target is a site that serves its verification file while serving is set.
func target(t *testing.T, body string) (*httptest.Server, string) {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+token+".txt" && body != "" {
			_, _ = w.Write([]byte(body))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(site.Close)
	return site, strings.TrimPrefix(site.URL, "http://")
}

func client(fake *loaderiotest.Server, key string) *loaderio.Client {
	return loaderio.New(loaderio.Config{APIURL: fake.APIURL(), APIKey: key}, &http.Client{Timeout: 5 * time.Second}, nil)
}

// A created test runs at once; its result reads not_ready until it is
// ready, then carries the figures and the public report.
func TestCreateAndPollUntilReady(t *testing.T) {
	fake := loaderiotest.New(t)
	site, host := target(t, token)
	fake.Verify(host, token)
	fake.SetOutcome(loaderiotest.Outcome{Success: 5990, Error: 4, NetworkError: 6, AvgResponseTime: 132, AvgErrorRate: 0.17}, 2)
	c := client(fake, loaderiotest.Key)
	ctx := context.Background()
	testID, resultID, err := c.Create(ctx, loaderio.Test{Name: "acme launch", URL: site.URL + "/", Total: 250, Duration: 60})
	if err != nil || testID == "" || resultID == "" {
		t.Fatalf("create: %q %q %v", testID, resultID, err)
	}
	body := fake.Created()[0]
	if body["test_type"] != "per-test" || body["total"] != float64(250) || body["duration"] != float64(60) || body["timeout"] != float64(10000) {
		t.Fatalf("created %+v", body)
	}
	var polls int
	var r loaderio.Result
	for r, err = c.Result(ctx, testID, resultID); err == nil && !r.Ready(); r, err = c.Result(ctx, testID, resultID) {
		if r.Status != "not_ready" || r.PublicResultsURL != "" {
			t.Fatalf("while running: %+v", r)
		}
		polls++
	}
	if err != nil || polls != 2 {
		t.Fatalf("after %d not_ready: %+v %v", polls, r, err)
	}
	want := loaderio.Result{Status: "ready", PublicResultsURL: "https://loader.io/reports/" + testID + "/results/" + resultID,
		Success: 5990, Error: 4, NetworkError: 6, AvgResponseTime: 132, AvgErrorRate: 0.17}
	if r != want {
		t.Fatalf("ready: %+v\nwant %+v", r, want)
	}
	if _, _, err := c.Create(ctx, loaderio.Test{Name: "per second", URL: site.URL + "/", ClientsPerSecond: 20, Duration: 30}); err != nil {
		t.Fatal(err)
	}
	if body := fake.Created()[1]; body["test_type"] != "per-second" || body["total"] != float64(20) {
		t.Fatalf("per-second test: %+v", body)
	}
}

// loader.io's refusals come back in its words, final (not retryable).
func TestErrorShapes(t *testing.T) {
	fake := loaderiotest.New(t)
	site, host := target(t, token)
	_, otherHost := target(t, "")
	fake.Verify(host, token)
	fake.Verify(otherHost, token)
	ctx := context.Background()
	c := client(fake, loaderiotest.Key)
	test := loaderio.Test{Name: "acme", URL: site.URL + "/", Total: 10, Duration: 10}
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"wrong key", func() error { _, _, err := client(fake, "nope").Create(ctx, test); return err }, "401 Unauthorized: Invalid API key"},
		{"unknown result", func() error { _, err := c.Result(ctx, "f133e9e3691e405eefd3e1b7c351cb18", "nope"); return err }, "404 Not Found: Requested record was not found"},
		{"host not verified", func() error {
			_, _, err := c.Create(ctx, loaderio.Test{Name: "x", URL: "https://unknown.example/", Total: 10, Duration: 10})
			return err
		}, "422 Unprocessable Entity: The target host is not verified"},
		{"file gone", func() error {
			_, _, err := c.Create(ctx, loaderio.Test{Name: "x", URL: "http://" + otherHost + "/", Total: 10, Duration: 10})
			return err
		}, "Verification failed: " + token + ".txt was not found"},
		{"duration over 600", func() error {
			_, _, err := c.Create(ctx, loaderio.Test{Name: "x", URL: site.URL + "/", Total: 10, Duration: 900})
			return err
		}, "total, duration (1-600) and urls are required"},
	} {
		err := tc.do()
		var re *integrations.RetryableError
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &re) {
			t.Errorf("%s: %v, want %q and final", tc.name, err, tc.want)
		}
	}
	if n := len(fake.Created()); n != 0 {
		t.Fatalf("refused requests created %d tests", n)
	}
	// One test at a time per account.
	if _, _, err := c.Create(ctx, test); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Create(ctx, test); err == nil || !strings.Contains(err.Error(), "Only one test may run at a time") {
		t.Fatalf("second test while one runs: %v", err)
	}
}

// A 429 is retryable, with the delay loader.io asked for.
func TestRateLimited(t *testing.T) {
	fake := loaderiotest.New(t)
	site, host := target(t, token)
	fake.Verify(host, token)
	fake.Throttle(1, "7")
	c := client(fake, loaderiotest.Key)
	_, _, err := c.Create(context.Background(), loaderio.Test{Name: "acme", URL: site.URL + "/", Total: 10, Duration: 10})
	var re *integrations.RetryableError
	if !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests || re.RetryAfter != 7*time.Second || !strings.Contains(err.Error(), "Rate limit exceeded") {
		t.Fatalf("throttled: %#v", err)
	}
	if len(fake.Created()) != 0 {
		t.Fatal("a throttled request created a test")
	}
	if _, _, err := c.Create(context.Background(), loaderio.Test{Name: "acme", URL: site.URL + "/", Total: 10, Duration: 10}); err != nil {
		t.Fatalf("after the 429: %v", err)
	}
}

// The verification file is checked as loader.io checks it, before any test.
func TestVerifyFile(t *testing.T) {
	fake := loaderiotest.New(t)
	c := client(fake, loaderiotest.Key)
	ctx := context.Background()
	good, _ := target(t, "  "+token+"\n")
	missing, _ := target(t, "")
	wrong, _ := target(t, "loaderio-ffffffffffffffffffffffffffffffff")
	if err := c.VerifyFile(ctx, good.URL+"/shop", token); err != nil {
		t.Fatalf("served: %v", err)
	}
	for name, tc := range map[string]struct{ url, token, want string }{
		"missing":   {missing.URL + "/", token, "answered 404 Not Found"},
		"wrong":     {wrong.URL + "/", token, "does not contain the token"},
		"down":      {"http://127.0.0.1:1/", token, "could not be fetched"},
		"bad token": {good.URL, "loaderio-XYZ", "is not a verification token"},
		"bad url":   {"ftp://acme.example/", token, "is not an http(s) URL"},
	} {
		err := c.VerifyFile(ctx, tc.url, tc.token)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if verification := errors.Is(err, loaderio.ErrVerification); verification != (name != "bad token" && name != "bad url") {
			t.Errorf("%s: ErrVerification %v: %v", name, verification, err)
		}
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("checking the file called loader.io")
	}
}
