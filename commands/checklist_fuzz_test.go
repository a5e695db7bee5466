package commands_test

import (
	"errors"
	"strings"
	"testing"
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
