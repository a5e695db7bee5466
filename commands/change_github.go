package commands

import (
	"fmt"
	"strings"

	"github.com/383project/opsbot/store"
)

// maxStatusRows bounds the state table of a status comment.
const maxStatusRows = 30

// githubStatus is the request's one status comment on its GitHub issue
// (Markdown), edited in place at every state change, Atlantis-style. By
// default it says only what the client's repository may show: the
// request's ID, its state and when each state was reached. With full (the
// client's github_comments: full) it adds the title, the cost figures and
// the notes and reasons of each step. Slack user IDs mean nothing on
// GitHub: no names either way.
func githubStatus(cr store.ChangeRequest, full bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · opsbot change request · %s **%s**\n\n", cr.ID, stateEmoji(cr.State), stateLabel(cr.State))
	if full {
		fmt.Fprintf(&b, "%s\n\n", mdText(cr.Title, 150))
		if p := cr.Proposal; p != nil {
			fmt.Fprintf(&b, "Proposal v%d (%s): monthly cost %s → %s, %s\n\n", p.Version, p.Magnitude, p.CurrentMonthly, p.ProposedMonthly,
				store.FormatDelta(p.CurrentMonthly, p.ProposedMonthly))
		}
	}
	var rows []string
	for _, e := range cr.History {
		if e.From == e.To && e.From != "" {
			continue // notes within a state: in Slack and the audit log
		}
		row := "| " + e.At.UTC().Format("2006-01-02 15:04") + " | " + stateLabel(e.To)
		if full {
			row += " | " + mdText(e.Note, 300)
		}
		rows = append(rows, row+" |")
	}
	if len(rows) > maxStatusRows {
		rows = append([]string{fmt.Sprintf("| … | %d earlier steps |", len(rows)-maxStatusRows)}, rows[len(rows)-maxStatusRows:]...)
	}
	head := "| when (UTC) | state |\n|---|---|\n"
	if full {
		head = "| when (UTC) | state | note |\n|---|---|---|\n"
	}
	b.WriteString(head + strings.Join(rows, "\n") + "\n")
	return b.String()
}

// mdText makes user text safe in one GitHub Markdown table cell: one line,
// no table breaks, no HTML, no @mentions or #references that would notify
// people or link issues.
func mdText(s string, n int) string {
	s = strings.Join(strings.Fields(truncate(s, n)), " ")
	r := strings.NewReplacer("\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "@", "@\u200b", "#", "#\u200b", "`", "'")
	return r.Replace(s)
}
