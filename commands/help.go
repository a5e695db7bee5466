package commands

import (
	"context"
	"strings"

	"github.com/slack-go/slack"
)

// runHelp lists only what the caller may run, each with an example.
func runHelp(_ context.Context, c *Call) (Reply, error) {
	if len(c.Args) > 0 {
		verb := strings.ToLower(c.Args[0])
		rt, ok := c.r.verbs[verb]
		if !ok {
			return c.r.unknownVerb(c.Principal, verb), nil
		}
		if !c.Principal.Can(rt.Perm) {
			return denied(c.Principal, rt.Perm, "run `/ops "+rt.Verb+"`"), nil
		}
		return verbHelp(rt), nil
	}
	blocks := []slack.Block{header("What you can run")}
	var lines []string
	for _, rt := range c.r.order {
		if c.Principal.Can(rt.Perm) {
			lines = append(lines, "*`/ops "+rt.Usage+"`*\n"+rt.Summary+" — e.g. `"+rt.Example+"`")
		}
	}
	blocks = append(blocks, linesToBlocks(lines, maxBlocks-2)...)
	note := "Add `help` after a verb for details, e.g. `/ops role help`."
	if len(c.Principal.Grants) == 0 {
		note = "You have no role yet, so this is all you can run. Ask an admin to grant you one, e.g. `/ops role grant @you engineer`."
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(note)))
	return Reply{Text: "What you can run: " + strings.Join(verbNames(c), ", "), Blocks: blocks}, nil
}

func verbNames(c *Call) []string {
	var names []string
	for _, rt := range c.r.order {
		if c.Principal.Can(rt.Perm) {
			names = append(names, rt.Verb)
		}
	}
	return names
}

// verbHelp is the help of one verb.
func verbHelp(rt *Route) Reply {
	var forms []string
	for f := range strings.SplitSeq(rt.Usage, " · ") {
		forms = append(forms, "• `/ops "+f+"`")
	}
	text := "*/ops " + rt.Verb + "* — " + rt.Summary + "\n" + strings.Join(forms, "\n") + "\nFor example: `" + rt.Example + "`"
	return Reply{Text: text, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}}
}
