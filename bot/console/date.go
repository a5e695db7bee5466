package console

import (
	"strconv"
	"strings"
	"time"
)

// date renders <!date^unix^format[^link]|fallback> in st's zone.
func (st style) date(body, fallback string) string {
	parts := strings.SplitN(body, "^", 4)
	if len(parts) >= 3 {
		if sec, err := strconv.ParseInt(parts[1], 10, 64); err == nil {
			if s, ok := st.dateFormat(unescape(parts[2]), time.Unix(sec, 0).In(st.loc)); ok {
				return s
			}
		}
	}
	if fallback == "" && len(parts) >= 3 {
		return unescape(parts[2])
	}
	return fallback
}

// dateFormat expands Slack's {date_*}, {time}, {time_secs} and {ago} tokens.
// {time} is 24-hour. An unknown token makes it fail (ok false).
func (st style) dateFormat(f string, t time.Time) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(f, '{')
		if i < 0 {
			b.WriteString(f)
			return b.String(), true
		}
		j := strings.IndexByte(f[i:], '}')
		if j < 0 {
			b.WriteString(f)
			return b.String(), true
		}
		b.WriteString(f[:i])
		s, ok := st.token(f[i+1:i+j], t)
		if !ok {
			return "", false
		}
		b.WriteString(s)
		f = f[i+j+1:]
	}
}

func (st style) token(tok string, t time.Time) (string, bool) {
	now := st.now().In(st.loc)
	switch tok {
	case "date_num":
		return t.Format("2006-01-02"), true
	case "date":
		return t.Format("January ") + ordinal(t.Day()) + t.Format(", 2006"), true
	case "date_short":
		return t.Format("Jan 2, 2006"), true
	case "date_long":
		return t.Format("Monday, January ") + ordinal(t.Day()) + t.Format(", 2006"), true
	case "date_pretty", "date_short_pretty", "date_long_pretty":
		for off, word := range map[int]string{-1: "yesterday", 0: "today", 1: "tomorrow"} {
			if y, m, d := now.AddDate(0, 0, off).Date(); y == t.Year() && m == t.Month() && d == t.Day() {
				return word, true
			}
		}
		return st.token(strings.TrimSuffix(tok, "_pretty"), t)
	case "time":
		return t.Format("15:04"), true
	case "time_secs":
		return t.Format("15:04:05"), true
	case "ago":
		return ago(now.Sub(t)), true
	}
	return "", false
}

func ordinal(d int) string {
	suffix := "th"
	switch {
	case d%100 >= 11 && d%100 <= 13:
	case d%10 == 1:
		suffix = "st"
	case d%10 == 2:
		suffix = "nd"
	case d%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(d) + suffix
}

// ago renders a duration as "3 minutes ago" or, when negative, "in 3 minutes".
func ago(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	if d < time.Minute {
		return "just now"
	}
	n, unit := 0, ""
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{365 * 24 * time.Hour, "year"}, {30 * 24 * time.Hour, "month"}, {24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}} {
		if d >= u.d {
			n, unit = int(d/u.d), u.name
			break
		}
	}
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
