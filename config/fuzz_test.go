package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary files to Load: it must never panic, must return
// either a Config or an error, and a Problems error never shows a secret.
func FuzzLoad(f *testing.F) {
	// Seeds stay small: the fuzzer minimises every new interesting input,
	// which takes long on a big one (the example file is tested elsewhere).
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(full))
	for _, seed := range []string{
		"",
		"timezone: ${TZ:-UTC}\nadmins: [U1, bad]\n",
		"clients:\n  acme:\n    channels:\n      alerts: \"acme alerts\"\n",
		"slack:\n  token: xoxb-1\n",
		"a: &a [*a]\n",
		"x: &x {<<: *x}\nclients: *x\n",
		"clients: {<<: [{a: {}}, {b: {}}]}\n",
		"redis:\n  db: ${REDIS_DB}\n",
		"---\n---\n",
		"{{{{[[[[",
		"? [a, b]\n: c\n",
		"timezone: !!binary aGVsbG8=\n",
		"clients:\n  acme: &c\n    name: x\n  b: *c\n  c: *c\n",
		"clients:\n  a:\n    sites:\n      - {name: x, url: 'http://x/', probe: {interval: 5 minutes, timeout: ${T}}}\n",
		"uptime:\n  statuscake_interval: &d 1m\n  probe_concurrency: *d\ntimezone: *d\n",
		"clients:\n  a:\n    aws: {account_id: \"123456789012\", regions: [eu-west-1], instances: [i-12345678], databases: [db-1]}\n" +
			"    hosting_quote: .nan\n    thresholds: {cpu: 150, status_checks: false}\n",
		"clients:\n  a:\n    aws: &w {cost_tag: {key: k, value: v}, role_arn: arn:aws:iam::123456789012:role/x}\n  b:\n    aws: *w\n" +
			"integrations:\n  aws:\n    region: eu-west-1\n",
		"clients:\n  a:\n    aws: {resource_tag: {value: v}, instances: ~}\n  b:\n    aws: []\n",
		"servers:\n  interval: 90s\n  period: ${P:-1m}\n  thresholds: {spike_factor: .inf, periods: 1e3}\n",
		"cost:\n  refresh_at: 06:00\n  max_age: -1h\n  weekly_report: {enabled: yes, day: Monday, time: 9, timezone: Local}\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	getenv := envOf(map[string]string{
		"TZ": "Europe/London", "REDIS_DB": "3",
		"SLACK_BOT_TOKEN": botToken, "SLACK_APP_TOKEN": appToken,
	})
	f.Fuzz(func(t *testing.T, src string) {
		path := filepath.Join(dir, "opsbot.yaml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cfg, err := Load(path, getenv)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Load took %v", d)
		}
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Load returned cfg=%v and err=%v: want exactly one", cfg != nil, err)
		}
		if err == nil {
			if cfg.Location == nil {
				t.Error("valid config without Location")
			}
			return
		}
		if ps, ok := errors.AsType[Problems](err); ok {
			if len(ps) == 0 {
				t.Error("empty Problems")
			}
			if msg := err.Error(); strings.Contains(msg, botToken) || strings.Contains(msg, appToken) {
				t.Errorf("problem shows a token: %s", msg)
			}
		}
	})
}

func TestAliasBombIsBounded(t *testing.T) {
	// Each level multiplies the work by ten; the walk budget and yaml's own
	// alias check must stop it quickly.
	src := `a: &a ["U0AAA","U0AAA","U0AAA","U0AAA","U0AAA","U0AAA","U0AAA","U0AAA","U0AAA","U0AAA"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
admins: *g
`
	path := writeConfig(t, src)
	start := time.Now()
	_, err := Load(path, nil)
	if err == nil {
		t.Fatal("Load accepted an alias bomb")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load took %v", d)
	}
}
