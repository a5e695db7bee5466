package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/383project/opsbot/integrations"
)

// mapError turns what go-github returned into the package's error contract:
// not found, unauthorized, retryable (with delay) or final.
func mapError(op string, resp *gh.Response, err error, now time.Time) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var hdr http.Header
	status := 0
	if resp != nil && resp.Response != nil {
		hdr, status = resp.Header, resp.StatusCode
	}
	if e, ok := errorsAs[*gh.RateLimitError](err); ok {
		// A real 403/429 or go-github's local refusal until the reset time.
		delay := retryAfter(hdr, now)
		if delay == 0 && !e.Rate.Reset.Time.IsZero() {
			delay = max(e.Rate.Reset.Time.Sub(now), 0)
		}
		return retryable(op, orDefault(status, http.StatusForbidden), delay, errors.New("rate limit exceeded"))
	}
	if e, ok := errorsAs[*gh.AbuseRateLimitError](err); ok {
		delay := retryAfter(hdr, now)
		if e.RetryAfter != nil && *e.RetryAfter > 0 {
			delay = *e.RetryAfter
		}
		return retryable(op, orDefault(status, http.StatusForbidden), delay, errors.New("secondary rate limit exceeded"))
	}
	if e, ok := errorsAs[*gh.ErrorResponse](err); ok && e.Response != nil {
		status = e.Response.StatusCode
		msg := e.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		switch {
		case status == http.StatusNotFound || status == http.StatusGone:
			return fmt.Errorf("%s: %s: %w", op, msg, integrations.ErrNotFound)
		case status == http.StatusTooManyRequests ||
			status == http.StatusForbidden && (e.Response.Header.Get("X-RateLimit-Remaining") == "0" || e.Response.Header.Get("Retry-After") != ""):
			return retryable(op, status, retryAfter(e.Response.Header, now), errors.New(msg))
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("%s: HTTP %d: %s: %w", op, status, msg, integrations.ErrUnauthorized)
		case status >= 500:
			return retryable(op, status, retryAfter(e.Response.Header, now), errors.New(msg))
		default:
			return fmt.Errorf("%s: HTTP %d: %s", op, status, msg)
		}
	}
	if status >= 200 && status < 300 {
		return fmt.Errorf("%s: unreadable response: %w", op, err) // e.g. bad JSON: final
	}
	// No response at all: a network failure.
	return retryable(op, 0, 0, err)
}

func retryable(op string, status int, after time.Duration, err error) error {
	return &integrations.RetryableError{Op: op, StatusCode: status, RetryAfter: after, Err: err}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// retryAfter reads Retry-After (seconds or an HTTP date), else
// X-RateLimit-Reset (unix seconds) when the limit is used up; 0 if neither.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(s, 0).Sub(now), 0)
		}
	}
	return 0
}
