package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationDecoding(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"30s", 30 * time.Second, ""},
		{"5m", 5 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{`"250ms"`, 250 * time.Millisecond, ""},
		{"5 minutes", 0, `line 1: "5 minutes" is not a duration (e.g. 30s, 5m)`},
		{"30", 0, `line 1: "30" is not a duration (e.g. 30s, 5m)`},
		{"[1s]", 0, "line 1: want a duration (e.g. 30s, 5m), not a list"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.in+"\n"), &v)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("error = %v", err)
			case v.D.Std() != tt.want:
				t.Errorf("got %v, want %v", v.D.Std(), tt.want)
			}
		})
	}
	out, err := yaml.Marshal(struct{ D Duration }{Duration(90 * time.Minute)})
	if err != nil || string(out) != "d: 1h30m\n" {
		t.Errorf("Marshal = %q, %v; want \"d: 1h30m\\n\"", out, err)
	}
	if got := Duration(24 * time.Hour).String(); got != "24h" {
		t.Errorf("String() = %q, want 24h", got)
	}
}

func TestDurationExpandsVariables(t *testing.T) {
	path := writeConfig(t, "uptime:\n  statuscake_interval: ${SC_EVERY:-5m}\n")
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.Uptime.StatusCakeInterval.Std(); got != 5*time.Minute {
		t.Errorf("statuscake_interval = %v, want 5m", got)
	}
	_, err = Load(path, envOf(map[string]string{"SC_EVERY": "often"}))
	want := []string{`opsbot.yaml:2: uptime.statuscake_interval: "often" is not a duration (e.g. 30s, 5m)`}
	if got := problemLines(t, err, path); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestUptimeDefaults(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    severity: warning
    sites:
      - name: www
        url: https://acme.example/
      - name: sc-only
        statuscake_id: "42"
      - name: both
        url: https://both.acme.example/
        statuscake_id: "43"
        probe: {}
      - name: fast
        url: https://fast.acme.example/
        probe: {interval: 10s, method: head}
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	acme := cfg.Clients["acme"]
	if acme.SLATarget != 99.9 || acme.Severity != "warning" {
		t.Errorf("client = %v %q, want 99.9 warning", acme.SLATarget, acme.Severity)
	}
	def := &Probe{Interval: Duration(time.Minute), Timeout: Duration(10 * time.Second), Method: "GET"}
	want := []Site{
		{Name: "www", URL: "https://acme.example/", Probe: def, Severity: "warning", FailAfter: 3, RecoverAfter: 2},
		{Name: "sc-only", StatusCakeID: "42", Severity: "warning", FailAfter: 3, RecoverAfter: 2},
		{Name: "both", URL: "https://both.acme.example/", StatusCakeID: "43", Probe: def, Severity: "warning", FailAfter: 3, RecoverAfter: 2},
		{Name: "fast", URL: "https://fast.acme.example/", Severity: "warning", FailAfter: 3, RecoverAfter: 2,
			Probe: &Probe{Interval: Duration(10 * time.Second), Timeout: Duration(5 * time.Second), Method: "HEAD"}},
	}
	if !reflect.DeepEqual(acme.Sites, want) {
		t.Errorf("sites:\n got %+v\nwant %+v", acme.Sites, want)
	}
}

func TestUptimeProblems(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    sla_target: 100.5
    severity: page
    sites:
      - name: WWW
        url: https://user:pw@acme.example/
        statuscake_id: abc
        severity: loud
        fail_after: -1
        recover_after: 21
        probe:
          interval: 5 minutes
          timeout: 2s
          expect_status: [200, 99, 600]
          method: POST
      - name: api
        url: ftp://api.acme.example/
        probe:
          interval: 5s
      - name: api
        url: https://api.acme.example/
        probe: {interval: 30s, timeout: 30s}
      - url: https://x.acme.example/
      - name: nourl
      - name: slow
        url: https://slow.acme.example/
        probe:
          interval: 25h
          timeout: -1s
  zero:
    sla_target: -1
uptime:
  statuscake_interval: 10s
  probe_concurrency: 10001
integrations:
  pagerduty:
    schedules:
      Primary: PABC123
      db: pabc123
`)
	_, err := Load(path, nil)
	got := problemLines(t, err, path)
	want := []string{
		`opsbot.yaml:3: clients.acme.sla_target: 100.5 is not a percentage above 0 and at most 100 (e.g. 99.9)`,
		`opsbot.yaml:4: clients.acme.severity: "page" is not one of critical, error, warning, info`,
		`opsbot.yaml:6: clients.acme.sites[0].name: "WWW" is not a valid site name: use 1-63 lowercase letters, digits, ., - and _`,
		`opsbot.yaml:7: clients.acme.sites[0].url: the URL must not contain a user name or password: credentials come from the environment`,
		`opsbot.yaml:8: clients.acme.sites[0].statuscake_id: "abc" is not a StatusCake test ID (digits only)`,
		`opsbot.yaml:9: clients.acme.sites[0].severity: "loud" is not one of critical, error, warning, info`,
		`opsbot.yaml:10: clients.acme.sites[0].fail_after: -1 is not between 1 and 20`,
		`opsbot.yaml:11: clients.acme.sites[0].recover_after: 21 is not between 1 and 20`,
		`opsbot.yaml:13: clients.acme.sites[0].probe.interval: "5 minutes" is not a duration (e.g. 30s, 5m)`,
		`opsbot.yaml:15: clients.acme.sites[0].probe.expect_status[1]: 99 is not an HTTP status (100-599)`,
		`opsbot.yaml:15: clients.acme.sites[0].probe.expect_status[2]: 600 is not an HTTP status (100-599)`,
		`opsbot.yaml:16: clients.acme.sites[0].probe.method: "POST" is not GET or HEAD`,
		`opsbot.yaml:18: clients.acme.sites[1].url: "ftp://api.acme.example/": the scheme must be http or https`,
		`opsbot.yaml:20: clients.acme.sites[1].probe.interval: 5s is not between 10s and 24h`,
		`opsbot.yaml:21: clients.acme.sites[2].name: "api" is already the name of sites[1]`,
		`opsbot.yaml:23: clients.acme.sites[2].probe.timeout: 30s: the timeout must be less than the interval (30s)`,
		`opsbot.yaml:24: clients.acme.sites[3]: needs a name: 1-63 lowercase letters, digits, ., - and _`,
		`opsbot.yaml:25: clients.acme.sites[4]: needs a url for opsbot's own probe (or only a statuscake_id)`,
		`opsbot.yaml:29: clients.acme.sites[5].probe.interval: 25h is not between 10s and 24h`,
		`opsbot.yaml:30: clients.acme.sites[5].probe.timeout: -1s: the timeout must be positive`,
		`opsbot.yaml:32: clients.zero.sla_target: -1 is not a percentage above 0 and at most 100 (e.g. 99.9)`,
		`opsbot.yaml:34: uptime.statuscake_interval: 10s: poll StatusCake at most every 15s`,
		`opsbot.yaml:35: uptime.probe_concurrency: 10001 is not between 1 and 10000`,
		`opsbot.yaml:39: integrations.pagerduty.schedules.Primary: "Primary" is not a valid schedule name: use 1-40 lowercase letters, digits, - and _ (it is typed in /ops oncall <name>)`,
		`opsbot.yaml:40: integrations.pagerduty.schedules.db: "pabc123" is not a PagerDuty schedule ID (e.g. PABC123)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("a URL's password is shown:\n%v", err)
	}
}

const (
	routingDefault = "R0UTINGDEFAULT0000000000000000AA"
	routingAcme    = "R0UTINGACME000000000000000000000"
)

func TestRoutingKeys(t *testing.T) {
	path := writeConfig(t, "clients:\n  acme: {}\n  own-infra: {}\n  beta: {}\n")
	cfg, err := Load(path, envOf(map[string]string{
		"PAGERDUTY_ROUTING_KEY":      routingDefault,
		"PAGERDUTY_ROUTING_KEY_ACME": routingAcme,
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for client, want := range map[string]Secret{"acme": routingAcme, "beta": routingDefault, "unknown": routingDefault, "": routingDefault} {
		if got, ok := cfg.RoutingKey(client); !ok || got != want {
			t.Errorf("RoutingKey(%q) = %q, %v; want %q", client, got.Reveal(), ok, want.Reveal())
		}
	}
	if got := RoutingKeyEnvFor("own-infra"); got != "PAGERDUTY_ROUTING_KEY_OWN_INFRA" {
		t.Errorf("RoutingKeyEnvFor = %q", got)
	}

	keyFile := writeConfig(t, routingAcme+"\n")
	cfg, err = Load(path, envOf(map[string]string{"PAGERDUTY_ROUTING_KEY_OWN_INFRA_FILE": keyFile}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, ok := cfg.RoutingKey("own-infra"); !ok || got != routingAcme {
		t.Errorf("RoutingKey(own-infra) from a file = %q, %v", got.Reveal(), ok)
	}
	if _, ok := cfg.RoutingKey("acme"); ok {
		t.Error("RoutingKey(acme) found a key without a default")
	}

	dup := writeConfig(t, "clients:\n  a-b: {}\n  a_b: {}\n")
	_, err = Load(dup, envOf(map[string]string{
		"PAGERDUTY_ROUTING_KEY":      "short-SECRETVALUE",
		"PAGERDUTY_ROUTING_KEY_A_B":  routingAcme,
		"PAGERDUTY_ROUTING_KEY_ACME": "unused: acme is not a client",
	}))
	want := []string{
		"PAGERDUTY_ROUTING_KEY: must be a PagerDuty Events API v2 integration key: 32 letters and digits (value not shown)",
		`PAGERDUTY_ROUTING_KEY_A_B: ambiguous: clients "a-b" and "a_b" both read it; rename one of them`,
	}
	if got := problemLines(t, err, dup); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if strings.Contains(err.Error(), "SECRETVALUE") || strings.Contains(err.Error(), routingAcme) {
		t.Errorf("a routing key is shown: %v", err)
	}
}
