package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/commands"
)

// FuzzParseChecklistArgs: whatever is typed, the parser answers a shape it
// documents or a user error, never panics, and an ID it accepts is one.
func FuzzParseChecklistArgs(f *testing.F) {
	for _, s := range []string{"", "new acme", "new acme light", "show L-3", "show l-3", "acme", "new", "show L-0", "--all", "new a b c", "show L-99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := commands.ParseChecklistArgs(commands.Tokenize(s))
		if err != nil {
			var ue *commands.UserError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("%q: not a user error: %v", s, err)
			}
			return
		}
		switch a.Sub {
		case "new":
			if a.Client == "" || a.Template == "" {
				t.Fatalf("%q: new without client or template: %+v", s, a)
			}
		case "show":
			if !strings.HasPrefix(a.ID, "L-") || len(a.ID) > 12 || !utf8.ValidString(a.ID) {
				t.Fatalf("%q: id %q", s, a.ID)
			}
		case "list":
		default:
			t.Fatalf("%q: sub %q", s, a.Sub)
		}
	})
}

// FuzzParsePentestEvidence: whatever is typed and picked, the evidence is
// refused with a word under a field of the form, or accepted with a
// reference of the documented shape and a date neither in the future nor
// older than PentestMaxAge.
func FuzzParsePentestEvidence(f *testing.F) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, s := range [][2]string{{"ZN-2026-0142", "2026-11-30"}, {"", ""}, {"<b>", "2026-12-06"}, {"ZN 1", "2025-12-01"}, {"a/b#c", "2026-13-01"}, {"ZN", "2026-12-07"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ref, date string) {
		evidence, errs := commands.ParsePentestEvidence(ref, date, now)
		if len(errs) > 0 {
			for block, msg := range errs {
				if (block != "cl_pentest_ref" && block != "cl_pentest_date") || msg == "" {
					t.Fatalf("%q %q: error %q under %q", ref, date, msg, block)
				}
			}
			if evidence != "" {
				t.Fatalf("%q %q: evidence with errors", ref, date)
			}
			return
		}
		d, err := time.Parse(time.DateOnly, date)
		if err != nil || d.After(now.AddDate(0, 0, 1)) || now.Sub(d) > commands.PentestMaxAge+48*time.Hour {
			t.Fatalf("%q %q accepted", ref, date)
		}
		if strings.ContainsAny(evidence, "<>&*`\n") || !strings.HasPrefix(evidence, "Zoonu report ") {
			t.Fatalf("%q %q: evidence %q", ref, date, evidence)
		}
	})
}
