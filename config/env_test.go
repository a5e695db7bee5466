package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestExpandString(t *testing.T) {
	env := envOf(map[string]string{"HOST": "pd.test", "EMPTY": "", "PORT": "8443"})
	tests := []struct {
		in, want, wantErr string
	}{
		{"plain", "plain", ""},
		{"https://${HOST}:${PORT}/v2", "https://pd.test:8443/v2", ""},
		{"${MISSING:-fallback}", "fallback", ""},
		{"${EMPTY:-used when empty}", "used when empty", ""},
		{"${HOST:-unused}", "pd.test", ""},
		{"${MISSING:-}", "", ""},
		{"price $5 and $$HOME", "price $5 and $$HOME", ""},
		{"literal $${HOST}", "literal ${HOST}", ""},
		{"${MISSING}", "", "environment variable MISSING is not set (give a default with ${MISSING:-value})"},
		{"${A}${B}", "", "environment variable A, B is not set"},
		{"${HOST", "", `unterminated "${"`},
		{"${not a name}", "", `"not a name" is not a variable name`},
		{"${SLACK_BOT_TOKEN}", "", "looks like a secret"},
		{"${DB_PASSWORD:-x}", "", "looks like a secret"},
		{"${OPSBOT_SIGNING_KEY}", "", "looks like a secret"},
		{"${PAGERDUTY_ROUTING_KEY_ACME}", "", "looks like a secret"},
		{"${PAGERDUTY_ROUTING_KEY_ACME_FILE:-x}", "", "looks like a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandString(tt.in, env)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("expandString(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("expandString(%q) error = %v", tt.in, err)
			case got != tt.want:
				t.Errorf("expandString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoadExpandsValuesNotKeys(t *testing.T) {
	path := writeConfig(t, `timezone: ${TZ_NAME}
redis:
  db: ${REDIS_DB:-0}
  prefix: "${ENVIRONMENT}:"
clients:
  ${CLIENT}:
    name: ${CLIENT_NAME:-Default name}
integrations:
  pagerduty:
    api_url: https://${PD_HOST}
`)
	_, err := Load(path, envOf(map[string]string{"TZ_NAME": "Europe/Rome", "REDIS_DB": "4", "ENVIRONMENT": "prod"}))
	got := problemLines(t, err, path)
	want := []string{
		`opsbot.yaml:6: clients."${CLIENT}": "${CLIENT}" is not a valid client key: use 1-40 lowercase letters, digits, - and _ (it is typed in /ops status <client>)`,
		`opsbot.yaml:10: integrations.pagerduty.api_url: environment variable PD_HOST is not set (give a default with ${PD_HOST:-value})`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems:\n got %q\nwant %q", got, want)
	}

	cfg, err := Load(path, envOf(map[string]string{
		"TZ_NAME": "Europe/Rome", "REDIS_DB": "4", "ENVIRONMENT": "prod", "PD_HOST": "api.eu.pagerduty.com", "CLIENT": "unused",
	}))
	if err == nil {
		t.Fatalf("a ${VAR} key must stay literal, got config %+v", cfg)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	path = writeConfig(t, strings.Replace(string(src), "${CLIENT}", "acme", 1))
	cfg, err = Load(path, envOf(map[string]string{
		"TZ_NAME": "Europe/Rome", "REDIS_DB": "4", "ENVIRONMENT": "prod", "PD_HOST": "api.eu.pagerduty.com",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	gotVals := []any{cfg.TimeZone, cfg.Redis.DB, cfg.Redis.Prefix, cfg.Clients["acme"].Name, cfg.Integrations.PagerDuty.APIURL}
	wantVals := []any{"Europe/Rome", 4, "prod:", "Default name", "https://api.eu.pagerduty.com"}
	if !reflect.DeepEqual(gotVals, wantVals) {
		t.Errorf("got %v, want %v", gotVals, wantVals)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bot, app := write("bot", botToken+"\n"), write("app", appToken+"\r\n")
	cfg, err := Load("", envOf(map[string]string{
		"SLACK_BOT_TOKEN_FILE": bot, "SLACK_APP_TOKEN_FILE": app, "PAGERDUTY_TOKEN": "pd-token",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := []string{cfg.Secrets.SlackBotToken.Reveal(), cfg.Secrets.SlackAppToken.Reveal(), cfg.Secrets.PagerDutyToken.Reveal()}
	if want := []string{botToken, appToken, "pd-token"}; !reflect.DeepEqual(got, want) {
		t.Errorf("secrets = %q, want %q", got, want)
	}

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"both set", map[string]string{"GITHUB_TOKEN": "x", "GITHUB_TOKEN_FILE": bot},
			[]string{"GITHUB_TOKEN: set GITHUB_TOKEN or GITHUB_TOKEN_FILE, not both"}},
		{"missing file", map[string]string{"STATUSCAKE_TOKEN_FILE": filepath.Join(dir, "nope")},
			[]string{"STATUSCAKE_TOKEN_FILE: read secret: open " + filepath.Join(dir, "nope") + ": no such file or directory"}},
		{"empty file", map[string]string{"PAGERDUTY_TOKEN_FILE": write("empty", "\n")},
			[]string{"PAGERDUTY_TOKEN_FILE: secret file " + filepath.Join(dir, "empty") + " is empty"}},
		{"whitespace inside", map[string]string{"GITHUB_TOKEN_FILE": write("two", "ghp_a\nghp_b\n")},
			[]string{"GITHUB_TOKEN: contains whitespace: a stray space or newline? (value not shown)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if got := problemLines(t, err, ""); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSlackTokens(t *testing.T) {
	const both = "set both SLACK_BOT_TOKEN and SLACK_APP_TOKEN, or neither for the local console"
	tests := []struct {
		name     string
		bot, app string
		want     []string // problems; nil means valid
	}{
		{"neither: console", "", "", nil},
		{"both", botToken, appToken, nil},
		{"bot only", botToken, "", []string{both}},
		{"app only", "", appToken, []string{both}},
		{"wrong prefixes", "xoxp-user-token", "xoxa-2-old", []string{
			"SLACK_BOT_TOKEN: must be a bot token starting with xoxb- (value not shown)",
			"SLACK_APP_TOKEN: must be an app-level token starting with xapp- (value not shown)",
		}},
		{"swapped", appToken, botToken, []string{
			"SLACK_BOT_TOKEN: must be a bot token starting with xoxb- (value not shown); it starts with xapp-: are the two Slack tokens swapped?",
			"SLACK_APP_TOKEN: must be an app-level token starting with xapp- (value not shown); it starts with xoxb-: are the two Slack tokens swapped?",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", envOf(map[string]string{"SLACK_BOT_TOKEN": tt.bot, "SLACK_APP_TOKEN": tt.app}))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got, want := cfg.SlackEnabled(), tt.bot != ""; got != want {
					t.Errorf("SlackEnabled() = %v, want %v", got, want)
				}
				return
			}
			if got := problemLines(t, err, ""); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, secret := range []string{botToken, appToken, "user-token", "old"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("problem shows the token value %q: %v", secret, err)
				}
			}
		})
	}
}

func TestRedisURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" means valid
	}{
		{"redis://redis:6379/0", ""},
		{"rediss://:p%40ss@cache.example.com:6380/1", ""},
		{"unix:///run/redis.sock", ""},
		{"http://redis:6379", "REDIS_URL: scheme must be redis://, rediss:// or unix:// (value not shown)"},
		{"redis://:secretpw@", "REDIS_URL: needs a host, e.g. redis://redis:6379/0 (value not shown)"},
		{"unix://", "REDIS_URL: unix:// needs a socket path, e.g. unix:///run/redis.sock (value not shown)"},
		{"redis://:secretpw@host:port:x/%zz", "REDIS_URL: not a valid URL (value not shown)"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := Load("", envOf(map[string]string{"REDIS_URL": tt.url}))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
