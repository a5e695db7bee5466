package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAWSDefaults(t *testing.T) {
	path := writeConfig(t, `timezone: Europe/Paris
channels:
  finance: "#finance"
integrations:
  aws:
    region: eu-west-2
clients:
  acme:
    aws:
      account_id: "123456789012"
      instances: [i-12345678]
    thresholds:
      cpu: 70
  beta:
    aws:
      cost_tag: {key: client, value: beta}
      regions: [us-east-1]
  gamma:
    name: no AWS
`)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantServers := Servers{
		Interval: Duration(DefaultServerInterval), Period: Duration(DefaultServerPeriod),
		Thresholds: Thresholds{CPU: DefaultCPU, FreeStorageGB: DefaultFreeStorageGB, Periods: DefaultPeriods,
			SpikeFactor: DefaultSpikeFactor, StatusChecks: boolPtr(true)},
	}
	if !reflect.DeepEqual(cfg.Servers, wantServers) {
		t.Errorf("Servers = %+v, want %+v", cfg.Servers, wantServers)
	}
	wantCost := Cost{
		Currency: "USD", RefreshAt: "06:00", MaxAge: Duration(26 * time.Hour),
		AnomalyFactor: 1.5, AnomalyMinimum: 10, QuoteStep: 10,
		WeeklyReport: WeeklyReport{Enabled: boolPtr(true), Day: "monday", Time: "09:00", TimeZone: "Europe/Paris"},
	}
	if !reflect.DeepEqual(cfg.Cost, wantCost) {
		t.Errorf("Cost = %+v, want %+v", cfg.Cost, wantCost)
	}
	if got := cfg.Clients["acme"].AWS.Regions; !reflect.DeepEqual(got, []string{"eu-west-2"}) {
		t.Errorf("acme regions = %v, want the default [eu-west-2]", got)
	}
	if got := cfg.Clients["beta"].AWS.Regions; !reflect.DeepEqual(got, []string{"us-east-1"}) {
		t.Errorf("beta regions = %v, want its own [us-east-1]", got)
	}
	if cfg.Clients["gamma"].AWS != nil {
		t.Errorf("gamma got an aws block: %+v", cfg.Clients["gamma"].AWS)
	}
	// Client thresholds stay as written: zero means inherit.
	if got, want := cfg.Clients["acme"].Thresholds, (Thresholds{CPU: 70}); !reflect.DeepEqual(got, want) {
		t.Errorf("acme thresholds = %+v, want %+v (not filled)", got, want)
	}
}

func TestWeeklyReportDefaults(t *testing.T) {
	tests := []struct {
		name, src string
		env       map[string]string
		want      WeeklyReport
	}{
		{"no finance channel: off", "", nil, WeeklyReport{Enabled: boolPtr(false), Day: "monday", Time: "09:00", TimeZone: "UTC"}},
		{"finance channel: on", "channels:\n  finance: C0FINANCE1\n", nil,
			WeeklyReport{Enabled: boolPtr(true), Day: "monday", Time: "09:00", TimeZone: "UTC"}},
		{"explicitly off", "channels:\n  finance: C0FINANCE1\ncost:\n  weekly_report:\n    enabled: false\n", nil,
			WeeklyReport{Enabled: boolPtr(false), Day: "monday", Time: "09:00", TimeZone: "UTC"}},
		{"time zone from OPSBOT_TIMEZONE, day lower-cased", "cost:\n  weekly_report:\n    day: FRIDAY\n    time: \"17:45\"\n",
			map[string]string{"OPSBOT_TIMEZONE": "Asia/Tokyo"},
			WeeklyReport{Enabled: boolPtr(false), Day: "friday", Time: "17:45", TimeZone: "Asia/Tokyo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeConfig(t, tt.src), envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := cfg.Cost.WeeklyReport; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v (enabled %v), want %+v (enabled %v)", got, *got.Enabled, tt.want, *tt.want.Enabled)
			}
		})
	}
}

func TestEffectiveThresholds(t *testing.T) {
	cfg, err := Load(writeConfig(t, `servers:
  thresholds:
    cpu: 80
    periods: 5
    status_checks: false
clients:
  acme:
    thresholds:
      cpu: 60
      free_storage_gb: 2.5
  beta:
    thresholds:
      status_checks: true
  plain: {}
`), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		client string
		want   Thresholds
	}{
		// client over servers over constants, field by field
		{"acme", Thresholds{CPU: 60, FreeStorageGB: 2.5, Periods: 5, SpikeFactor: DefaultSpikeFactor, StatusChecks: boolPtr(false)}},
		{"beta", Thresholds{CPU: 80, FreeStorageGB: DefaultFreeStorageGB, Periods: 5, SpikeFactor: DefaultSpikeFactor, StatusChecks: boolPtr(true)}},
		{"plain", Thresholds{CPU: 80, FreeStorageGB: DefaultFreeStorageGB, Periods: 5, SpikeFactor: DefaultSpikeFactor, StatusChecks: boolPtr(false)}},
		{"unknown", Thresholds{CPU: 80, FreeStorageGB: DefaultFreeStorageGB, Periods: 5, SpikeFactor: DefaultSpikeFactor, StatusChecks: boolPtr(false)}},
	}
	for _, tt := range tests {
		if got := cfg.EffectiveThresholds(tt.client); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("EffectiveThresholds(%q) = %+v (status %v), want %+v", tt.client, got, *got.StatusChecks, tt.want)
		}
	}
	// The result is a copy: changing it changes nothing in the config.
	got := cfg.EffectiveThresholds("beta")
	*got.StatusChecks = false
	if again := cfg.EffectiveThresholds("beta"); !*again.StatusChecks {
		t.Error("EffectiveThresholds returned a pointer into the config")
	}
	// A hand-built Config without defaults still gets every field.
	bare := (&Config{}).EffectiveThresholds("x")
	if !reflect.DeepEqual(bare, defaultThresholds()) {
		t.Errorf("bare config: got %+v, want the constants", bare)
	}
}

func TestThresholdsOr(t *testing.T) {
	over := Thresholds{Periods: 1}
	base := Thresholds{CPU: 50, Periods: 9, StatusChecks: boolPtr(true)}
	got := over.Or(base)
	if want := (Thresholds{CPU: 50, Periods: 1, StatusChecks: boolPtr(true)}); !reflect.DeepEqual(got, want) {
		t.Errorf("Or = %+v, want %+v", got, want)
	}
	if got.StatusChecks == base.StatusChecks {
		t.Error("Or shares StatusChecks with its fallback")
	}
}

func TestClientAWSScope(t *testing.T) {
	var none *ClientAWS
	tests := []struct {
		a             *ClientAWS
		costs, servrs bool
	}{
		{none, false, false},
		{&ClientAWS{AccountID: "123456789012"}, true, false},
		{&ClientAWS{CostTag: &Tag{Key: "k"}}, true, false},
		{&ClientAWS{Instances: []string{"i-12345678"}}, false, true},
		{&ClientAWS{Databases: []string{"db"}}, false, true},
		{&ClientAWS{ResourceTag: &Tag{Key: "k"}, AccountID: "123456789012"}, true, true},
	}
	for i, tt := range tests {
		if got := tt.a.SelectsCosts(); got != tt.costs {
			t.Errorf("%d: SelectsCosts = %v, want %v", i, got, tt.costs)
		}
		if got := tt.a.WatchesServers(); got != tt.servrs {
			t.Errorf("%d: WatchesServers = %v, want %v", i, got, tt.servrs)
		}
	}
}

func TestAWSProblemsWithLines(t *testing.T) {
	path := writeConfig(t, `clients:
  acme:
    aws:
      account_id: "12345"
      role_arn: arn:aws:iam::123:role/x
      regions: [Ireland]
      instances: [i-123]
      databases: [db--1]
      cost_tag: {key: "", value: x}
    hosting_quote: -5
    thresholds:
      cpu: 150
  bare:
    aws: {}
  nowhere:
    aws:
      instances: [i-12345678]
servers:
  interval: 30s
  period: 90s
  thresholds:
    spike_factor: 1.2
cost:
  currency: usd
  refresh_at: "6:00"
  anomaly_factor: 1
  quote_step: 200
  weekly_report:
    enabled: true
    day: mon
    time: "25:00"
    timezone: Mars/Olympus
`)
	_, err := Load(path, nil)
	got := problemLines(t, err, path)
	want := []string{
		`opsbot.yaml:4: clients.acme.aws.account_id: "12345" is not an AWS account ID: 12 digits, quoted to keep leading zeros (e.g. account_id: "123456789012")`,
		`opsbot.yaml:5: clients.acme.aws.role_arn: "arn:aws:iam::123:role/x" is not an IAM role ARN (e.g. role_arn: arn:aws:iam::123456789012:role/opsbot-acme)`,
		`opsbot.yaml:6: clients.acme.aws.regions[0]: "Ireland" is not an AWS region (e.g. regions: [eu-west-1, us-east-1])`,
		`opsbot.yaml:7: clients.acme.aws.instances[0]: "i-123" is not an EC2 instance ID: i- and 8 or 17 lowercase hex digits (e.g. "i-0abcd1234ef567890")`,
		`opsbot.yaml:8: clients.acme.aws.databases[0]: "db--1" is not an RDS DB instance identifier: 1-63 letters, digits and hyphens, starting with a letter, without "--" or a trailing "-" (e.g. "acme-prod-db")`,
		`opsbot.yaml:9: clients.acme.aws.cost_tag: a tag needs a key of 1-128 characters (e.g. {key: client, value: acme})`,
		`opsbot.yaml:10: clients.acme.hosting_quote: -5 is not a monthly amount from 0 to below 10000000 (e.g. hosting_quote: 1200)`,
		`opsbot.yaml:12: clients.acme.thresholds.cpu: 150 is not a CPU percentage from 1 to 100, or 0 to inherit (e.g. cpu: 90)`,
		`opsbot.yaml:14: clients.bare.aws: costs cannot be selected without account_id or cost_tag (e.g. account_id: "123456789012" or cost_tag: {key: client, value: acme}), and no instances, databases or resource_tag are listed to watch instead`,
		`opsbot.yaml:16: clients.nowhere.aws: instances, databases and resource_tag need a region: set regions here (e.g. regions: [eu-west-1]) or integrations.aws.region`,
		`opsbot.yaml:19: servers.interval: 30s is not between 1m and 24h (e.g. interval: 5m)`,
		`opsbot.yaml:20: servers.period: 1m30s: the CloudWatch period must be whole minutes, at least 1m (e.g. period: 5m)`,
		`opsbot.yaml:22: servers.thresholds.spike_factor: 1.2 is not a factor from 1.5 to 100, or 0 to inherit (e.g. spike_factor: 4)`,
		`opsbot.yaml:24: cost.currency: "usd" is not a currency code: three capital letters (e.g. currency: USD)`,
		`opsbot.yaml:25: cost.refresh_at: "6:00" is not a time of day "HH:MM" in 24-hour form (e.g. "06:00", "17:30")`,
		`opsbot.yaml:26: cost.anomaly_factor: 1: the factor must be above 1 (e.g. anomaly_factor: 1.5)`,
		`opsbot.yaml:27: cost.quote_step: 200 is not a percentage above 0 and at most 100 (e.g. quote_step: 10)`,
		`opsbot.yaml:29: cost.weekly_report.enabled: the weekly report goes to the finance channel: set channels.finance (e.g. finance: "#finance") or enabled: false`,
		`opsbot.yaml:30: cost.weekly_report.day: "mon" is not a weekday name (e.g. day: monday)`,
		`opsbot.yaml:31: cost.weekly_report.time: "25:00" is not a time of day "HH:MM" in 24-hour form (e.g. "06:00", "17:30")`,
		`opsbot.yaml:32: cost.weekly_report.timezone: "Mars/Olympus" is not an IANA time zone (e.g. timezone: Europe/London)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestAWSSecretKeyInFile(t *testing.T) {
	path := writeConfig(t, "integrations:\n  aws:\n    region: eu-west-1\n    aws_secret_access_key: abc\n")
	_, err := Load(path, nil)
	got := problemLines(t, err, path)
	want := []string{`opsbot.yaml:4: integrations.aws.aws_secret_access_key: unknown key "aws_secret_access_key": ` +
		`AWS credentials are never read from the file; the AWS SDK takes them from its own chain ` +
		`(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, IRSA or an instance role)`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if strings.Contains(err.Error(), "abc") {
		t.Errorf("problem shows the value: %v", err)
	}
}

// TestBadRegionReportedOnce: an invalid integrations.aws.region is not
// copied into clients' regions, so it is reported once, at its own key.
func TestBadRegionReportedOnce(t *testing.T) {
	path := writeConfig(t, "integrations:\n  aws:\n    region: Ireland\nclients:\n  acme:\n    aws:\n      instances: [i-12345678]\n")
	_, err := Load(path, nil)
	got := problemLines(t, err, path)
	want := []string{`opsbot.yaml:3: integrations.aws.region: "Ireland" is not an AWS region (e.g. "eu-west-1")`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAWSProblemsFromEnvironment(t *testing.T) {
	// The weekly report inherits a bad OPSBOT_TIMEZONE: one problem, under the variable.
	_, err := Load("", envOf(map[string]string{"OPSBOT_TIMEZONE": "Nowhere/City"}))
	ps, ok := errors.AsType[Problems](err)
	if !ok || len(ps) != 1 || ps[0].Path != "OPSBOT_TIMEZONE" {
		t.Errorf("got %v, want one problem for OPSBOT_TIMEZONE", err)
	}
}
