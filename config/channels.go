package config

import (
	"fmt"
	"strings"
)

// ChannelRef is one configured channel: where it is in the file, its value,
// and how to replace that value with the channel's ID.
type ChannelRef struct {
	Path  string // e.g. "clients.acme.channels.alerts"
	Value string
	Set   func(id string)
}

// ChannelRefs lists every non-empty channel the file names, in a stable
// order. Slack accepts a #name only for chat.postMessage; updates, links and
// mentions need the ID, so the Slack transport resolves each name once at
// start and writes the ID back with Set.
func (c *Config) ChannelRefs() []ChannelRef {
	var out []ChannelRef
	add := func(path string, v *string) {
		if *v != "" {
			out = append(out, ChannelRef{Path: path, Value: *v, Set: func(id string) { *v = id }})
		}
	}
	add("channels.support", &c.Channels.Support)
	add("channels.finance", &c.Channels.Finance)
	add("channels.security", &c.Channels.Security)
	add("changes.channel", &c.Changes.Channel)
	for i := range c.Alerts.Escalation {
		add(fmt.Sprintf("alerts.escalation[%d].channel", i), &c.Alerts.Escalation[i].Channel)
	}
	for _, key := range c.ClientKeys() {
		p := joinPath("clients", key)
		for _, field := range []string{"alerts", "general"} {
			v := c.Clients[key].Channels.Alerts
			if field == "general" {
				v = c.Clients[key].Channels.General
			}
			if v == "" {
				continue
			}
			out = append(out, ChannelRef{Path: p + ".channels." + field, Value: v, Set: func(id string) {
				cl := c.Clients[key]
				if field == "alerts" {
					cl.Channels.Alerts = id
				} else {
					cl.Channels.General = id
				}
				c.Clients[key] = cl
			}})
		}
		if ladder := c.Clients[key].Escalation; ladder != nil {
			for i := range *ladder {
				add(fmt.Sprintf("%s.escalation[%d].channel", p, i), &(*ladder)[i].Channel)
			}
		}
	}
	return out
}

// IsChannelName reports whether ch is a #name rather than an ID.
func IsChannelName(ch string) bool { return strings.HasPrefix(ch, "#") }
