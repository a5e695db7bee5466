// Package config turns a YAML file plus the environment into typed, validated
// settings. Secrets never come from the YAML file: only from the environment
// (or a file named by VAR_FILE), and they print as [redacted].
//
// Load reads, in this order: the YAML file (with ${VAR} and ${VAR:-default}
// expanded in values), defaults, then these environment variables, which win
// over the file:
//
//	SLACK_API_URL        slack.api_url
//	OPSBOT_HTTP_ADDR     http.addr
//	OPSBOT_ADMINS        comma-separated user IDs added to admins
//	OPSBOT_REDIS_PREFIX  redis.prefix
//	OPSBOT_REDIS_ADDRS   redis.addrs, comma-separated (replaces the file's list)
//	OPSBOT_REDIS_MASTER_NAME redis.master_name
//	OPSBOT_TIMEZONE      timezone
//	OPSBOT_LOG_LEVEL     log.level
//	OPSBOT_LOG_FORMAT    log.format
//
// and the secrets SLACK_BOT_TOKEN, SLACK_APP_TOKEN, REDIS_URL, PAGERDUTY_TOKEN,
// STATUSCAKE_TOKEN, GITHUB_TOKEN, DETECTIFY_API_KEY, DETECTIFY_API_SECRET, OPSBOT_FREEZE_TOKEN, PAGERDUTY_ROUTING_KEY (the default routing
// key of alerts) and PAGERDUTY_ROUTING_KEY_<CLIENT> (one client's, the client
// key upper-cased with - as _), each also readable from the file named by
// NAME_FILE (for Docker and Kubernetes secrets).
//
// AWS credentials are never read here: the AWS SDK takes them from its usual
// chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_PROFILE, web identity / IRSA, the instance role). The SDK also honours
// AWS_REGION (used when integrations.aws.region is empty),
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (e.g.
// AWS_ENDPOINT_URL_COST_EXPLORER, AWS_ENDPOINT_URL_ROUTE_53) unless
// integrations.aws.endpoint_url is set (it wins), AWS_MAX_ATTEMPTS and
// the other AWS_* settings of the shared config.
//
// The package is a leaf: it imports nothing of this module.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
	_ "time/tzdata" // time zones resolve even on images without /usr/share/zoneinfo
)

// Config is the whole opsbot configuration after defaults and validation.
type Config struct {
	// TimeZone names the IANA zone for schedules and displayed dates (default UTC).
	TimeZone string `yaml:"timezone"`
	// Admins are Slack user IDs that are always admin (bootstrap); OPSBOT_ADMINS adds more.
	Admins       []string          `yaml:"admins"`
	Redis        Redis             `yaml:"redis"`
	Slack        Slack             `yaml:"slack"`
	HTTP         HTTP              `yaml:"http"`
	Channels     Channels          `yaml:"channels"`
	Clients      map[string]Client `yaml:"clients"`
	Integrations Integrations      `yaml:"integrations"`
	Uptime       Uptime            `yaml:"uptime"`
	Servers      Servers           `yaml:"servers"`
	Cost         Cost              `yaml:"cost"`
	Changes      Changes           `yaml:"changes"`
	Alerts       Alerts            `yaml:"alerts"`
	Detectify    Detectify         `yaml:"detectify"`
	Shield       Shield            `yaml:"shield"`
	Training     Training          `yaml:"training"`
	Checklists   Checklists        `yaml:"checklists"`
	Log          Log               `yaml:"log"`

	// Location is TimeZone loaded; filled by Load.
	Location *time.Location `yaml:"-"`
	// Secrets come from the environment only; filled by Load.
	Secrets Secrets `yaml:"-"`
}

// Slack settings other than tokens.
type Slack struct {
	APIURL string `yaml:"api_url"` // default https://slack.com/api/; SLACK_API_URL overrides
}

// HTTP is the operations endpoint (/healthz, /readyz, /metrics).
type HTTP struct {
	Addr string `yaml:"addr"` // host:port; OPSBOT_HTTP_ADDR overrides; default ":8080" with Slack, off (empty) in the console
}

// Channels are the team's shared channels (IDs like C0123 or #names).
type Channels struct {
	Support  string `yaml:"support"`
	Finance  string `yaml:"finance"`
	Security string `yaml:"security"`
}

// Client is one customer (or the agency itself) whose infrastructure opsbot watches.
type Client struct {
	Name     string         `yaml:"name"` // display name; defaults to the client's key
	Channels ClientChannels `yaml:"channels"`
	// SLATarget is the monthly uptime promised, in percent (default 99.9).
	SLATarget float64 `yaml:"sla_target"`
	// Severity of this client's alerts: critical (default), error, warning, info.
	Severity string `yaml:"severity"`
	// Sites are the client's uptime checks.
	Sites []Site `yaml:"sites"`
	// AWS locates the client's servers and costs; nil: none watched.
	AWS *ClientAWS `yaml:"aws"`
	// HostingQuote is the monthly hosting cost quoted to the client (in
	// Cost.Currency); 0: no quote, so no forecast-over-quote alerts.
	HostingQuote float64 `yaml:"hosting_quote"`
	// Thresholds override Servers.Thresholds for this client.
	Thresholds Thresholds `yaml:"thresholds"`
	// Repos are the client's GitHub repositories ("owner/name"): a major
	// change freezes their deploys, and an issue link from one of them
	// pre-selects the client in a change request.
	Repos []string `yaml:"repos"`
	// GitHubComments is what opsbot writes on the GitHub issue of a change
	// request of this client: status (default, one comment edited in
	// place with the request's state), full (the same with the history,
	// reasons and cost figures) or false (nothing).
	GitHubComments GitHubComments `yaml:"github_comments"`
	// DNSZones are the client's Route 53 hosted zone IDs: a change
	// request's DNS plan may only name one of them.
	DNSZones []string `yaml:"dns_zones"`
	// Escalation replaces alerts.escalation for this client ([] = none).
	Escalation *[]EscalationStep `yaml:"escalation"`
	// UnusualPages replaces alerts.unusual_pages for this client.
	UnusualPages *[]string `yaml:"unusual_pages"`
	// Detectify: the client pays for scans; nil: not scanned.
	Detectify *ClientDetectify `yaml:"detectify"`
	// Launch is what the client's pre-launch checklist needs.
	Launch ClientLaunch `yaml:"launch"`
}

// Site is one uptime check of a client: watched by StatusCake (statuscake_id)
// and/or probed by opsbot itself (probe; on by default without statuscake_id).
type Site struct {
	Name         string `yaml:"name"` // key within the client: lowercase letters, digits, . _ -
	URL          string `yaml:"url"`
	StatusCakeID string `yaml:"statuscake_id"`
	Probe        *Probe `yaml:"probe"`
	Severity     string `yaml:"severity"` // overrides the client's
	// FailAfter consecutive failures before alerting (default 3);
	// RecoverAfter consecutive successes before recovering (default 2).
	FailAfter    int `yaml:"fail_after"`
	RecoverAfter int `yaml:"recover_after"`
}

// Probe settings for opsbot's own HTTP check of a site.
type Probe struct {
	Interval     Duration `yaml:"interval"` // at least 10s; default 60s
	Timeout      Duration `yaml:"timeout"`  // default 10s, and less than the interval
	ExpectStatus []int    `yaml:"expect_status"`
	Keyword      string   `yaml:"keyword"` // the body must contain it
	Host         string   `yaml:"host"`    // Host header
	Method       string   `yaml:"method"`  // GET (default) or HEAD
}

// Uptime holds settings of the uptime monitor as a whole.
type Uptime struct {
	StatusCakeInterval Duration `yaml:"statuscake_interval"` // how often StatusCake is polled; default 60s, min 15s
	ProbeConcurrency   int      `yaml:"probe_concurrency"`   // own probes in flight; default 64
	// AllowPrivate lets the own probes configured here reach loopback and
	// private addresses (internal health URLs); off by default as an SSRF
	// guard. It never applies to smoke checks (see Changes.SmokeAllow) nor
	// to cloud metadata.
	AllowPrivate bool `yaml:"allow_private"`
}

// Duration is a time.Duration written as "30s", "5m" in YAML.
type Duration time.Duration

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ClientChannels are a client's own channels.
type ClientChannels struct {
	Alerts  string `yaml:"alerts"`
	General string `yaml:"general"`
}

// Integrations holds every external API's base URL, so each can point at an
// EU region, an Enterprise host or a test server. Empty means the vendor default.
type Integrations struct {
	PagerDuty  PagerDuty `yaml:"pagerduty"`
	StatusCake Endpoint  `yaml:"statuscake"`
	GitHub     GitHub    `yaml:"github"`
	Detectify  Endpoint  `yaml:"detectify"`
	LoaderIO   Endpoint  `yaml:"loaderio"`
	AWS        AWS       `yaml:"aws"`
	Udemy      Udemy     `yaml:"udemy"`
}

// GitHub is the GitHub API (api_url for GitHub Enterprise, e.g.
// https://ghe.example.com/api/v3/), the web hosts whose issue links are
// accepted besides github.com (e.g. ghe.example.com), and the
// organisations whose every repository may be linked (besides the
// clients' repos).
type GitHub struct {
	APIURL      string   `yaml:"api_url"`
	WebHosts    []string `yaml:"web_hosts"`
	AllowedOrgs []string `yaml:"allowed_orgs"`
}

// Changes configures change requests (the Infrastructure Modification Process).
type Changes struct {
	// Channel holds each request's one message; default channels.support.
	Channel string `yaml:"channel"`
	// Approvers are the roles that must each approve a cost increase:
	// stakeholder and/or finance (default both).
	Approvers []string `yaml:"approvers"`
	// ApprovalTTL is how long an approval stays valid; default 72h, 0s: forever.
	ApprovalTTL *Duration `yaml:"approval_ttl"`
	// SmokeAllow are the networks (CIDRs, addresses) and host names that
	// smoke checks typed in Slack may reach although they are private or
	// loopback; uptime.allow_private does not apply to them. Cloud metadata
	// is never reached.
	SmokeAllow []string `yaml:"smoke_allow"`
}

// Endpoint is one API's base URL.
type Endpoint struct {
	APIURL string `yaml:"api_url"`
}

// PagerDuty has two hosts: REST and Events v2.
type PagerDuty struct {
	APIURL    string `yaml:"api_url"`
	EventsURL string `yaml:"events_url"`
	// Schedules names PagerDuty schedule IDs for `/ops oncall <name>`;
	// `/ops oncall` alone shows every one of them.
	Schedules map[string]string `yaml:"schedules"`
}

// AWS settings; credentials come from the usual AWS chain, never from here.
type AWS struct {
	Region      string `yaml:"region"`
	EndpointURL string `yaml:"endpoint_url"`
}

// Log settings.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // json (default) or text
}

// Secrets are read from the environment only.
type Secrets struct {
	SlackBotToken   Secret // SLACK_BOT_TOKEN
	SlackAppToken   Secret // SLACK_APP_TOKEN
	RedisURL        Secret // REDIS_URL
	PagerDutyToken  Secret // PAGERDUTY_TOKEN
	StatusCakeToken Secret // STATUSCAKE_TOKEN
	GitHubToken     Secret // GITHUB_TOKEN
	// DetectifyKey is the Detectify API key (DETECTIFY_API_KEY); with
	// DetectifySecret (DETECTIFY_API_SECRET, base64) requests are signed.
	DetectifyKey    Secret
	DetectifySecret Secret
	// FreezeToken, when set, is the bearer token CI must send to
	// GET /v1/freeze (OPSBOT_FREEZE_TOKEN).
	FreezeToken Secret
	// UdemyClientID and UdemyClientSecret are the Udemy Business API
	// credentials (Basic auth; UDEMY_CLIENT_ID, UDEMY_CLIENT_SECRET).
	UdemyClientID, UdemyClientSecret Secret
	// LoaderIOKey is the loader.io API key (LOADERIO_API_KEY).
	LoaderIOKey Secret
	// RoutingKeys are PagerDuty Events v2 routing keys by client key: the
	// default (PAGERDUTY_ROUTING_KEY) under "", each client's own under its
	// key (PAGERDUTY_ROUTING_KEY_<CLIENT>). Only set keys are present; nil if
	// none. Use Config.RoutingKey.
	RoutingKeys map[string]Secret
}

// Secret is a string that never prints: fmt, slog and JSON all see [redacted].
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for handing to a client library.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return s.String() }

// MarshalText keeps the secret out of JSON, YAML and slog text.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Format implements fmt.Formatter so that every verb (%v, %s, %q, %x, %d ...)
// prints [redacted], never the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer so every slog handler sees [redacted].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SlackEnabled reports whether both Slack tokens are set (Load guarantees both
// or neither). Without them opsbot runs the local console.
func (c *Config) SlackEnabled() bool {
	return c.Secrets.SlackBotToken != "" && c.Secrets.SlackAppToken != ""
}

// ClientKeys returns the keys of Clients in sorted order.
func (c *Config) ClientKeys() []string {
	keys := make([]string, 0, len(c.Clients))
	for k := range c.Clients {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
