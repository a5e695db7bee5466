// Package statuscake reads uptime tests and their up/down periods from the
// StatusCake API v1 (https://developers.statuscake.com/api/) and returns them
// as vendor-neutral integrations types.
//
// It uses the official client, github.com/StatusCakeDev/statuscake-go v1.3.0:
// it already models every endpoint and payload we read, and WithHost lets
// tests point it at statuscaketest. Two gaps are closed here rather than by
// writing our own HTTP client:
//   - statuscake-go's own 429 retry is disabled (WithDisableRetry) so the
//     caller's retry loop decides, from an *integrations.RetryableError;
//   - its APIError carries no response headers, so the injected http.Client's
//     transport is wrapped to record each call's status and headers
//     (x-ratelimit-reset, Retry-After) in a per-call value on the context.
package statuscake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	sc "github.com/StatusCakeDev/statuscake-go"
	"github.com/StatusCakeDev/statuscake-go/credentials"

	"github.com/383project/opsbot/integrations"
)

// DefaultAPIURL is the production API host. statuscake-go keeps its /v1 path
// and only takes the scheme and host from Config.APIURL.
const DefaultAPIURL = "https://api.statuscake.com"

// pageSize is the largest page the API serves (limit 1–100).
const pageSize = 100

// Config is how to reach StatusCake.
type Config struct {
	APIURL string // scheme+host; default DefaultAPIURL. The client adds /v1/...
	Token  string // API token, sent as "Authorization: Bearer ..."; never logged
}

// Client reads StatusCake uptime tests. It is safe for concurrent use.
type Client struct {
	api *sc.Client
	log *slog.Logger
}

// New returns a Client. hc may be nil (a client with a 30 s timeout is used);
// its Transport is wrapped, never modified. log may be nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wrapped := *hc
	wrapped.Transport = recorder{base: hc.Transport}
	api := sc.NewClient(
		sc.WithHost(cfg.APIURL),
		sc.WithHTTPClient(&wrapped),
		sc.WithRequestCredentials(credentials.NewBearerWithStaticToken(cfg.Token)),
		sc.WithDisableRetry(),
		sc.WithUserAgent("opsbot"),
	)
	return &Client{api: api, log: log.With("integration", "statuscake")}
}

// response is what recorder saw of the last response of one call.
type response struct {
	status int
	header http.Header
}

type responseKey struct{}

// recorder is an http.RoundTripper that stores the response status and
// headers in the *response found on the request's context, if any.
type recorder struct{ base http.RoundTripper }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	base := r.base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if rec, ok := req.Context().Value(responseKey{}).(*response); ok && res != nil {
		rec.status, rec.header = res.StatusCode, res.Header.Clone()
	}
	return res, err
}

// call runs one API call with a fresh response recorder and turns its error
// into this package's error contract (see classify).
func (c *Client) call(ctx context.Context, op string, do func(ctx context.Context) error) error {
	rec := &response{}
	err := do(context.WithValue(ctx, responseKey{}, rec))
	if err == nil {
		return nil
	}
	err = classify(ctx, op, err, rec, time.Now())
	c.log.LogAttrs(ctx, slog.LevelWarn, "statuscake call failed", slog.String("op", op),
		slog.Int("status", rec.status), slog.String("error", err.Error()))
	return err
}

// classify maps a statuscake-go error to the integrations contract:
// 401/403 → ErrUnauthorized, 404 → ErrNotFound, 429/5xx/network →
// *integrations.RetryableError (429 with the delay the API asked for),
// anything else a plain wrapped error. The token never appears: statuscake-go
// errors carry only the status and the response body's message.
func classify(ctx context.Context, op string, err error, rec *response, now time.Time) error {
	op = "statuscake: " + op
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var apiErr sc.APIError
	if !errors.As(err, &apiErr) {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			return &integrations.RetryableError{Op: op, Err: err}
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	status := apiErr.Status
	if status == 0 {
		status = rec.status
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s: StatusCake rejected the API token (HTTP %d): %w", op, status, integrations.ErrUnauthorized)
	case status == http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", op, apiErr.Message, integrations.ErrNotFound)
	case status == http.StatusTooManyRequests:
		return &integrations.RetryableError{Op: op, StatusCode: status, RetryAfter: retryAfter(rec.header, now), Err: apiErr}
	case status >= 500:
		return &integrations.RetryableError{Op: op, StatusCode: status, RetryAfter: retryAfter(rec.header, now), Err: apiErr}
	case status < 300:
		return fmt.Errorf("%s: %w", op, apiErr) // e.g. an undecodable body
	default:
		return fmt.Errorf("%s: HTTP %d: %w", op, status, apiErr)
	}
}

// retryAfter reads x-ratelimit-reset (seconds until the rate-limit window
// resets, per the StatusCake rate-limit guide) or else Retry-After (seconds
// or an HTTP date). It is 0 when neither is given or parses.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("X-Ratelimit-Reset"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
			return time.Duration(s * float64(time.Second))
		}
	}
	return integrations.ParseRetryAfter(h.Get("Retry-After"), now)
}
