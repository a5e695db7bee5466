package config

import (
	"errors"
	"strings"
	"testing"
)

// clientDoc is a valid file with one client "acme" whose body (indented
// under the client) is given; a default region and a finance channel are set.
func clientDoc(body string) string {
	return "integrations:\n  aws:\n    region: eu-west-1\nchannels:\n  finance: \"#finance\"\nclients:\n  acme:\n" +
		"    " + strings.ReplaceAll(strings.TrimSpace(body), "\n", "\n    ") + "\n"
}

// awsDoc is clientDoc with an aws block that selects costs by account_id
// plus the given flow-mapping entries.
func awsDoc(entries string) string {
	return clientDoc(`aws: {account_id: "123456789012", ` + entries + `}`)
}

// TestAWSRules checks every validation rule with values on both sides of it:
// a bad value gives exactly one problem, at its path and line, with an
// example of the right form; a good value loads.
func TestAWSRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	const ap = "clients.acme.aws"
	tests := []struct {
		name, src string
		path      string // "" : valid
	}{
		{"account id 12 digits", clientDoc(`aws: {account_id: "012345678901"}`), ""},
		{"account id unquoted keeps its text", clientDoc(`aws: {account_id: 123456789012}`), ""},
		{"account id short", clientDoc(`aws: {account_id: "12345"}`), ap + ".account_id"},
		{"account id letters", clientDoc(`aws: {account_id: "12345678901a"}`), ap + ".account_id"},
		{"role arn", awsDoc(`role_arn: "arn:aws:iam::123456789012:role/opsbot-acme"`), ""},
		{"role arn china with path", awsDoc(`role_arn: "arn:aws-cn:iam::123456789012:role/ops/team/opsbot"`), ""},
		{"role arn gov", awsDoc(`role_arn: "arn:aws-us-gov:iam::123456789012:role/x"`), ""},
		{"role arn short account", awsDoc(`role_arn: "arn:aws:iam::123:role/x"`), ap + ".role_arn"},
		{"role arn a user", awsDoc(`role_arn: "arn:aws:iam::123456789012:user/x"`), ap + ".role_arn"},
		{"role arn other partition", awsDoc(`role_arn: "arn:aws-eu:iam::123456789012:role/x"`), ap + ".role_arn"},
		{"role arn no name", awsDoc(`role_arn: "arn:aws:iam::123456789012:role/"`), ap + ".role_arn"},
		{"external id", awsDoc(`role_arn: "arn:aws:iam::123456789012:role/x", external_id: "opsbot-acme_7f3c:9a/b=c"`), ""},
		{"external id without role", awsDoc(`external_id: opsbot-acme`), ap + ".external_id"},
		{"external id too short", awsDoc(`role_arn: "arn:aws:iam::123456789012:role/x", external_id: "a"`), ap + ".external_id"},
		{"external id with space", awsDoc(`role_arn: "arn:aws:iam::123456789012:role/x", external_id: "a b"`), ap + ".external_id"},
		{"regions", awsDoc(`regions: [eu-west-1, us-gov-west-1, ap-southeast-2]`), ""},
		{"region a name", awsDoc(`regions: [eu-west-1, Ireland]`), ap + ".regions[1]"},
		{"region no number", awsDoc(`regions: [eu-west]`), ap + ".regions[0]"},
		{"instances 8 and 17 hex", awsDoc(`instances: [i-1234abcd, i-0abcd1234ef567890]`), ""},
		{"instance short", awsDoc(`instances: [i-123]`), ap + ".instances[0]"},
		{"instance 16 hex", awsDoc(`instances: [i-12345678, i-0abcd1234ef56789]`), ap + ".instances[1]"},
		{"instance upper case", awsDoc(`instances: [i-0ABCD1234EF567890]`), ap + ".instances[0]"},
		{"instance no prefix", awsDoc(`instances: [0abcd1234ef567890]`), ap + ".instances[0]"},
		{"databases", awsDoc(`databases: [a, acme-prod-1, ` + long(63) + `]`), ""},
		{"database digit first", awsDoc(`databases: [1db]`), ap + ".databases[0]"},
		{"database double hyphen", awsDoc(`databases: [a--b]`), ap + ".databases[0]"},
		{"database trailing hyphen", awsDoc(`databases: [db-]`), ap + ".databases[0]"},
		{"database underscore", awsDoc(`databases: [my_db]`), ap + ".databases[0]"},
		{"database too long", awsDoc(`databases: [` + long(64) + `]`), ap + ".databases[0]"},
		{"database empty", awsDoc(`databases: [""]`), ap + ".databases[0]"},
		{"cost tag", clientDoc(`aws: {cost_tag: {key: "` + long(128) + `", value: "` + long(256) + `"}}`), ""},
		{"cost tag empty value", clientDoc(`aws: {cost_tag: {key: client, value: ""}}`), ""},
		{"cost tag no key", clientDoc(`aws: {cost_tag: {value: acme}}`), ap + ".cost_tag"},
		{"cost tag long key", clientDoc(`aws: {cost_tag: {key: "` + long(129) + `"}}`), ap + ".cost_tag.key"},
		{"resource tag long value", awsDoc(`resource_tag: {key: k, value: "` + long(257) + `"}`), ap + ".resource_tag.value"},
		{"resource tag multibyte counts runes", awsDoc(`resource_tag: {key: "` + strings.Repeat("é", 128) + `"}`), ""},
		{"servers only, no cost scope", clientDoc(`aws: {databases: [db]}`), ""},
		{"resource tag only", clientDoc(`aws: {resource_tag: {key: k, value: v}}`), ""},
		{"nothing selected", clientDoc(`aws: {regions: [eu-west-1]}`), ap},
		{"empty aws block", clientDoc(`aws: {}`), ap},
		{"servers without any region", "clients:\n  acme:\n    aws: {account_id: \"123456789012\", instances: [i-12345678]}\n", ap},
		{"servers with own region only", "clients:\n  acme:\n    aws: {instances: [i-12345678], regions: [us-east-1]}\n", ""},
		{"cost only needs no region", "clients:\n  acme:\n    aws: {account_id: \"123456789012\"}\n", ""},
		{"quote", clientDoc("hosting_quote: 9999999.99"), ""},
		{"quote zero", clientDoc("hosting_quote: 0"), ""},
		{"quote negative", clientDoc("hosting_quote: -1"), "clients.acme.hosting_quote"},
		{"quote too big", clientDoc("hosting_quote: 10000000"), "clients.acme.hosting_quote"},
		{"quote NaN", clientDoc("hosting_quote: .nan"), "clients.acme.hosting_quote"},
	}
	for _, lvl := range []struct{ name, path, src string }{
		{"client", "clients.acme.thresholds", clientDoc("thresholds:\n  %s")},
		{"servers", "servers.thresholds", "servers:\n  thresholds:\n    %s\n"},
	} {
		for _, c := range []struct {
			field, value string
			ok           bool
		}{
			{"cpu", "1", true}, {"cpu", "100", true}, {"cpu", "0.5", false}, {"cpu", "101", false}, {"cpu", "-1", false}, {"cpu", ".nan", false},
			{"free_storage_gb", "0.5", true}, {"free_storage_gb", "65536", true}, {"free_storage_gb", "-1", false}, {"free_storage_gb", "65537", false},
			{"periods", "1", true}, {"periods", "60", true}, {"periods", "61", false}, {"periods", "-1", false},
			{"spike_factor", "1.5", true}, {"spike_factor", "100", true}, {"spike_factor", "1.4", false}, {"spike_factor", "101", false}, {"spike_factor", ".inf", false},
		} {
			path := ""
			if !c.ok {
				path = lvl.path + "." + c.field
			}
			tests = append(tests, struct{ name, src, path string }{
				lvl.name + " " + c.field + " " + c.value, strings.Replace(lvl.src, "%s", c.field+": "+c.value, 1), path,
			})
		}
	}
	for _, c := range []struct{ key, value, path string }{
		{"servers", "interval: 1m", ""}, {"servers", "interval: 24h", ""},
		{"servers", "interval: 59s", "servers.interval"}, {"servers", "interval: 25h", "servers.interval"},
		{"servers", "interval: -5m", "servers.interval"},
		{"servers", "period: 1m", ""}, {"servers", "period: 10m", ""},
		{"servers", "period: 30s", "servers.period"}, {"servers", "period: 90s", "servers.period"},
		{"cost", "currency: GBP", ""}, {"cost", "currency: usd", "cost.currency"}, {"cost", "currency: EURO", "cost.currency"},
		{"cost", "refresh_at: \"00:00\"", ""}, {"cost", "refresh_at: 23:59", ""},
		{"cost", "refresh_at: \"6:00\"", "cost.refresh_at"}, {"cost", "refresh_at: \"24:00\"", "cost.refresh_at"},
		{"cost", "refresh_at: \"12:60\"", "cost.refresh_at"}, {"cost", "refresh_at: noon", "cost.refresh_at"},
		{"cost", "max_age: 1m", ""}, {"cost", "max_age: 30s", "cost.max_age"}, {"cost", "max_age: -1h", "cost.max_age"},
		{"cost", "anomaly_factor: 1.01", ""}, {"cost", "anomaly_factor: 1", "cost.anomaly_factor"},
		{"cost", "anomaly_factor: 0.5", "cost.anomaly_factor"}, {"cost", "anomaly_factor: .inf", "cost.anomaly_factor"},
		{"cost", "anomaly_minimum: 0", ""}, {"cost", "anomaly_minimum: 500", ""}, {"cost", "anomaly_minimum: -1", "cost.anomaly_minimum"},
		{"cost", "quote_step: 0.5", ""}, {"cost", "quote_step: 100", ""},
		{"cost", "quote_step: -5", "cost.quote_step"}, {"cost", "quote_step: 101", "cost.quote_step"},
		{"cost", "weekly_report: {day: Sunday}", ""}, {"cost", "weekly_report: {day: mon}", "cost.weekly_report.day"},
		{"cost", "weekly_report: {day: someday}", "cost.weekly_report.day"},
		{"cost", "weekly_report: {time: \"23:59\"}", ""}, {"cost", "weekly_report: {time: \"9am\"}", "cost.weekly_report.time"},
		{"cost", "weekly_report: {timezone: Asia/Tokyo}", ""},
		{"cost", "weekly_report: {timezone: Mars/Olympus}", "cost.weekly_report.timezone"},
		{"cost", "weekly_report: {timezone: Local}", "cost.weekly_report.timezone"},
		{"cost", "weekly_report: {enabled: true}", ""},
	} {
		tests = append(tests, struct{ name, src, path string }{
			c.key + " " + c.value, "channels:\n  finance: C0FINANCE1\n" + c.key + ":\n  " + c.value + "\n", c.path,
		})
	}
	tests = append(tests, struct{ name, src, path string }{
		"weekly report without finance channel", "cost:\n  weekly_report: {enabled: true}\n", "cost.weekly_report.enabled",
	})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.src), nil)
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Load: %v\nfile:\n%s", err, tt.src)
				}
				return
			}
			ps, ok := errors.AsType[Problems](err)
			if !ok || len(ps) != 1 {
				t.Fatalf("got %v, want one problem at %s\nfile:\n%s", err, tt.path, tt.src)
			}
			p := ps[0]
			if p.Path != tt.path || p.Line == 0 || !strings.Contains(p.Msg, "e.g.") {
				t.Errorf("got %q (line %d), want a problem at %s with a line and an example", p, p.Line, tt.path)
			}
		})
	}
}
