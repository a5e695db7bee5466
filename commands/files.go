package commands

// Files a person asks for (a cost chart, a CSV) are theirs: they go to the
// person's direct messages, whatever channel the command was typed in.
// `--here` shares one in that channel instead, when the channel belongs to
// the client the file is about or to the team (PRODUCT.md: "What a person
// asked for privately ... is delivered to that person, not to the channel
// they typed in").

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Channels says which configured channels belong to whom, for `--here`.
type Channels struct {
	Team    []string            // the team's internal channels: support, finance, security, change requests
	Clients map[string][]string // client key → its own channels (alerts, general)
}

// hereFlag shares a file in the current channel.
const hereFlag = "--here"

// takeHere removes every --here from args and reports whether there was one.
func takeHere(args []string) ([]string, bool) {
	out := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.EqualFold(a, hereFlag) })
	return out, len(out) < len(args)
}

// sameChannel reports whether a configured channel is the one the person
// typed in (id, and name as Slack sent it). Configured channels are IDs, or
// #names until they are resolved to IDs at start-up; every comparison of a
// configured channel with a live one goes through here.
func sameChannel(configured, id, name string) bool {
	switch {
	case configured == "" || id == "":
		return false
	case configured == id:
		return true
	case strings.HasPrefix(configured, "#"):
		return name != "" && strings.EqualFold(configured[1:], name)
	}
	return false
}

// channelBelongs reports whether the call's channel is one of the team's
// or, when client is set, one of that client's.
func (c *Call) channelBelongs(client string) bool {
	ch := c.r.deps.Channels
	here := func(configured string) bool { return sameChannel(configured, c.ChannelID, c.ChannelName) }
	return slices.ContainsFunc(ch.Team, here) || client != "" && slices.ContainsFunc(ch.Clients[client], here)
}

// privateFile is a file someone asked for.
type privateFile struct {
	client          string // the client it is about; "" for the team's own (the change log)
	name, title     string
	content         []byte
	noun            string // what it is, to start the reply's sentence: "The chart of daily cost"
	here            bool   // the person asked to share it in the channel (--here)
	channelExplains string // whose channels --here accepts, for a refusal: "Acme Ltd's or the team's"
}

// sendFile delivers f to the person who asked, or into the channel when
// they asked and the channel belongs to the client or the team, and returns
// the sentence saying where it went. The console writes a file either way
// and the sentence gives its path.
func (c *Call) sendFile(ctx context.Context, f privateFile) (string, error) {
	files := c.r.deps.Files
	share := f.here && c.channelBelongs(f.client)
	var where string
	var err error
	if share {
		where, err = files.Upload(ctx, c.ChannelID, f.name, f.title, f.content)
	} else {
		where, err = files.UploadDM(ctx, c.User.ID, f.name, f.title, f.content)
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("deliver %s: %w", f.name, err)
	case strings.ContainsAny(where, `/\`): // the console wrote a file: show where
		return f.noun + ": `" + Escape(where) + "`", nil
	case share:
		return fmt.Sprintf("%s is shared in this channel as `%s`.", f.noun, f.name), nil
	case f.here:
		return fmt.Sprintf("%s is in your direct messages with me as `%s`: this channel is not %s, so I don't share it here.", f.noun, f.name, f.channelExplains), nil
	case c.channelBelongs(f.client):
		return fmt.Sprintf("%s is in your direct messages with me as `%s`; add `%s` to share it in this channel.", f.noun, f.name, hereFlag), nil
	}
	return fmt.Sprintf("%s is in your direct messages with me as `%s`.", f.noun, f.name), nil
}
