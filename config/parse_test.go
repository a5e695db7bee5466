package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // first problem
	}{
		{"secret in file", "slack:\n  api_url: https://slack.com/api/\n  token: xoxb-1\n",
			`opsbot.yaml:3: slack.token: unknown key "token": secrets are never read from the file; ` +
				`set SLACK_BOT_TOKEN, SLACK_APP_TOKEN, REDIS_URL, PAGERDUTY_TOKEN, PAGERDUTY_ROUTING_KEY[_<CLIENT>], STATUSCAKE_TOKEN, ` +
				`GITHUB_TOKEN, DETECTIFY_API_KEY or DETECTIFY_API_SECRET (or NAME_FILE) in the environment`},
		{"routing key in file", "clients:\n  acme:\n    routing_key: abc\n",
			`opsbot.yaml:3: clients.acme.routing_key: unknown key "routing_key": secrets are never read from the file; ` +
				`set SLACK_BOT_TOKEN, SLACK_APP_TOKEN, REDIS_URL, PAGERDUTY_TOKEN, PAGERDUTY_ROUTING_KEY[_<CLIENT>], STATUSCAKE_TOKEN, ` +
				`GITHUB_TOKEN, DETECTIFY_API_KEY or DETECTIFY_API_SECRET (or NAME_FILE) in the environment`},
		{"typo", "log:\n  level: info\n\n  fromat: text\n",
			`opsbot.yaml:4: log.fromat: unknown key "fromat" (did you mean "format"?)`},
		{"top level", "# c\nclient:\n  acme: {}\n",
			`opsbot.yaml:2: client: unknown key "client" (did you mean "clients"?)`},
		{"nearest key, not the first near one", "chanels:\n  support: C0SUPPORT1\n",
			`opsbot.yaml:1: chanels: unknown key "chanels" (did you mean "channels"?)`},
		{"case only", "clients:\n  acme:\n    Sla_Target: 99.9\n",
			`opsbot.yaml:3: clients.acme.Sla_Target: unknown key "Sla_Target" (did you mean "sla_target"?)`},
		{"sla prefix", "clients:\n  acme:\n    sla: 99.9\n",
			`opsbot.yaml:3: clients.acme.sla: unknown key "sla" (did you mean "sla_target"?)`},
		{"in a client", "clients:\n  acme:\n    url: https://acme.example/\n",
			`opsbot.yaml:3: clients.acme.url: unknown key "url" (known keys here: aws, channels, detectify, dns_zones, escalation, github_comments, hosting_quote, launch, name, repos, severity, sites, sla_target, thresholds, unusual_pages)`},
		{"in a probe", "clients:\n  acme:\n    sites:\n      - {name: www, url: https://acme.example/}\n      - name: api\n        url: https://api.acme.example/\n        probe: {intervall: 1m}\n",
			`opsbot.yaml:7: clients.acme.sites[1].probe.intervall: unknown key "intervall" (did you mean "interval"?)`},
		{"Location is not a key", "location: UTC\n",
			`opsbot.yaml:1: location: unknown key "location" (known keys here: admins, alerts, changes, channels, checklists, clients, cost, detectify, http, integrations, log, redis, servers, shield, slack, timezone, training, uptime)`},
		{"through a merge key", "clients:\n  acme:\n    channels:\n      <<: {alerts: C0AAA, topic: x}\n",
			`opsbot.yaml:4: clients.acme.channels.topic: unknown key "topic" (known keys here: alerts, general)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.src)
			_, err := Load(path, nil)
			if got := problemLines(t, err, path)[0]; got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestYAMLErrorsKeepTheirLine(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"syntax", "timezone: UTC\nclients: [acme,\n", []string{"opsbot.yaml:2: did not find expected node content"}},
		{"type", "timezone: UTC\nredis:\n  db: two\n", []string{`opsbot.yaml:3: redis.db: want a whole number, not text "two"`}},
		{"list for text", "timezone:\n  - UTC\n", []string{`opsbot.yaml:2: timezone: want text, not a list`}},
		{"duplicate", "clients:\n  acme: {}\n  acme: {}\n", []string{`opsbot.yaml:3: clients.acme: mapping key "acme" already defined at line 2`}},
		{"two documents", "timezone: UTC\n---\ntimezone: UTC\n", []string{"opsbot.yaml:2: only one YAML document is allowed (remove the second ---)"}},
		{"not a mapping", "- UTC\n", []string{"opsbot.yaml:1: the file must be a mapping of keys (timezone:, clients: ...) at the top level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.src)
			_, err := Load(path, nil)
			if got := problemLines(t, err, path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	big := writeConfig(t, "timezone: UTC\n# "+strings.Repeat("x", maxFileSize)+"\n")
	if _, err := Load(big, nil); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("huge file: got %v, want a size error", err)
	}
	if err := Check("", nil); err == nil {
		t.Error("Check(\"\") = nil, want an error")
	}
	ok := writeConfig(t, "timezone: UTC\n")
	if err := Check(ok, nil); err != nil {
		t.Errorf("Check(valid) = %v", err)
	}
}
