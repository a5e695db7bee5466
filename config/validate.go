package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

var (
	reUserID      = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	reChannelID   = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	reChannelName = regexp.MustCompile(`^#[a-z0-9_-]{1,80}$`)
	reClientKey   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	reAWSRegion   = regexp.MustCompile(`^[a-z]+(-[a-z]+)+-[0-9]+$`)
)

// validate checks everything in cfg, reporting every problem to c. It also
// finishes values that depend on validity: Location, the trailing "/" of
// slack.api_url.
func validate(cfg *Config, c *collector) {
	switch loc, err := time.LoadLocation(cfg.TimeZone); {
	case cfg.TimeZone == "Local":
		c.add("timezone", `name an IANA zone such as "Europe/London"; "Local" depends on the host`)
	case err != nil:
		c.add("timezone", "unknown time zone %q (want an IANA name such as \"Europe/London\")", cfg.TimeZone)
	default:
		cfg.Location = loc
	}
	for i, id := range cfg.Admins {
		if !reUserID.MatchString(id) {
			c.add(fmt.Sprintf("admins[%d]", i), "%q is not a Slack user ID (U0123ABCD)", id)
		}
	}
	validateRedis(cfg, c)
	if checkURL(c, "slack.api_url", cfg.Slack.APIURL) && !strings.HasSuffix(cfg.Slack.APIURL, "/") {
		cfg.Slack.APIURL += "/" // slack-go appends method names to it
	}
	if cfg.HTTP.Addr != "" {
		if _, port, err := net.SplitHostPort(cfg.HTTP.Addr); err != nil || !validPort(port) {
			c.add("http.addr", "%q is not host:port (e.g. \":8080\")", cfg.HTTP.Addr)
		}
	}
	checkChannel(c, "channels.support", cfg.Channels.Support)
	checkChannel(c, "channels.finance", cfg.Channels.Finance)
	checkChannel(c, "channels.security", cfg.Channels.Security)
	for _, key := range cfg.ClientKeys() {
		p := joinPath("clients", key)
		if !reClientKey.MatchString(key) {
			c.add(p, "%q is not a valid client key: use 1-40 lowercase letters, digits, - and _ "+
				"(it is typed in /ops status <client>)", key)
		}
		checkChannel(c, p+".channels.alerts", cfg.Clients[key].Channels.Alerts)
		checkChannel(c, p+".channels.general", cfg.Clients[key].Channels.General)
	}
	in := cfg.Integrations
	checkURL(c, "integrations.pagerduty.api_url", in.PagerDuty.APIURL)
	checkURL(c, "integrations.pagerduty.events_url", in.PagerDuty.EventsURL)
	checkURL(c, "integrations.statuscake.api_url", in.StatusCake.APIURL)
	checkURL(c, "integrations.github.api_url", in.GitHub.APIURL)
	checkURL(c, "integrations.detectify.api_url", in.Detectify.APIURL)
	checkURL(c, "integrations.loaderio.api_url", in.LoaderIO.APIURL)
	checkURL(c, "integrations.aws.endpoint_url", in.AWS.EndpointURL)
	if r := in.AWS.Region; r != "" && !reAWSRegion.MatchString(r) {
		c.add("integrations.aws.region", "%q is not an AWS region (e.g. \"eu-west-1\")", r)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, cfg.Log.Level) {
		c.add("log.level", "%q is not one of debug, info, warn, error", cfg.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, cfg.Log.Format) {
		c.add("log.format", "%q is not one of json, text", cfg.Log.Format)
	}
	validateUptime(cfg, c)
	validateAWS(cfg, c)
	validateChanges(cfg, c)
	validateAlerts(cfg, c)
	validateDetectify(cfg, c)
	validateSecurity(cfg, c)
	validateChecklists(cfg, c)
	validateSecrets(&cfg.Secrets, c)
}

func validateSecrets(s *Secrets, c *collector) {
	bot, app := s.SlackBotToken.Reveal(), s.SlackAppToken.Reveal()
	if (bot == "") != (app == "") {
		c.addEnv("", "set both SLACK_BOT_TOKEN and SLACK_APP_TOKEN, or neither for the local console")
	}
	if bot != "" && !strings.HasPrefix(bot, "xoxb-") {
		msg := "must be a bot token starting with xoxb- (value not shown)"
		if strings.HasPrefix(bot, "xapp-") {
			msg += "; it starts with xapp-: are the two Slack tokens swapped?"
		}
		c.addEnv("SLACK_BOT_TOKEN", "%s", msg)
	}
	if app != "" && !strings.HasPrefix(app, "xapp-") {
		msg := "must be an app-level token starting with xapp- (value not shown)"
		if strings.HasPrefix(app, "xoxb-") {
			msg += "; it starts with xoxb-: are the two Slack tokens swapped?"
		}
		c.addEnv("SLACK_APP_TOKEN", "%s", msg)
	}
	for _, v := range []struct {
		name string
		s    Secret
	}{
		{"SLACK_BOT_TOKEN", s.SlackBotToken}, {"SLACK_APP_TOKEN", s.SlackAppToken}, {"REDIS_URL", s.RedisURL},
		{"PAGERDUTY_TOKEN", s.PagerDutyToken}, {"STATUSCAKE_TOKEN", s.StatusCakeToken}, {"GITHUB_TOKEN", s.GitHubToken},
		{"DETECTIFY_API_KEY", s.DetectifyKey}, {"DETECTIFY_API_SECRET", s.DetectifySecret},
		{"UDEMY_CLIENT_ID", s.UdemyClientID}, {"UDEMY_CLIENT_SECRET", s.UdemyClientSecret}, {"LOADERIO_API_KEY", s.LoaderIOKey},
	} {
		if strings.ContainsFunc(v.s.Reveal(), unicode.IsSpace) {
			c.addEnv(v.name, "contains whitespace: a stray space or newline? (value not shown)")
		}
	}
}

// checkChannel reports a channel that is neither an ID nor a #name; empty is allowed.
func checkChannel(c *collector, path, ch string) {
	if ch != "" && !reChannelID.MatchString(ch) && !reChannelName.MatchString(ch) {
		c.add(path, "%q is not a channel ID (C0123ABCD) or #name", ch)
	}
}

// checkURL reports a non-empty value that is not an absolute http(s) base URL
// and says whether the value is a usable URL. A value with userinfo or a query
// is not quoted back: it may carry a credential.
func checkURL(c *collector, path, raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	quoted := strconv.Quote(raw)
	if strings.ContainsAny(raw, "@?") {
		quoted = "the URL"
	}
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		c.add(path, "%s is not an absolute URL (e.g. \"https://api.example.com/\")", quoted)
	case u.Scheme != "http" && u.Scheme != "https":
		c.add(path, "%s: the scheme must be http or https", quoted)
	case u.User != nil:
		c.add(path, "%s must not contain a user name or password: credentials come from the environment", quoted)
	case u.RawQuery != "" || u.Fragment != "":
		c.add(path, "%s: a base URL has no query or fragment", quoted)
	default:
		return true
	}
	return false
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}
