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
