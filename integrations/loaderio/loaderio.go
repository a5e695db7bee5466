// Package loaderio runs load tests with loader.io's API v2
// (https://docs.loader.io/api/v2/): create a test (which runs at once) and
// poll its result. loader.io re-checks the target's verification file
// (https://<host>/loaderio-<token>.txt) on every run, so VerifyFile checks it
// first and a missing file is reported in words before any test is made.
package loaderio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
)

// DefaultAPIURL is loader.io's API base.
const DefaultAPIURL = "https://api.loader.io/v2"

// Config is the API base (for tests and proxies) and the account's key
// (LOADERIO_API_KEY).
type Config struct {
	APIURL string
	APIKey string
}

// Client talks to one loader.io account. Safe for concurrent use.
type Client struct {
	base string
	key  string
	hc   *http.Client
	log  *slog.Logger
}

// New builds a Client; hc may be nil (the default client).
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := strings.TrimSuffix(cfg.APIURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	return &Client{base: base, key: cfg.APIKey, hc: hc, log: log.With("integration", "loaderio")}
}

// Test is what to run: Total clients over Duration seconds (per-test), or
// ClientsPerSecond for Duration (per-second), against URL with GET.
type Test struct {
	Name             string
	URL              string
	Total            int
	ClientsPerSecond int
	Duration         int // seconds
	Timeout          int // ms per request; default 10000
}

// Result is a run's summary; Status is "not_ready" while it runs.
type Result struct {
	Status           string  `json:"status"`
	PublicResultsURL string  `json:"public_results_url"`
	Success          int64   `json:"success"`
	Error            int64   `json:"error"`
	TimeoutError     int64   `json:"timeout_error"`
	NetworkError     int64   `json:"network_error"`
	AvgResponseTime  float64 `json:"avg_response_time"` // ms
	AvgErrorRate     float64 `json:"avg_error_rate"`
}

// Ready reports whether the run finished.
func (r Result) Ready() bool { return r.Status == "ready" }

var reToken = regexp.MustCompile(`^loaderio-[0-9a-f]{16,64}$`)

// ErrVerification: the target does not serve its verification file, so
// loader.io would refuse to run.
var ErrVerification = errors.New("loader.io verification file missing")

// VerifyFile checks that the target's host serves /<token>.txt with the
// token in it, as loader.io does before every run.
func (c *Client) VerifyFile(ctx context.Context, target, token string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("loaderio: %q is not an http(s) URL", target)
	}
	if !reToken.MatchString(token) {
		return fmt.Errorf("loaderio: %q is not a verification token (loaderio-<hex>)", token)
	}
	file := u.Scheme + "://" + u.Host + "/" + token + ".txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, file, nil)
	if err != nil {
		return fmt.Errorf("loaderio: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s could not be fetched: %v", ErrVerification, file, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: %s answered %s (put the file loader.io gave you back at the site root)", ErrVerification, file, resp.Status)
	case !strings.Contains(string(body), token):
		return fmt.Errorf("%w: %s does not contain the token %s", ErrVerification, file, token)
	}
	return nil
}

// Create creates a test, which loader.io runs at once (POST /v2/tests); it
// returns the test's and the run's IDs.
func (c *Client) Create(ctx context.Context, t Test) (testID, resultID string, err error) {
	body := map[string]any{"name": t.Name, "duration": t.Duration, "timeout": cmpOr(t.Timeout, 10000),
		"urls": []map[string]any{{"url": t.URL, "request_type": "GET", "headers": map[string]string{}, "request_params": map[string]string{}}}}
	if t.ClientsPerSecond > 0 {
		body["test_type"], body["total"] = "per-second", t.ClientsPerSecond
	} else {
		body["test_type"], body["total"] = "per-test", t.Total
	}
	var out struct {
		Message  string `json:"message"`
		TestID   string `json:"test_id"`
		ResultID string `json:"result_id"`
	}
	if err := c.call(ctx, http.MethodPost, "/tests", body, &out); err != nil {
		return "", "", fmt.Errorf("loaderio: create test: %w", err)
	}
	if out.TestID == "" || out.ResultID == "" {
		return "", "", fmt.Errorf("loaderio: create test: no test_id or result_id in the answer")
	}
	return out.TestID, out.ResultID, nil
}

// Result reads a run (GET /v2/tests/{test_id}/results/{result_id}).
func (c *Client) Result(ctx context.Context, testID, resultID string) (Result, error) {
	var r Result
	err := c.call(ctx, http.MethodGet, "/tests/"+url.PathEscape(testID)+"/results/"+url.PathEscape(resultID), nil, &r)
	if err != nil {
		return r, fmt.Errorf("loaderio: result %s/%s: %w", testID, resultID, err)
	}
	return r, nil
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("loaderio-auth", c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &integrations.RetryableError{Op: method + " " + path, Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(raw, &e)
		err := fmt.Errorf("%s: %s", resp.Status, strings.Join(e.Errors, "; "))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return &integrations.RetryableError{Op: method + " " + path, StatusCode: resp.StatusCode,
				RetryAfter: integrations.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: err}
		}
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}
