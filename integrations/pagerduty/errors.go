package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
)

// DefaultRateLimitDelay is the RetryAfter of a 429 that carries neither
// Retry-After nor ratelimit-reset: PagerDuty suggests retrying ~30 s apart.
const DefaultRateLimitDelay = 30 * time.Second

// maxErrorBody bounds how much of a non-2xx body is kept for the error message.
const maxErrorBody = 64 << 10

// exchange is what the capturing transport saw of the last response of one
// call. go-pagerduty's methods drop the *http.Response on errors (and its
// APIError cannot parse Events v2 error bodies), so each call puts a fresh
// exchange in its request context and reads it back afterwards.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

type exchangeKey struct{}

func withExchange(ctx context.Context) (context.Context, *exchange) {
	ex := &exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

// captureTransport records status, headers and (for non-2xx) the body of
// every response into the exchange carried by the request's context.
type captureTransport struct{ base http.RoundTripper }

func (t captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(withFrom(req))
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if err != nil || ex == nil || resp == nil {
		return resp, err
	}
	ex.status, ex.header = resp.StatusCode, resp.Header.Clone()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	ex.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// errorBody covers both error shapes: REST {"error":{...}} and Events v2
// {"status":"invalid event","message":...,"errors":[...]}.
type errorBody struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
	Error   *struct {
		Message string   `json:"message"`
		Code    int      `json:"code"`
		Errors  []string `json:"errors"`
	} `json:"error"`
}

// vendorMessage returns PagerDuty's own words for a failed response and the
// REST error code (0 when absent).
func vendorMessage(body []byte) (string, int) {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return strings.TrimSpace(string(body)), 0
	}
	msg, errs, code := b.Message, b.Errors, 0
	if b.Error != nil {
		msg, errs, code = b.Error.Message, b.Error.Errors, b.Error.Code
	}
	if len(errs) > 0 {
		msg += " (" + strings.Join(errs, "; ") + ")"
	}
	return msg, code
}

// classify turns the outcome of one go-pagerduty call into this package's
// error contract. op prefixes every message; secret (the routing key) is
// scrubbed from anything PagerDuty or the transport said.
func classify(ctx context.Context, op string, ex *exchange, err error, secret string) error {
	if err == nil {
		return nil
	}
	scrub := func(s string) string {
		if secret == "" {
			return s
		}
		return strings.ReplaceAll(s, secret, "[redacted]")
	}
	if ex.status == 0 { // no HTTP response: network error or cancellation
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s: %w", op, cerr)
		}
		return &integrations.RetryableError{Op: op, Err: errors.New(scrub(err.Error()))}
	}
	if ex.status >= 200 && ex.status < 300 { // e.g. an undecodable success body
		return fmt.Errorf("%s: %s", op, scrub(err.Error()))
	}
	msg, code := vendorMessage(ex.body)
	msg = scrub(msg)
	if msg == "" {
		msg = http.StatusText(ex.status)
	}
	switch {
	case ex.status == http.StatusTooManyRequests:
		delay := retryAfter(ex.header)
		if delay == 0 {
			delay = DefaultRateLimitDelay
		}
		return &integrations.RetryableError{Op: op, StatusCode: ex.status, RetryAfter: delay, Err: errors.New(msg)}
	case ex.status >= 500:
		return &integrations.RetryableError{Op: op, StatusCode: ex.status, RetryAfter: retryAfter(ex.header), Err: errors.New(msg)}
	case ex.status == http.StatusUnauthorized || ex.status == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d: %w: %s", op, ex.status, integrations.ErrUnauthorized, msg)
	case ex.status == http.StatusNotFound || code == 2100 || code == 1008 ||
		strings.Contains(strings.ToLower(msg), "requester user not found"):
		return fmt.Errorf("%s: HTTP %d: %w: %s", op, ex.status, integrations.ErrNotFound, msg)
	default:
		return fmt.Errorf("%s: HTTP %d: %s", op, ex.status, msg)
	}
}

// retryAfter reads Retry-After (seconds or HTTP date), else PagerDuty's
// ratelimit-reset (seconds). 0 when neither is usable.
func retryAfter(h http.Header) time.Duration {
	if d := integrations.ParseRetryAfter(h.Get("Retry-After"), time.Now()); d > 0 {
		return d
	}
	if v := strings.TrimSpace(h.Get("Ratelimit-Reset")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}
