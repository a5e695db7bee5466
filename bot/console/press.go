package console

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/383project/opsbot/commands"
)

// press presses the button shown as "[n]".
func (c *Console) press(ctx context.Context, h Handler, line string) {
	n, _ := strconv.Atoi(line)
	c.mu.Lock()
	b, ok := c.buttons[n]
	c.mu.Unlock()
	if !ok {
		c.say(fmt.Sprintf("There is no button [%s] on screen; buttons are shown as [n] under a message.", line))
		return
	}
	c.click(ctx, h, b)
}

// isLabel reports whether line is "[Label]": a button pressed by its label.
func isLabel(line string) bool {
	return len(line) > 2 && line[0] == '[' && line[len(line)-1] == ']'
}

// pressLabel presses the button on screen labelled as typed between the
// brackets (case-insensitive), so a script need not know the numbers. When
// several carry the label they must do the same thing (the same action on
// the same value, as a request's Approve in its message and in a DM do):
// the latest is pressed. Otherwise the person is asked for the number.
func (c *Console) pressLabel(ctx context.Context, h Handler, line string) {
	label := strings.TrimSpace(line[1 : len(line)-1])
	c.mu.Lock()
	var ns []int
	for n, b := range c.buttons {
		if strings.EqualFold(b.label, label) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	var bs []button
	for _, n := range ns {
		bs = append(bs, c.buttons[n])
	}
	c.mu.Unlock()
	switch {
	case len(bs) == 0:
		c.say(fmt.Sprintf("There is no button %s on screen; buttons are shown as [n] Label under a message.", line))
		return
	case slices.ContainsFunc(bs, func(b button) bool { return b.actionID != bs[0].actionID || b.value != bs[0].value }):
		var nums []string
		for _, n := range ns {
			nums = append(nums, "["+strconv.Itoa(n)+"]")
		}
		c.say(fmt.Sprintf("Several buttons are called %q and do different things: %s. Type the number of the one you mean.", label, strings.Join(nums, ", ")))
		return
	}
	c.click(ctx, h, bs[len(bs)-1])
}

// click runs a button: its confirm dialog, if any, then the handler; a
// reply that replaces the original updates the message the button is on.
func (c *Console) click(ctx context.Context, h Handler, b button) {
	if b.confirm != nil && !c.confirm(ctx, b.confirm) {
		return
	}
	c.typed()
	a := commands.Action{
		User: c.acting(), ActionID: b.actionID, BlockID: b.blockID, Value: b.value,
		ChannelID: b.channel, MessageTS: b.ts, TriggerID: c.nextID("trigger"),
	}
	var r commands.Reply
	if !c.safely(func() { r = h.Action(ctx, a) }) {
		return
	}
	if r.ReplaceOriginal && (r.Text != "" || len(r.Blocks) > 0) {
		c.show(c.head(b.channel, " (updated)"), b.channel, b.ts, r.Text, r.Blocks)
		r.Text, r.Blocks = "", nil
	}
	c.reply(ctx, h, r)
}
