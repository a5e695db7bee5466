package config

import (
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ClientDetectify is a client that pays for Detectify scans: its scan
// profiles, when they are scanned, and where findings of each severity go.
// A client without it is not scanned (and its status says so).
type ClientDetectify struct {
	// Profiles are Detectify scan profile tokens (32 hex characters); each
	// belongs to one client.
	Profiles []string `yaml:"profiles"`
	// Schedule is the cron spec ("0 2 * * 1", in the config time zone, or
	// with CRON_TZ=) of the scheduled scans; "off" scans on demand only.
	// Default DefaultScanSchedule.
	Schedule string `yaml:"schedule"`
	// Routing says where a new or reopened finding of each severity goes:
	// page (security channel and PagerDuty), post (security channel only),
	// digest (the weekly digest) or none. Unset severities keep
	// DefaultFindingRouting.
	Routing map[string]string `yaml:"routing"`
}

// Detectify holds settings of the scan monitor as a whole.
type Detectify struct {
	// PollInterval is how often running scans are followed (their one
	// progress message updated); default 1m, 1s to 1h.
	PollInterval Duration `yaml:"poll_interval"`
	// Digest is the cron spec of the weekly digest of medium-and-below
	// findings in channels.security; default DefaultFindingDigest.
	Digest string `yaml:"digest"`
}

// Detectify defaults and limits.
const (
	DefaultScanSchedule  = "0 2 * * 1" // Mondays 02:00
	DefaultFindingDigest = "0 9 * * 1" // Mondays 09:00
	DefaultScanPoll      = time.Minute
	MinScanPoll          = time.Second
	MaxScanPoll          = time.Hour
	ScheduleOff          = "off"
)

// Finding routes.
const (
	RoutePage   = "page"
	RoutePost   = "post"
	RouteDigest = "digest"
	RouteNone   = "none"
)

// FindingSeverities are the severities routing names, worst first.
var FindingSeverities = []string{"critical", "high", "medium", "low", "information"}

// DefaultFindingRouting pages high and critical findings; the rest wait for
// the weekly digest.
var DefaultFindingRouting = map[string]string{
	"critical": RoutePage, "high": RoutePage, "medium": RouteDigest, "low": RouteDigest, "information": RouteDigest,
}

var reProfileToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Route is where a finding of severity goes for this client.
func (d *ClientDetectify) Route(severity string) string {
	if r, ok := d.Routing[severity]; ok {
		return r
	}
	if r, ok := DefaultFindingRouting[severity]; ok {
		return r
	}
	return RouteDigest
}

// DetectifyClients are the keys of the clients that pay for scans, sorted.
func (c *Config) DetectifyClients() []string {
	var out []string
	for _, k := range c.ClientKeys() {
		if c.Clients[k].Detectify != nil {
			out = append(out, k)
		}
	}
	return out
}

func applyDetectifyDefaults(cfg *Config) {
	if cfg.Detectify.PollInterval == 0 {
		cfg.Detectify.PollInterval = Duration(DefaultScanPoll)
	}
	if cfg.Detectify.Digest == "" {
		cfg.Detectify.Digest = DefaultFindingDigest
	}
	for _, cl := range cfg.Clients {
		d := cl.Detectify
		if d == nil {
			continue
		}
		if d.Schedule == "" {
			d.Schedule = DefaultScanSchedule
		}
		routing := map[string]string{}
		for sev, r := range DefaultFindingRouting {
			routing[sev] = r
		}
		for sev, r := range d.Routing {
			routing[strings.ToLower(sev)] = strings.ToLower(r)
		}
		d.Routing = routing
	}
}

// validateDetectify checks the clients' detectify blocks, the monitor's
// settings and the Detectify secrets.
func validateDetectify(cfg *Config, c *collector) {
	owner := map[string]string{}
	for _, key := range cfg.DetectifyClients() {
		p := joinPath("clients", key) + ".detectify"
		d := cfg.Clients[key].Detectify
		if len(d.Profiles) == 0 {
			c.add(p+".profiles", "name at least one Detectify scan profile token (e.g. profiles: [5605b488634efe810dff4276e28ca7f9])")
		}
		for i, tok := range d.Profiles {
			pp := fmt.Sprintf("%s.profiles[%d]", p, i)
			switch {
			case !reProfileToken.MatchString(tok):
				c.add(pp, "%q is not a scan profile token: 32 lowercase hex characters, as the Detectify dashboard shows it", truncate(tok, 40))
			case owner[tok] != "":
				c.add(pp, "profile %s is also %s's: a profile (and its findings) belongs to one client", tok, owner[tok])
			default:
				owner[tok] = key
			}
		}
		if d.Schedule != ScheduleOff {
			if _, err := cron.ParseStandard(d.Schedule); err != nil {
				c.add(p+".schedule", "%q is not a cron spec (e.g. schedule: \"0 2 * * 1\" for Mondays 02:00, or off): %v", truncate(d.Schedule, 60), err)
			}
		}
		for _, sev := range slices.Sorted(maps.Keys(d.Routing)) {
			r := d.Routing[sev]
			switch {
			case !slices.Contains(FindingSeverities, sev):
				c.add(p+".routing."+sev, "%q is not a severity: use %s", truncate(sev, 30), strings.Join(FindingSeverities, ", "))
			case !slices.Contains([]string{RoutePage, RoutePost, RouteDigest, RouteNone}, r):
				c.add(p+".routing."+sev, "%q is not a route: use page (security channel and PagerDuty), post (security channel), digest (weekly) or none", truncate(r, 30))
			}
		}
	}
	if len(owner) > 0 && cfg.Channels.Security == "" {
		c.add("channels.security", "clients have detectify: scans and findings are posted to the security channel; set channels.security")
	}
	d := cfg.Detectify
	if d.PollInterval.Std() < MinScanPoll || d.PollInterval.Std() > MaxScanPoll {
		c.add("detectify.poll_interval", "%v is not between %v and %v (e.g. poll_interval: 1m)", d.PollInterval, Duration(MinScanPoll), Duration(MaxScanPoll))
	}
	if _, err := cron.ParseStandard(d.Digest); err != nil {
		c.add("detectify.digest", "%q is not a cron spec (e.g. digest: \"0 9 * * 1\" for Mondays 09:00): %v", truncate(d.Digest, 60), err)
	}
	s := cfg.Secrets
	if s.DetectifySecret != "" {
		if s.DetectifyKey == "" {
			c.addEnv("DETECTIFY_API_SECRET", "is set without DETECTIFY_API_KEY, the key it signs for")
		}
		if _, err := base64.StdEncoding.DecodeString(s.DetectifySecret.Reveal()); err != nil {
			c.addEnv("DETECTIFY_API_SECRET", "is not base64, as Detectify shows a key's secret (value not shown)")
		}
	}
}
