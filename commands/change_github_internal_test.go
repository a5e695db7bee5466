package commands

import (
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
)

// TestGitHubStatusComment: the status comment shows states only; full adds
// the title, the cost figures and the reasons, made safe for Markdown.
func TestGitHubStatusComment(t *testing.T) {
	p := store.Proposal{Plan: "Bigger DB", Magnitude: store.MagnitudeMinor, CurrentMonthly: 60000, ProposedMonthly: 72000}
	cr := requestIn(t, store.ChangeAwaitingApproval, "Checkout <slow> | @team #42", "Pages time out", p)
	if err := cr.Reject(store.Approval{By: "UFIN", Role: "finance", ProposalVersion: 1, Comment: "over budget, ask @cfo"}, renderT0.Add(9e12)); err != nil {
		t.Fatal(err)
	}
	status := githubStatus(*cr, false)
	for _, want := range []string{"**CR-1** · opsbot change request · ⛔ **rejected**", "| when (UTC) | state |", "| awaiting approval |", "| rejected |"} {
		if !strings.Contains(status, want) {
			t.Errorf("status comment lacks %q:\n%s", want, status)
		}
	}
	for _, leak := range []string{"$", "budget", "Checkout", "UFIN", "Bigger DB"} {
		if strings.Contains(status, leak) {
			t.Errorf("status comment shows internal detail %q:\n%s", leak, status)
		}
	}
	full := githubStatus(*cr, true)
	for _, want := range []string{"Checkout &lt;slow&gt; \\| @\u200bteam #\u200b42", "$600.00 → $720.00, +$120.00/month (+20 %)",
		"| rejected | rejected as finance: over budget, ask @\u200bcfo |"} {
		if !strings.Contains(full, want) {
			t.Errorf("full comment lacks %q:\n%s", want, full)
		}
	}
	if strings.Contains(full, "UFIN") || strings.Contains(full, "@cfo") {
		t.Errorf("full comment names people:\n%s", full)
	}
}

// FuzzMdText: user text in a status comment stays in its table cell and
// cannot mention, link or inject HTML.
func FuzzMdText(f *testing.F) {
	for _, s := range []string{"over budget | ask @cfo", "<img src=x>", "fixes #42\nsecond line", "`code`", "a\\|b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := mdText(s, 300)
		if strings.ContainsAny(got, "\n\r<>`") {
			t.Fatalf("mdText(%q) = %q: a line break, HTML or code", s, got)
		}
		for i := 0; i < len(got); i++ {
			switch got[i] {
			case '|':
				n := 0 // backslashes before it: an odd number escapes it
				for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
					n++
				}
				if n%2 == 0 {
					t.Fatalf("mdText(%q) = %q: an unescaped |", s, got)
				}
			case '@', '#':
				if !strings.HasPrefix(got[i+1:], "\u200b") {
					t.Fatalf("mdText(%q) = %q: a live mention or reference", s, got)
				}
			}
		}
	})
}
