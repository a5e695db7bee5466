package config

import (
	"fmt"
	"net/netip"
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
	for i, e := range ch.SmokeAllow {
		ch.SmokeAllow[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(e)), ".")
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
	for i, e := range ch.SmokeAllow {
		checkSmokeAllow(c, fmt.Sprintf("changes.smoke_allow[%d]", i), e)
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

// reSmokeHost is a host name in changes.smoke_allow (no port, no wildcard).
var reSmokeHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// checkSmokeAllow checks one changes.smoke_allow entry: a CIDR, an address
// or a host name. A prefix covering everything is refused: the list exists
// to name the new infrastructure's networks, not to switch the guard off.
func checkSmokeAllow(c *collector, path, e string) {
	const ex = "e.g. 10.20.0.0/16, 10.20.0.5 or staging.internal.example"
	if p, err := netip.ParsePrefix(e); err == nil {
		if p.Bits() == 0 {
			c.add(path, "%q allows every address; name the networks smoke checks need (%s)", e, ex)
		}
		return
	}
	if _, err := netip.ParseAddr(e); err == nil {
		return
	}
	if len(e) > 253 || !reSmokeHost.MatchString(e) {
		c.add(path, "%q is not a CIDR, an address or a host name (%s)", e, ex)
	}
}
