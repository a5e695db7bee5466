package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	botToken = "xoxb-1111-2222-SUPERSECRETBOT"
	appToken = "xapp-1-A111-SUPERSECRETAPP"
)

// envOf returns a getenv over a fixed map.
func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// writeConfig writes src as opsbot.yaml in a fresh directory and returns its path.
func writeConfig(t testing.TB, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemLines returns the lines of a Problems error with the temp directory
// cut from file names, so "opsbot.yaml:3: ..." can be compared.
func problemLines(t *testing.T, err error, path string) []string {
	t.Helper()
	ps, ok := errors.AsType[Problems](err)
	if !ok {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	msg := ps.Error()
	if path != "" {
		msg = strings.ReplaceAll(msg, path, "opsbot.yaml")
	}
	return strings.Split(msg, "\n")
}

func TestLoadFullFile(t *testing.T) {
	got, err := Load("testdata/full.yaml", envOf(map[string]string{
		"REDIS_DB":        "2",
		"SLACK_BOT_TOKEN": botToken,
		"SLACK_APP_TOKEN": appToken,
		"REDIS_URL":       "redis://:pw@redis:6379/0",
		"GITHUB_TOKEN":    "ghp_abc",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Location == nil || got.Location.String() != "Europe/Berlin" {
		t.Errorf("Location = %v, want Europe/Berlin", got.Location)
	}
	got.Location = nil
	want := &Config{
		TimeZone: "Europe/Berlin",
		Admins:   []string{"U0ADMIN01", "W0ADMIN02"},
		Redis: Redis{Prefix: "ops:", Addrs: []string{"sentinel-0:26379", "sentinel-1:26379"}, MasterName: "mymaster", DB: 2,
			Cluster: new(false), WaitReplicas: new(2), WaitTimeout: Duration(750 * time.Millisecond)},
		Slack:    Slack{APIURL: "http://127.0.0.1:9999/api/"},
		HTTP:     HTTP{Addr: "127.0.0.1:9090"},
		Channels: Channels{Support: "#ops-support", Finance: "G0FINANCE1", Security: "#sec_team"},
		Clients: map[string]Client{
			"acme": {
				Name: "ACME Ltd", Channels: ClientChannels{Alerts: "C0ACME0001", General: "#acme"},
				SLATarget: 99.95, Severity: "error",
				Sites: []Site{
					{Name: "www", URL: "https://www.acme.example/", StatusCakeID: "123456", Severity: "warning", FailAfter: 5, RecoverAfter: 1},
					{Name: "api.v2", URL: "https://api.acme.example/health", StatusCakeID: "987654", Severity: "error", FailAfter: 3, RecoverAfter: 2,
						Probe: &Probe{
							Interval: Duration(90 * time.Second), Timeout: Duration(5 * time.Second), ExpectStatus: []int{200, 204},
							Keyword: `"status":"ok"`, Host: "api.internal", Method: "HEAD",
						}},
				},
				AWS: &ClientAWS{
					AccountID: "012345678901", CostTag: &Tag{Key: "client", Value: "acme"},
					Regions: []string{"eu-west-1", "us-gov-west-1"}, RoleARN: "arn:aws:iam::012345678901:role/ops/opsbot-acme",
					ExternalID: "opsbot-acme-7f3c9a",
					Instances:  []string{"i-0abcd1234ef567890", "i-1234abcd"}, Databases: []string{"acme-prod-db"},
					ResourceTag: &Tag{Key: "opsbot", Value: "watch"},
				},
				HostingQuote:   1250.50,
				Thresholds:     Thresholds{CPU: 75, StatusChecks: boolPtr(false)},
				Repos:          []string{"acme/web"},
				GitHubComments: CommentsFull,
				DNSZones:       []string{"Z0ACME00000001"},
				Detectify: &ClientDetectify{Profiles: []string{"5605b488634efe810dff4276e28ca7f9"}, Schedule: "30 3 * * 2",
					Routing: map[string]string{"critical": "page", "high": "post", "medium": "digest", "low": "none", "information": "digest"}},
			},
			"own-infra": {
				Name: "own-infra", Channels: ClientChannels{Alerts: "#ops-alerts"}, SLATarget: 99.9, Severity: "critical",
				Sites: []Site{{Name: "status", URL: "http://10.0.0.5:8080/healthz", Severity: "critical", FailAfter: 3, RecoverAfter: 2,
					Probe: &Probe{Interval: Duration(time.Minute), Timeout: Duration(10 * time.Second), Method: "GET"}}},
				AWS:            &ClientAWS{Regions: []string{"eu-central-1"}, Instances: []string{"i-0fedcba9876543210"}},
				GitHubComments: CommentsStatus,
			},
		},
		Uptime: Uptime{StatusCakeInterval: Duration(2 * time.Minute), ProbeConcurrency: 16, AllowPrivate: true},
		Servers: Servers{Interval: Duration(2 * time.Minute), Period: Duration(time.Minute),
			Thresholds: Thresholds{CPU: 85, FreeStorageGB: 10.5, Periods: 2, SpikeFactor: 3, StatusChecks: boolPtr(true)}},
		Cost: Cost{Currency: "EUR", RefreshAt: "05:30", MaxAge: Duration(12 * time.Hour), AnomalyFactor: 2, AnomalyMinimum: 25, QuoteStep: 5,
			WeeklyReport: WeeklyReport{Enabled: boolPtr(true), Day: "friday", Time: "16:00", TimeZone: "America/New_York"}},
		Changes: Changes{Channel: "#ops-support", Approvers: []string{"stakeholder", "finance"}, ApprovalTTL: durationPtr(DefaultApprovalTTL)},
		Alerts: Alerts{Escalation: []EscalationStep{{After: Duration(2 * time.Hour)}, {After: Duration(4 * time.Hour), Channel: "#ops-escalation", Severity: "critical"}},
			GroupWindow: durationPtr(5 * time.Minute), UnusualPages: []string{"vanished", "appeared"}},
		Detectify:  Detectify{PollInterval: Duration(30 * time.Second), Digest: "0 8 * * 5"},
		Shield:     Shield{Schedule: DefaultShieldSchedule},
		Checklists: defaultChecklists(),
		Training: Training{ValidFor: Duration(DefaultTrainingValid), DueSoon: Duration(DefaultTrainingDue), Remind: DefaultTrainingRemind,
			Sync: DefaultTrainingSync, Who: []string{"engineer", "support", "security"}},
		Integrations: Integrations{
			PagerDuty: PagerDuty{APIURL: "https://api.eu.pagerduty.com", EventsURL: "https://events.eu.pagerduty.com",
				Schedules: map[string]string{"primary": "PABC123", "db-team": "P0DB0001"}},
			StatusCake: Endpoint{APIURL: "http://statuscake.test/v1"},
			GitHub:     GitHub{APIURL: "https://ghe.example.com/api/v3/", AllowedOrgs: []string{"agency-org"}},
			Detectify:  Endpoint{APIURL: "https://api.detectify.com/rest"},
			LoaderIO:   Endpoint{APIURL: "https://api.loader.io/v2"},
			AWS:        AWS{Region: "eu-central-1", EndpointURL: "http://localstack:4566"},
		},
		Log: Log{Level: "debug", Format: "text"},
		Secrets: Secrets{
			SlackBotToken: botToken, SlackAppToken: appToken,
			RedisURL: "redis://:pw@redis:6379/0", GitHubToken: "ghp_abc",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if !got.SlackEnabled() {
		t.Error("SlackEnabled() = false with both tokens")
	}
	if keys, want := got.ClientKeys(), []string{"acme", "own-infra"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("ClientKeys() = %v, want %v", keys, want)
	}
}

func TestLoadExampleFile(t *testing.T) {
	// The example uses ${OPSBOT_EXAMPLE_TZ:-Europe/London}; supply it to
	// prove the reference is honoured.
	cfg, err := Load("../deploy/opsbot.example.yaml", envOf(map[string]string{"OPSBOT_EXAMPLE_TZ": "Europe/Dublin"}))
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if got, want := cfg.TimeZone, "Europe/Dublin"; got != want {
		t.Errorf("TimeZone = %q, want %q", got, want)
	}
	if got, want := cfg.ClientKeys(), []string{"acme", "agency"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ClientKeys() = %v, want %v", got, want)
	}
	acme := cfg.Clients["acme"]
	if len(acme.Sites) != 2 || acme.Sites[0].Probe != nil || acme.Sites[1].Probe == nil || acme.Sites[1].Probe.Keyword == "" {
		t.Errorf("acme sites = %+v, want one StatusCake site and one own probe with a keyword", acme.Sites)
	}
	if len(cfg.Integrations.PagerDuty.Schedules) == 0 || cfg.Uptime.ProbeConcurrency == 0 {
		t.Errorf("example lacks schedules or uptime: %+v %+v", cfg.Integrations.PagerDuty, cfg.Uptime)
	}
	if err := Check("../deploy/opsbot.example.yaml", nil); err != nil {
		t.Errorf("Check(example) with an empty environment: %v", err)
	}
}

func TestLoadNoFileDefaultsAndEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		get  func(*Config) any
		want any
	}{
		{"timezone default", nil, func(c *Config) any { return c.TimeZone + " " + c.Location.String() }, "UTC UTC"},
		{"redis prefix default", nil, func(c *Config) any { return c.Redis.Prefix }, "opsbot:"},
		{"log default", nil, func(c *Config) any { return c.Log }, Log{Level: "info", Format: "json"}},
		{"slack api default", nil, func(c *Config) any { return c.Slack.APIURL }, "https://slack.com/api/"},
		{"console: no http", nil, func(c *Config) any { return c.HTTP.Addr }, ""},
		{"console: slack off", nil, func(c *Config) any { return c.SlackEnabled() }, false},
		{"uptime default", nil, func(c *Config) any { return c.Uptime }, Uptime{StatusCakeInterval: Duration(time.Minute), ProbeConcurrency: 64}},
		{"no routing key", nil, func(c *Config) any { _, ok := c.RoutingKey("acme"); return ok }, false},
		{"slack: http default", map[string]string{"SLACK_BOT_TOKEN": botToken, "SLACK_APP_TOKEN": appToken},
			func(c *Config) any { return c.HTTP.Addr }, ":8080"},
		{"SLACK_API_URL gets its slash", map[string]string{"SLACK_API_URL": "http://127.0.0.1:1234/api"},
			func(c *Config) any { return c.Slack.APIURL }, "http://127.0.0.1:1234/api/"},
		{"OPSBOT_HTTP_ADDR", map[string]string{"OPSBOT_HTTP_ADDR": ":9000"}, func(c *Config) any { return c.HTTP.Addr }, ":9000"},
		{"OPSBOT_ADMINS deduped", map[string]string{"OPSBOT_ADMINS": "U123, U456,,U123"},
			func(c *Config) any { return c.Admins }, []string{"U123", "U456"}},
		{"OPSBOT_REDIS_PREFIX", map[string]string{"OPSBOT_REDIS_PREFIX": "staging:"}, func(c *Config) any { return c.Redis.Prefix }, "staging:"},
		{"OPSBOT_TIMEZONE", map[string]string{"OPSBOT_TIMEZONE": "Asia/Tokyo"}, func(c *Config) any { return c.Location.String() }, "Asia/Tokyo"},
		{"OPSBOT_LOG_LEVEL", map[string]string{"OPSBOT_LOG_LEVEL": "Warn"}, func(c *Config) any { return c.Log.Level }, "warn"},
		{"OPSBOT_LOG_FORMAT", map[string]string{"OPSBOT_LOG_FORMAT": "text"}, func(c *Config) any { return c.Log.Format }, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	path := writeConfig(t, "timezone: Europe/Paris\nadmins: [U0FILE001]\nlog:\n  level: debug\n")
	cfg, err := Load(path, envOf(map[string]string{
		"OPSBOT_TIMEZONE": "America/New_York", "OPSBOT_ADMINS": "U0FILE001,U0ENV0001", "OPSBOT_LOG_LEVEL": "error",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := []any{cfg.TimeZone, cfg.Admins, cfg.Log.Level}
	want := []any{"America/New_York", []string{"U0FILE001", "U0ENV0001"}, "error"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	path := writeConfig(t, `timezone: Mars/Olympus
admins:
  - U0GOOD001
  - jane
redis:
  prefix: "my prefix"
  db: -1
slack:
  api_url: ftp://slack.example.com/api/
http:
  addr: "8080"
channels:
  support: "#Support Team"
clients:
  Acme:
    name: ACME
  acme:
    channels:
      alerts: "acme alerts"
      general: C0ACME001
integrations:
  pagerduty:
    api_url: https://user:hunter2@api.pagerduty.com
  github:
    api_url: /api/v3
  aws:
    region: Ireland
log:
  level: verbose
  format: xml
`)
	_, err := Load(path, envOf(map[string]string{
		"SLACK_BOT_TOKEN":  botToken,
		"REDIS_URL":        "http://redis:6379",
		"OPSBOT_ADMINS":    "U0ENV0001,bob",
		"OPSBOT_HTTP_ADDR": "nope",
	}))
	got := problemLines(t, err, path)
	want := []string{
		`opsbot.yaml:1: timezone: unknown time zone "Mars/Olympus" (want an IANA name such as "Europe/London")`,
		`opsbot.yaml:4: admins[1]: "jane" is not a Slack user ID (U0123ABCD)`,
		`opsbot.yaml:6: redis.prefix: "my prefix": the key prefix must be non-empty and without spaces`,
		`opsbot.yaml:7: redis.db: -1: the database number cannot be negative`,
		`opsbot.yaml:9: slack.api_url: "ftp://slack.example.com/api/": the scheme must be http or https`,
		`opsbot.yaml:13: channels.support: "#Support Team" is not a channel ID (C0123ABCD) or #name`,
		`opsbot.yaml:15: clients.Acme: "Acme" is not a valid client key: use 1-40 lowercase letters, digits, - and _ (it is typed in /ops status <client>)`,
		`opsbot.yaml:19: clients.acme.channels.alerts: "acme alerts" is not a channel ID (C0123ABCD) or #name`,
		`opsbot.yaml:23: integrations.pagerduty.api_url: the URL must not contain a user name or password: credentials come from the environment`,
		`opsbot.yaml:25: integrations.github.api_url: "/api/v3" is not an absolute URL (e.g. "https://api.example.com/")`,
		`opsbot.yaml:27: integrations.aws.region: "Ireland" is not an AWS region (e.g. "eu-west-1")`,
		`opsbot.yaml:29: log.level: "verbose" is not one of debug, info, warn, error`,
		`opsbot.yaml:30: log.format: "xml" is not one of json, text`,
		`OPSBOT_ADMINS: "bob" is not a Slack user ID (U0123ABCD)`,
		`REDIS_URL: scheme must be redis://, rediss:// or unix:// (value not shown)`,
		`OPSBOT_HTTP_ADDR: "nope" is not host:port (e.g. ":8080")`,
		`set both SLACK_BOT_TOKEN and SLACK_APP_TOKEN, or neither for the local console`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	for _, secret := range []string{"hunter2", botToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows secret %q:\n%v", secret, err)
		}
	}
}

func durationPtr(d time.Duration) *Duration { v := Duration(d); return &v }

func TestChangeTenancyKeys(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    dns_zones: [Z0ACME00000001, acme.example]
    github_comments: everything
  globex:
    dns_zones: [Z0ACME00000001]
integrations:
  github:
    allowed_orgs: [agency, "-bad"]
`)
	_, err := Load(path, envOf(nil))
	got := problemLines(t, err, path)
	want := []string{
		`opsbot.yaml:3: clients.acme.dns_zones[1]: "acme.example" is not a Route 53 hosted zone ID: Z and up to 31 capitals and digits, e.g. Z0ACME00000001`,
		`opsbot.yaml:4: clients.acme.github_comments: github_comments: "everything": want full, status or false`,
		`opsbot.yaml:6: clients.globex.dns_zones[0]: "Z0ACME00000001" is already a hosted zone of client acme; a hosted zone belongs to one client`,
		`opsbot.yaml:9: integrations.github.allowed_orgs[1]: "-bad" is not a GitHub organisation or user name (e.g. acme-agency)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	for in, mode := range map[string]GitHubComments{"true": CommentsStatus, "false": CommentsOff, "full": CommentsFull, "status": CommentsStatus} {
		cfg, err := Load(writeConfig(t, "clients:\n  acme:\n    github_comments: "+in+"\n"), envOf(nil))
		if err != nil {
			t.Fatalf("github_comments: %s: %v", in, err)
		}
		if got := cfg.Clients["acme"].GitHubComments; got != mode {
			t.Errorf("github_comments: %s → %q, want %q", in, got, mode)
		}
	}
}
