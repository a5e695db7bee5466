package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Duration limits for what people type (UX.md: `30m`, `2h`, `1d`, max 30 days).
const (
	MinDuration = time.Minute
	MaxDuration = 30 * 24 * time.Hour
)

// durationUnits are the units ParseDuration accepts, largest first; each may
// appear once, in this order (`1d12h`, `1h30m`).
var durationUnits = []struct {
	unit byte
	size time.Duration
}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}}

// ParseDuration reads a human duration: whole numbers with the units d
// (days), h (hours) and m (minutes), largest first, e.g. `30m`, `2h`, `1d`,
// `1h30m`. It must come to at least a minute and at most 30 days. Errors are
// plain sentences without the input, for the caller to put in context.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return 0, errors.New("no duration given; write it like 30m, 2h or 1d")
	case s[0] == '-':
		return 0, errors.New("a duration can't be negative")
	case s[0] == '+':
		s = s[1:]
	}
	var (
		total time.Duration
		next  int // index into durationUnits of the smallest unit still allowed
	)
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errors.New("that is not a duration; write it like 30m, 2h, 1d or 1h30m")
		}
		digits := s[:i]
		s = s[i:]
		if s == "" {
			return 0, errors.New("a number needs a unit: m (minutes), h (hours) or d (days), e.g. 30m")
		}
		u := s[0]
		s = s[1:]
		k := -1
		for j, du := range durationUnits {
			if du.unit == u {
				k = j
			}
		}
		switch {
		case u == 's':
			return 0, errors.New("seconds are too fine here; the smallest unit is minutes, e.g. 2m")
		case k < 0 && u >= 'a' && u <= 'z':
			return 0, fmt.Errorf("%q is not a unit I know; use m (minutes), h (hours) or d (days)", string(u))
		case k < 0:
			return 0, errors.New("that is not a duration; write it like 30m, 2h, 1d or 1h30m")
		case k < next:
			return 0, errors.New("write each unit once, largest first, e.g. 1d12h or 1h30m")
		}
		next = k + 1
		// Anything longer than the maximum is refused before it can overflow.
		size := durationUnits[k].size
		limit := int64(MaxDuration / size)
		var n int64
		for _, c := range []byte(digits) {
			n = n*10 + int64(c-'0')
			if n > limit {
				return 0, errors.New("that is longer than the maximum of 30 days")
			}
		}
		total += time.Duration(n) * size
		if total > MaxDuration {
			return 0, errors.New("that is longer than the maximum of 30 days")
		}
	}
	if total < MinDuration {
		return 0, errors.New("a duration must be at least 1m")
	}
	return total, nil
}

// formatDuration renders a duration for people: `2h`, `1d 4h`, `2h 14m`
// (rounded down to the minute; under a minute is `<1m`).
func formatDuration(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	var parts []string
	for _, u := range durationUnits {
		if n := d / u.size; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%c", n, u.unit))
			d -= n * u.size
		}
	}
	return strings.Join(parts, " ")
}
