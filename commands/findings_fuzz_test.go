package commands

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFindingsArgs feeds any text to both findings parsers: they never
// panic, a refusal is a UserError with an example, and what they accept
// holds to the rules (a known severity, an ID of the right form, a duration
// of 1m to 30d, a reason of at most 500 characters).
func FuzzFindingsArgs(f *testing.F) {
	for _, s := range []string{"", "acme", "acme --severity high", "--all", "—severity=critical acme --all", "a b",
		"e26b149d 30d WAF rule", "e26b149d 400d because", "e26b149d 30d", "e26b149d 1h reason --false-positive",
		"--false-positive", "E26B149D-A124 1d12h ok", "x 30d y", "e26b149d 0m y", "e26b149d -1d y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		args := Tokenize(text)
		check := func(err error) {
			var ue *UserError
			if err != nil && (!errors.As(err, &ue) || ue.Example == "" || !utf8.ValidString(ue.Msg)) {
				t.Fatalf("%q: error %v is not a UserError with an example", text, err)
			}
		}
		q, err := parseFindingsArgs(args)
		check(err)
		if err == nil {
			if q.severity != "" {
				if _, ok := parseSeverity(q.severity); !ok {
					t.Fatalf("%q: severity %q accepted", text, q.severity)
				}
			}
			if strings.HasPrefix(q.client, "--") {
				t.Fatalf("%q: a flag taken as the client %q", text, q.client)
			}
		}
		a, err := parseAcceptArgs(args)
		check(err)
		if err == nil {
			if !findingIDPrefix.MatchString(a.id) || a.d < MinDuration || a.d > MaxDuration || a.reason == "" ||
				len([]rune(a.reason)) > maxReasonLen {
				t.Fatalf("%q: accepted %+v", text, a)
			}
		}
	})
}
