package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

const (
	defaultAuditLines = 20
	maxAuditLines     = 200
)

// runAudit shows the newest audit entries.
func runAudit(ctx context.Context, c *Call) (Reply, error) {
	n := defaultAuditLines
	if len(c.Args) > 1 {
		return Reply{}, userErrorf("/ops audit 50", "`/ops audit` takes at most one number.")
	}
	if len(c.Args) == 1 {
		v, err := strconv.Atoi(c.Args[0])
		if err != nil || v < 1 || v > maxAuditLines {
			return Reply{}, userErrorf("/ops audit 50", "%q is not a number of entries from 1 to %d.", Escape(truncate(c.Args[0], 20)), maxAuditLines)
		}
		n = v
	}
	entries, err := c.r.deps.Audit.RecentAudit(ctx, n)
	if err != nil {
		return Reply{}, err
	}
	if len(entries) == 0 {
		return Reply{Text: "The audit log is empty."}, nil
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		var what []string
		if e.Role != "" {
			what = append(what, "*"+Escape(e.Role)+"*")
		}
		if e.Client != "" {
			what = append(what, "client `"+Escape(e.Client)+"`")
		}
		if e.Detail != "" {
			what = append(what, Escape(e.Detail))
		}
		target := Escape(e.Target)
		if bareUserID.MatchString(e.Target) {
			target = mention(e.Target)
		}
		lines = append(lines, fmt.Sprintf("%s · %s · `%s` %s %s", slackDate(e.At), mention(e.Actor), Escape(e.Action), target, strings.Join(what, " ")))
	}
	return listReply(fmt.Sprintf("Audit log: last %d entries", len(entries)), lines), nil
}
