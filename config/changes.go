package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultApprovalTTL is how long a change approval stays valid by default.
const DefaultApprovalTTL = 72 * time.Hour

var (
	reRepo    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$`)
	reOrg     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}$`)
	reWebHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$`)
	// reZoneID is a Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ.
	reZoneID = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
)

// GitHubComments is what opsbot writes on a change request's GitHub issue.
type GitHubComments string

// The GitHub comment modes.
const (
	// CommentsStatus (default): one comment edited in place with the
	// request's ID, state and a link; nothing internal.
	CommentsStatus GitHubComments = "status"
	// CommentsFull: the status comment with the history, the reasons given
	// and the cost figures.
	CommentsFull GitHubComments = "full"
	// CommentsOff: no comments.
	CommentsOff GitHubComments = "false"
)

// UnmarshalYAML reads full, status or false (true, from before the modes,
// means status). A bad value is a *yaml.TypeError naming its line.
func (g *GitHubComments) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: github_comments: want full, status or false, not %s", n.Line, nodeKindWord(n))}}
	}
	switch strings.ToLower(strings.TrimSpace(n.Value)) {
	case "", "status", "true":
		*g = CommentsStatus
	case "full":
		*g = CommentsFull
	case "false", "off", "none":
		*g = CommentsOff
	default:
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: github_comments: %q: want full, status or false", n.Line, truncate(n.Value, 20))}}
	}
	return nil
}

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
		for i, z := range cl.DNSZones {
			cl.DNSZones[i] = strings.TrimPrefix(strings.TrimSpace(z), "/hostedzone/")
		}
		if cl.GitHubComments == "" {
			cl.GitHubComments = CommentsStatus
		}
		cfg.Clients[key] = cl
	}
	gh := &cfg.Integrations.GitHub
	for i, h := range gh.WebHosts {
		gh.WebHosts[i] = strings.ToLower(strings.TrimSpace(h))
	}
	for i, o := range gh.AllowedOrgs {
		gh.AllowedOrgs[i] = strings.ToLower(strings.TrimSpace(o))
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
	for i, o := range cfg.Integrations.GitHub.AllowedOrgs {
		if !reOrg.MatchString(o) {
			c.add(fmt.Sprintf("integrations.github.allowed_orgs[%d]", i), "%q is not a GitHub organisation or user name (e.g. acme-agency)", o)
		}
	}
	checkOwned(cfg, c, "dns_zones", func(cl Client) []string { return cl.DNSZones }, reZoneID,
		"is not a Route 53 hosted zone ID: Z and up to 31 capitals and digits, e.g. Z0ACME00000001", "hosted zone")
	checkOwned(cfg, c, "repos", func(cl Client) []string { return cl.Repos }, reRepo,
		"is not a GitHub repository: write owner/name, e.g. acme/web", "repository")
}

// checkOwned checks one per-client list of things a client owns (its
// repositories, its hosted zones): each matches re, and none belongs to two
// clients.
func checkOwned(cfg *Config, c *collector, field string, list func(Client) []string, re *regexp.Regexp, bad, noun string) {
	owner := map[string]string{}
	for _, key := range cfg.ClientKeys() {
		for i, v := range list(cfg.Clients[key]) {
			p := fmt.Sprintf("%s.%s[%d]", joinPath("clients", key), field, i)
			if !re.MatchString(v) {
				c.add(p, "%q "+bad, v)
			} else if other, dup := owner[v]; dup && other != key {
				c.add(p, "%q is already a %s of client %s; a %s belongs to one client", v, noun, other, noun)
			}
			owner[v] = key
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
