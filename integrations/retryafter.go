package integrations

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a Retry-After given in seconds.
const maxRetryAfter = 24 * 60 * 60

// ParseRetryAfter reads a Retry-After header's value (seconds or an HTTP
// date) at now; 0 when absent, unreadable or past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		// A day at most: a huge value would overflow a Duration (negative:
		// no wait at all), and no service here asks for longer.
		return time.Duration(min(s, maxRetryAfter)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter*time.Second)
	}
	return 0
}
