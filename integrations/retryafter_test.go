package integrations

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"15":                            15 * time.Second,
		" 15 ":                          15 * time.Second, // surrounding spaces are trimmed
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"99999999999999":                24 * time.Hour, // would overflow a Duration
		"Mon, 02 Mar 2026 10:00:30 GMT": 30 * time.Second,
		"Mon, 02 Mar 2026 09:59:00 GMT": 0, // a date already past
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
