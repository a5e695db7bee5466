package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DefaultApprovalTTL is how long a change approval stays valid by default.
const DefaultApprovalTTL = 72 * time.Hour

var (
	reRepo    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$`)
	reWebHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$`)
)

func applyChangeDefaults(cfg *Config) {
	ch := &cfg.Changes
	if ch.Channel == "" {
		ch.Channel = cfg.Channels.Support
	}
	if len(ch.Approvers) == 0 {
		ch.Approvers = []string{"stakeholder", "finance"}
	}
	for i, a := range ch.Approvers {
		ch.Approvers[i] = strings.ToLower(strings.TrimSpace(a))
	}
	if ch.ApprovalTTL == nil {
		d := Duration(DefaultApprovalTTL)
		ch.ApprovalTTL = &d
	}
	for key, cl := range cfg.Clients {
		for i, r := range cl.Repos {
			cl.Repos[i] = strings.ToLower(strings.TrimSpace(r))
		}
		cfg.Clients[key] = cl
	}
	for i, h := range cfg.Integrations.GitHub.WebHosts {
		cfg.Integrations.GitHub.WebHosts[i] = strings.ToLower(strings.TrimSpace(h))
	}
}

func validateChanges(cfg *Config, c *collector) {
	ch := cfg.Changes
	if ch.Channel != "" && ch.Channel != cfg.Channels.Support { // support is checked already
		checkChannel(c, "changes.channel", ch.Channel)
	}
	for _, a := range ch.Approvers {
		if a != "stakeholder" && a != "finance" {
			c.add("changes.approvers", "%q: approvers are the roles stakeholder and/or finance (e.g. [stakeholder, finance])", a)
		}
	}
	if ch.ApprovalTTL != nil && (ch.ApprovalTTL.Std() < 0 || ch.ApprovalTTL.Std() > 90*24*time.Hour) {
		c.add("changes.approval_ttl", "%v: use 0s (never expire) up to 2160h (90 days), e.g. 72h", *ch.ApprovalTTL)
	}
	for i, h := range cfg.Integrations.GitHub.WebHosts {
		if !reWebHost.MatchString(h) || h == "github.com" {
			c.add(fmt.Sprintf("integrations.github.web_hosts[%d]", i), "%q is not a GitHub Enterprise web host (e.g. ghe.example.com); github.com is always allowed", h)
		}
	}
	seen := map[string]string{}
	for _, key := range cfg.ClientKeys() {
		for i, r := range cfg.Clients[key].Repos {
			p := fmt.Sprintf("%s.repos[%d]", joinPath("clients", key), i)
			if !reRepo.MatchString(r) {
				c.add(p, "%q is not a GitHub repository: write owner/name, e.g. acme/web", r)
			} else if other, dup := seen[r]; dup && other != key {
				c.add(p, "%q is already a repository of client %s; a repository belongs to one client", r, other)
			}
			seen[r] = key
		}
	}
}
