package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/383project/opsbot/store"
)

const (
	roleGrantExample  = "/ops role grant @alice support"
	roleRevokeExample = "/ops role revoke @alice support"
)

// runRole is `role grant|revoke|list`; the route already required admin.
func runRole(ctx context.Context, c *Call) (Reply, error) {
	if len(c.Args) == 0 {
		return Reply{}, userErrorf(roleGrantExample, "Say what to do: `grant`, `revoke` or `list`.")
	}
	switch strings.ToLower(c.Args[0]) {
	case "grant":
		return changeRole(ctx, c, true)
	case "revoke":
		return changeRole(ctx, c, false)
	case "list", "ls":
		return listRoles(ctx, c)
	}
	return Reply{}, userErrorf(roleGrantExample, "`%s` is not something `/ops role` does; use `grant`, `revoke` or `list`.", Escape(truncate(c.Args[0], 30)))
}

func changeRole(ctx context.Context, c *Call, grant bool) (Reply, error) {
	example, verb := roleGrantExample, "grant"
	if !grant {
		example, verb = roleRevokeExample, "revoke"
	}
	args := c.Args[1:]
	if grant && len(args) == 0 {
		return Reply{Modal: roleGrantModal(c)}, nil
	}
	if len(args) < 2 || len(args) > 3 {
		return Reply{}, userErrorf(example, "`/ops role %s` takes a person, a role and, for a stakeholder, a client.", verb)
	}
	g, err := c.parseGrant(args[1], args[2:], example)
	if err != nil {
		return Reply{}, err
	}
	target, err := c.resolveUser(ctx, args[0], example)
	if err != nil {
		return Reply{}, err
	}
	if grant {
		switch why, err := c.botRefusal(ctx, target); {
		case err != nil:
			return Reply{}, err
		case why != "":
			return Reply{}, userErrorf(example, "%s %s", mention(target), why)
		}
	}
	if !grant && target == c.User.ID && g.Role == store.Admin {
		return Reply{}, userErrorf("", "You can't revoke your own admin role; ask another admin, so nobody locks the team out by accident.")
	}
	if !grant && g.Role == store.Admin && c.r.bootstrapAdmin(target) {
		return Reply{}, userErrorf("", "%s is a bootstrap admin from config; remove them from `admins` in opsbot.yaml (or OPSBOT_ADMINS) instead.", mention(target))
	}
	change := c.r.deps.Roles.Revoke
	if grant {
		change = c.r.deps.Roles.Grant
	}
	changed, err := change(ctx, c.User.ID, target, g, c.Now)
	if err != nil {
		if storeTrouble(err) {
			return Reply{}, err
		}
		ref := newRef()
		c.r.log.Error("role change refused: audit entry not written", "ref", ref, "op", verb, "target", target, "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not write the audit entry, so the %s was refused and nothing changed (ref %s). Tell the support team.", verb, ref)}, nil
	}
	switch {
	case grant && changed:
		text := fmt.Sprintf(":white_check_mark: %s is now *%s*. Recorded in the audit log.", mention(target), grantText(c, g))
		return Reply{Text: text, Blocks: undoBlocks(text, target, g)}, nil
	case grant:
		return Reply{Text: fmt.Sprintf("%s already has *%s*; nothing changed.", mention(target), grantText(c, g))}, nil
	case changed:
		return Reply{Text: fmt.Sprintf(":white_check_mark: %s no longer has *%s*. Recorded in the audit log.", mention(target), grantText(c, g))}, nil
	}
	return Reply{Text: fmt.Sprintf("%s does not have *%s*; nothing changed. `/ops role list` shows who has what.", mention(target), grantText(c, g))}, nil
}

// botRefusal says why target may not be given a role ("" when they may).
// Roles are for people: a bot or app user (opsbot included) acts for
// whoever can make it post or click, so a role on it is a role for them.
func (c *Call) botRefusal(ctx context.Context, target string) (string, error) {
	if c.r.deps.Directory == nil {
		return "", errors.New("role grant: no directory to tell people from bots")
	}
	bot, err := c.r.deps.Directory.IsBot(ctx, target)
	switch {
	case errors.Is(err, ErrUnknownUser):
		return "is not someone I can find in this workspace. Pick the person from Slack's @ list.", nil
	case err != nil:
		return "", err
	case bot:
		return "is a bot or an app, and roles are for people: anyone who can make it post would act with the role. Grant it to the person instead.", nil
	}
	return "", nil
}

// parseGrant reads "<role> [client]" into a validated grant.
func (c *Call) parseGrant(roleWord string, rest []string, example string) (store.Grant, error) {
	role := store.Role(strings.ToLower(roleWord))
	if !role.Valid() {
		names := make([]string, len(store.Roles))
		for i, r := range store.Roles {
			names[i] = string(r)
		}
		return store.Grant{}, userErrorf(example, "%q is not a role. Roles: %s.", Escape(truncate(roleWord, 30)), strings.Join(names, ", "))
	}
	g := store.Grant{Role: role}
	if len(rest) == 1 {
		if role != store.Stakeholder {
			return store.Grant{}, userErrorf(example, "Only the stakeholder role is given per client; *%s* covers every client.", role)
		}
		key, err := c.resolveClient(rest[0], "/ops role grant @bob stakeholder acme")
		if err != nil {
			return store.Grant{}, err
		}
		g.Client = key
	}
	if role == store.Stakeholder && g.Client == "" {
		return store.Grant{}, userErrorf("/ops role grant @bob stakeholder acme", "A stakeholder is given per client: name the client.")
	}
	return g, nil
}

func grantText(c *Call, g store.Grant) string {
	if g.Client == "" {
		return string(g.Role)
	}
	return string(g.Role) + "* for *" + c.clientName(g.Client)
}

func listRoles(ctx context.Context, c *Call) (Reply, error) {
	all, err := c.r.deps.Roles.AllGrants(ctx)
	if err != nil {
		return Reply{}, err
	}
	for _, id := range c.r.deps.Admins {
		if !slices.Contains(all[id], store.Grant{Role: store.Admin}) {
			all[id] = append([]store.Grant{{Role: store.Admin}}, all[id]...)
		}
	}
	var lines []string
	for _, role := range store.Roles {
		var holders []string
		for _, id := range slices.Sorted(maps.Keys(all)) {
			for _, g := range all[id] {
				if g.Role != role {
					continue
				}
				h := mention(id)
				if g.Client != "" {
					h += " (" + c.clientName(g.Client) + ")"
				} else if role == store.Admin && c.r.bootstrapAdmin(id) {
					h += " (config)"
				}
				holders = append(holders, h)
			}
		}
		if len(holders) == 0 {
			holders = []string{"_nobody_"}
		}
		lines = append(lines, "*"+string(role)+"*: "+strings.Join(holders, ", "))
	}
	return listReply(fmt.Sprintf("Roles (%d people)", len(all)), lines), nil
}
