package commands

import (
	"context"
	"strings"

	"github.com/383project/opsbot/store"
)

// runWhoami shows the caller's roles and the clients they reach.
func runWhoami(_ context.Context, c *Call) (Reply, error) {
	p := c.Principal
	var lines []string
	lines = append(lines, "You are "+mention(p.UserID)+".")
	if len(p.Grants) == 0 {
		lines = append(lines, "You have no role yet, so you can run `/ops help` and `/ops whoami` only. Ask an admin to grant you one.")
	} else {
		var roles []string
		for _, g := range p.Grants {
			s := "*" + string(g.Role) + "*"
			if g.Client != "" {
				s += " for " + c.clientName(g.Client)
			}
			if g.Role == store.Admin && c.r.bootstrapAdmin(p.UserID) {
				s += " (bootstrap admin from config)"
			}
			roles = append(roles, s)
		}
		lines = append(lines, "Roles: "+strings.Join(roles, ", ")+".")
		if all, clients := p.Scope(store.PermStatusView); all {
			lines = append(lines, "Clients: all.")
		} else if len(clients) > 0 {
			names := make([]string, len(clients))
			for i, k := range clients {
				names[i] = c.clientName(k)
			}
			lines = append(lines, "Clients: "+strings.Join(names, ", ")+".")
		}
		lines = append(lines, "You can run: "+strings.Join(verbNames(c), ", ")+".")
	}
	// A stakeholder of many clients has long lines: the blocks pack them
	// within Slack's 3,000 characters a section, the text is cut to that.
	return Reply{Text: truncate(strings.Join(lines, "\n"), maxBlockText), Blocks: linesToBlocks(lines, maxBlocks)}, nil
}

// clientName renders "Acme Ltd (acme)" for a key, or the key alone.
func (c *Call) clientName(key string) string {
	if name := c.r.deps.Clients[key]; name != "" && name != key {
		return Escape(name) + " (`" + key + "`)"
	}
	return "`" + key + "`"
}
