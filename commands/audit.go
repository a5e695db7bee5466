package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

const (
	defaultAuditLines = 20
	maxAuditLines     = 200
	auditExample      = "/ops audit acme @alice --since 7d"
)

// auditQuery is what `/ops audit [client] [@actor] [--since 7d] [n]` asks for.
type auditQuery struct {
	filter store.AuditFilter
	since  time.Duration
	n      int
}

// parseAuditQuery reads the filters in any order; each may appear once.
func (c *Call) parseAuditQuery(ctx context.Context, args []string) (auditQuery, error) {
	q := auditQuery{n: defaultAuditLines}
	seenN := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.EqualFold(a, "--since"):
			if q.since != 0 || i+1 == len(args) {
				return q, userErrorf(auditExample, "`--since` takes one duration, e.g. `--since 7d` (at most 30d).")
			}
			d, err := ParseDuration(args[i+1])
			if err != nil {
				return q, userErrorf(auditExample, "--since %s: %s.", Escape(truncate(args[i+1], 20)), err.Error())
			}
			q.since, i = d, i+1
		case isNumber(a):
			v, err := strconv.Atoi(a)
			if seenN || err != nil || v < 1 || v > maxAuditLines {
				return q, userErrorf("/ops audit 50", "%q is not a number of entries from 1 to %d.", Escape(truncate(a, 20)), maxAuditLines)
			}
			q.n, seenN = v, true
		case strings.HasPrefix(a, "<@") || strings.HasPrefix(a, "@") || bareUserID.MatchString(a):
			if q.filter.Actor != "" {
				return q, userErrorf(auditExample, "Name at most one person.")
			}
			id, err := c.resolveUser(ctx, a, auditExample)
			if err != nil {
				return q, err
			}
			q.filter.Actor = id
		case strings.HasPrefix(a, "-"):
			return q, userErrorf(auditExample, "I don't know the option %q. Use `/ops audit [client] [@person] [--since 7d] [n]`.", Escape(truncate(a, 20)))
		default:
			if q.filter.Client != "" {
				return q, userErrorf(auditExample, "Name at most one client.")
			}
			client, err := c.resolveClient(a, auditExample)
			if err != nil {
				return q, err
			}
			q.filter.Client = client
		}
	}
	if q.since > 0 {
		q.filter.Since = c.Now.Add(-q.since)
	}
	return q, nil
}

func isNumber(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// runAudit shows the newest audit entries, filtered by client, person and
// age; `audit export [YYYY-MM]` sends a month as CSV.
func runAudit(ctx context.Context, c *Call) (Reply, error) {
	if len(c.Args) > 0 && strings.EqualFold(c.Args[0], "export") {
		return exportAudit(ctx, c, c.Args[1:])
	}
	q, err := c.parseAuditQuery(ctx, c.Args)
	if err != nil {
		return Reply{}, err
	}
	entries, err := c.r.deps.Audit.FindAudit(ctx, q.filter, q.n)
	if err != nil {
		return Reply{}, err
	}
	scope := auditScope(c, q)
	if len(entries) == 0 {
		return Reply{Text: "No audit entries" + scope + "."}, nil
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		lines = append(lines, auditLine(e))
	}
	return listReply(fmt.Sprintf("Audit log%s: newest %d", scope, len(entries)), lines), nil
}

func auditScope(c *Call, q auditQuery) string {
	var parts []string
	if q.filter.Client != "" {
		parts = append(parts, "for "+c.clientName(q.filter.Client))
	}
	if q.filter.Actor != "" {
		parts = append(parts, "by "+mention(q.filter.Actor))
	}
	if q.since > 0 {
		parts = append(parts, "in the last "+formatDuration(q.since))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// auditLine is one entry: when · who · action object (client) from → to — reason; detail.
func auditLine(e store.AuditEntry) string {
	actor := Escape(e.Actor)
	if bareUserID.MatchString(e.Actor) {
		actor = mention(e.Actor)
	}
	target := Escape(e.Target)
	if bareUserID.MatchString(e.Target) {
		target = mention(e.Target)
	}
	line := fmt.Sprintf("%s · %s · `%s` %s", slackDate(e.At), actor, Escape(e.Action), target)
	if e.Role != "" {
		line += " *" + Escape(e.Role) + "*"
	}
	if e.Client != "" {
		line += " (client `" + Escape(e.Client) + "`)"
	}
	if e.From != "" || e.To != "" {
		from, to := strings.ReplaceAll(e.From, "_", " "), strings.ReplaceAll(e.To, "_", " ")
		if from == to {
			line += " · " + Escape(to)
		} else {
			line += " · " + Escape(cmpOr(from, "new")) + " → " + Escape(to)
		}
	}
	if e.Reason != "" {
		line += " — reason: " + clip(Escape(e.Reason), 300)
	}
	if e.Detail != "" {
		line += " — " + clip(Escape(e.Detail), 300)
	}
	return line
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
