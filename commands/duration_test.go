package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
)

func TestParseDuration(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"30m", 30 * time.Minute},
		{"2h", 2 * time.Hour},
		{"1d", 24 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1d12h", 36 * time.Hour},
		{"1d2h3m", 26*time.Hour + 3*time.Minute},
		{"2H", 2 * time.Hour},
		{" 45m ", 45 * time.Minute},
		{"1m", time.Minute},
		{"90m", 90 * time.Minute},
		{"30d", 30 * 24 * time.Hour},
		{"720h", 30 * 24 * time.Hour},
		{"0d1m", time.Minute},
		{"007m", 7 * time.Minute},
	}
	for _, c := range good {
		got, err := commands.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "no duration"},
		{"   ", "no duration"},
		{"-5m", "negative"},
		{"0m", "at least 1m"},
		{"0d0h0m", "at least 1m"},
		{"10y", `"y" is not a unit`},
		{"abc", "not a duration"},
		{"5", "needs a unit"},
		{"m", "not a duration"},
		{"90s", "seconds"},
		{"31d", "maximum of 30 days"},
		{"30d1m", "maximum of 30 days"},
		{"721h", "maximum of 30 days"},
		{"99999999999d", "maximum of 30 days"},
		{"99999999999999999999999999m", "maximum of 30 days"},
		{"30m1h", "largest first"},
		{"1h1h", "largest first"},
		{"1.5h", "not a duration"},
		{"2h 30m", "not a duration"},
		{"2h!", "not a duration"},
		{"1d½", "not a duration"},
	}
	for _, c := range bad {
		got, err := commands.ParseDuration(c.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseDuration(%q) error %q does not say %q", c.in, err, c.msg)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "2h", "1d", "1h30m", "-5m", "0m", "10y", "abc", "", "99999999999d", "1d23h59m", "+5m", "9223372036854775807m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := commands.ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("ParseDuration(%q) = %v with error %v; want 0", s, d, err)
			}
			if err.Error() == "" {
				t.Fatalf("ParseDuration(%q): empty error message", s)
			}
			return
		}
		if d < commands.MinDuration || d > commands.MaxDuration || d%time.Minute != 0 {
			t.Fatalf("ParseDuration(%q) = %v: outside 1m..30d or not whole minutes", s, d)
		}
	})
}
