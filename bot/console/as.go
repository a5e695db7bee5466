package console

import (
	"context"
	"regexp"
	"strings"

	"github.com/383project/opsbot/commands"
)

// asName is a name /as accepts: what the console's directory makes a user
// from (see UserByName), or a mention of a user ID.
var (
	asName    = regexp.MustCompile(`^@?[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)
	asMention = regexp.MustCompile(`^<@([UW][A-Z0-9]{2,20})(\|[^>]*)?>$`)
)

// isAs reports whether line is the console's own /as command.
func isAs(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	return word == "/as"
}

// acting is who the console's commands, clicks and forms run as: the local
// user, or whom /as named.
func (c *Console) acting() commands.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

// promptText is "ops> ", or "ops (as @fiona)> " while acting as someone else,
// so the transcript always says who typed.
func (c *Console) promptText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.user == c.self {
		return "ops> "
	}
	return "ops (as @" + c.user.Name + ")> "
}

// as runs "/as @user" (the next commands run as that user, so approvals,
// four eyes and a stakeholder's view can be tried with one keyboard) and
// "/as" alone (back to the local user). It exists only in the console, and
// only when the wiring allows it (Options.AllowAs): it is never a verb of the
// router, so nothing in Slack reaches it.
func (c *Console) as(ctx context.Context, line string) {
	if !c.allowAs {
		c.say("/as is off here: it is for trying roles on the console's own in-memory store. " +
			"On a shared Redis an approval made as someone else would be a real one.")
		return
	}
	arg := strings.TrimSpace(strings.TrimPrefix(line, "/as"))
	if arg == "" {
		c.setActing(c.self)
		c.say("Commands run as you again (@" + c.self.Name + ").")
		return
	}
	var who commands.User
	switch m := asMention.FindStringSubmatch(arg); {
	case m != nil:
		who = commands.User{ID: m[1], Name: strings.TrimPrefix(strings.TrimPrefix(m[2], "|"), "@")}
		if who.Name == "" {
			who.Name = who.ID
		}
	case asName.MatchString(arg):
		u, err := c.UserByName(ctx, arg)
		if err != nil {
			c.say("✗ " + err.Error())
			return
		}
		who = u
	default:
		c.say("✗ /as takes one person, e.g. /as @fiona (or /as alone to be yourself again).")
		return
	}
	if who.ID == c.self.ID {
		c.setActing(c.self)
		c.say("Commands run as you again (@" + c.self.Name + ").")
		return
	}
	c.setActing(who)
	c.say("Commands now run as @" + who.Name + " (" + who.ID + "), with their roles: /ops whoami shows them. /as alone makes you yourself again.")
}

func (c *Console) setActing(u commands.User) {
	c.mu.Lock()
	c.user = u
	c.mu.Unlock()
}
