package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/commands"
)

func TestParseTrainingRecord(t *testing.T) {
	now := time.Now()
	today := now.UTC().Format(time.DateOnly)
	tomorrow := now.UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	ok, err := commands.ParseTrainingRecord(strings.Fields("<@U0ALICE01> owasp "+today+" cert https://x.example/1"), now, time.UTC)
	if err != nil || ok.Course != "owasp" || ok.Evidence != "cert https://x.example/1" || ok.Date.Format(time.DateOnly) != today {
		t.Fatalf("good input: %+v %v", ok, err)
	}
	for name, in := range map[string]string{
		"future":      "<@U0ALICE01> owasp " + tomorrow + " cert",
		"malformed":   "<@U0ALICE01> owasp 14/03/2026 cert",
		"no evidence": "<@U0ALICE01> owasp " + today,
		"bad day":     "<@U0ALICE01> owasp 2026-02-30 cert",
		"too old":     "<@U0ALICE01> owasp 1999-12-31 cert",
	} {
		_, err := commands.ParseTrainingRecord(strings.Fields(in), now, time.UTC)
		var ue *commands.UserError
		if !errors.As(err, &ue) || ue.Example == "" {
			t.Errorf("%s: %v, want a user error with an example", name, err)
		}
	}
}

func FuzzParseTrainingRecord(f *testing.F) {
	for _, s := range []string{"<@U1> owasp 2026-01-02 cert", "@bob x 2026-13-01 y", "a b c", "<@U1> " + strings.Repeat("x", 200) + " 2020-01-01 e"} {
		f.Add(s)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := commands.ParseTrainingRecord(commands.Tokenize(s), now, time.UTC)
		if err != nil {
			var ue *commands.UserError
			if !errors.As(err, &ue) {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		if a.Date.After(now) || a.Evidence == "" || !utf8.ValidString(a.Evidence) || utf8.RuneCountInString(a.Course) > 100 {
			t.Fatalf("accepted %q: %+v", s, a)
		}
	})
}
