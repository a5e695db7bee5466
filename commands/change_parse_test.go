package commands_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// checkRefusal asserts that a parser's refusal is worded for a person:
// lower-case start (the form upper-cases it), no Go internals, and the
// substring the case names (its example or the rule broken).
func checkRefusal(t *testing.T, in string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%q accepted, want a refusal containing %q", in, want)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("%q → %q, want it to contain %q", in, msg, want)
	}
	r, _ := utf8.DecodeRuneInString(msg)
	for _, internal := range []string{"strconv", "parsing time", "%!", "invalid syntax", "<nil>"} {
		if strings.Contains(msg, internal) {
			t.Errorf("%q → %q shows %q to a person", in, msg, internal)
		}
	}
	if unicode.IsUpper(r) {
		// Messages start lower-case: the form starts the sentence (upperFirst).
		t.Errorf("%q → %q starts upper-case", in, msg)
	}
}

func TestParseMoney(t *testing.T) {
	accepted := []struct {
		in   string
		want store.Money
	}{
		{"720", 72000},
		{"720.5", 72050},
		{"720.05", 72005},
		{"$1,234.50", 123450},
		{"USD 99", 9900},
		{"usd99", 9900},
		{"  $ 42  ", 4200},
		{"720/month", 72000},
		{"0", 0},
		{"0.00", 0},
		{"10000000", 1_000_000_000}, // exactly the $10M bound
		{"10,000,000.00", 1_000_000_000},
	}
	for _, tt := range accepted {
		got, err := commands.ParseMoney(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMoney(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	refused := []struct{ in, want string }{
		{"", "e.g. 720 or $1,234.50"},
		{"   ", "e.g. 720 or $1,234.50"},
		{"$", "e.g. 720 or $1,234.50"},
		{"-5", "e.g. 720 or $1,234.50"},
		{"abc", "e.g. 720 or $1,234.50"},
		{"12a", "e.g. 720 or $1,234.50"},
		{".50", "e.g. 720 or $1,234.50"},
		{"1.2.3", "e.g. 1234.50"},
		{"1.234", "e.g. 1234.50"},
		{"1.", "e.g. 1234.50"},
		{"1.-5", "e.g. 720 or $1,234.50"},
		{"€50", "e.g. 720 or $1,234.50"},
		{"12345678901", "e.g. 720 or $1,234.50"}, // 11 digits: too long to be a monthly cost
		{"10000000.01", "at most $10,000,000.00"},
		{"99999999", "at most $10,000,000.00"},
	}
	for _, tt := range refused {
		got, err := commands.ParseMoney(tt.in)
		checkRefusal(t, tt.in, err, tt.want)
		if got != 0 {
			t.Errorf("ParseMoney(%q) refused but returned %v", tt.in, got)
		}
	}
}

func TestMoneyInputRoundTrip(t *testing.T) {
	for _, m := range []store.Money{0, 1, 9, 10, 99, 100, 72050, 123456, 999_999_999, 1_000_000_000} {
		in := commands.MoneyInput(m)
		if strings.Count(in, ".") != 1 || len(in[strings.Index(in, ".")+1:]) != 2 {
			t.Errorf("MoneyInput(%d) = %q, want two decimals", m, in)
		}
		got, err := commands.ParseMoney(in)
		if err != nil || got != m {
			t.Errorf("ParseMoney(MoneyInput(%d) = %q) = %v, %v", m, in, got, err)
		}
	}
	if got := commands.MoneyInput(72050); got != "720.50" {
		t.Errorf("MoneyInput(72050) = %q, want 720.50", got)
	}
}

func TestParseWindow(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	from, to, err := commands.ParseWindow(" 2026-11-28 22:00 ", "2026-11-29 02:00", berlin, now)
	if err != nil || !from.Equal(time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)) || to.Sub(from) != 4*time.Hour {
		t.Fatalf("window in CET = %v → %v, %v", from, to, err)
	}
	if from, to, err := commands.ParseWindow("", " ", nil, now); err != nil || !from.IsZero() || !to.IsZero() {
		t.Fatalf("no window = %v → %v, %v; want zero times, no error", from, to, err)
	}
	if from, _, err := commands.ParseWindow("2026-11-28 22:00", "2026-11-28 23:00", nil, now); err != nil || from.Location() != time.UTC {
		t.Fatalf("nil location: %v, %v; want UTC", from, err)
	}
	// A window that started in the past but has not ended is accepted.
	if _, _, err := commands.ParseWindow("2026-11-20 10:00", "2026-11-20 14:00", nil, now); err != nil {
		t.Fatalf("running window refused: %v", err)
	}
	if _, _, err := commands.ParseWindow("2026-11-21 00:00", "2026-11-28 00:00", nil, now); err != nil {
		t.Fatalf("exactly 7 days refused: %v", err)
	}
	refused := []struct{ start, end, want string }{
		{"2026-11-28 22:00", "", "window end: write it as YYYY-MM-DD HH:MM, e.g. 2026-11-29 02:00"},
		{"", "2026-11-29 02:00", "window start: write it as YYYY-MM-DD HH:MM, e.g. 2026-11-21 22:00"},
		{"28/11/2026 22:00", "2026-11-29 02:00", "e.g. 2026-11-21 22:00"},
		{"2026-11-28T22:00", "2026-11-29 02:00", "e.g. 2026-11-21 22:00"},
		{"2026-11-31 22:00", "2026-12-01 02:00", "e.g. 2026-11-21 22:00"},
		{"2026-11-28 22:00", "tomorrow", "e.g. 2026-11-29 02:00"},
		{"2026-11-28 22:00", "2026-11-28 22:00", "the window must end after it starts"},
		{"2026-11-28 22:00", "2026-11-28 21:00", "the window must end after it starts"},
		{"2026-11-21 00:00", "2026-11-28 00:01", "at most 7 days"},
		{"2026-11-19 10:00", "2026-11-20 11:59", "the window ends in the past"},
	}
	for _, tt := range refused {
		from, to, err := commands.ParseWindow(tt.start, tt.end, time.UTC, now)
		checkRefusal(t, tt.start+" → "+tt.end, err, tt.want)
		if !from.IsZero() || !to.IsZero() {
			t.Errorf("%q → %q refused but returned %v → %v", tt.start, tt.end, from, to)
		}
	}
}

func TestParseDNSPlan(t *testing.T) {
	type in struct{ zone, name, typ, values string }
	accepted := []struct {
		in   in
		want store.DNSPlan
	}{
		{in{"Z0123456789ABC", "www.acme.example", "", "203.0.113.10"},
			store.DNSPlan{ZoneID: "Z0123456789ABC", Name: "www.acme.example", Type: "A", NewValues: []string{"203.0.113.10"}}},
		{in{" /hostedzone/Z0123456789ABC ", "www.acme.example.", "a", "203.0.113.10,\n 203.0.113.11 \r\n,"},
			store.DNSPlan{ZoneID: "Z0123456789ABC", Name: "www.acme.example.", Type: "A", NewValues: []string{"203.0.113.10", "203.0.113.11"}}},
		{in{"Z1", "*.acme.example", "AAAA", "2001:db8::1"},
			store.DNSPlan{ZoneID: "Z1", Name: "*.acme.example", Type: "AAAA", NewValues: []string{"2001:db8::1"}}},
		{in{"Z1", "www.acme.example", "cname", "new-alb-123.eu-west-1.elb.amazonaws.com."},
			store.DNSPlan{ZoneID: "Z1", Name: "www.acme.example", Type: "CNAME", NewValues: []string{"new-alb-123.eu-west-1.elb.amazonaws.com."}}},
		{in{"Z1", "_acme-challenge.acme.example", "TXT", "\"v=spf1 -all\""},
			store.DNSPlan{ZoneID: "Z1", Name: "_acme-challenge.acme.example", Type: "TXT", NewValues: []string{"\"v=spf1 -all\""}}},
	}
	for _, tt := range accepted {
		got, err := commands.ParseDNSPlan(tt.in.zone, tt.in.name, tt.in.typ, tt.in.values)
		if err != nil || got == nil || got.ZoneID != tt.want.ZoneID || got.Name != tt.want.Name || got.Type != tt.want.Type ||
			strings.Join(got.NewValues, "|") != strings.Join(tt.want.NewValues, "|") {
			t.Errorf("ParseDNSPlan(%+v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if got, err := commands.ParseDNSPlan(" ", "", "CNAME", " \n, "); got != nil || err != nil {
		t.Errorf("empty plan = %+v, %v; want none", got, err)
	}
	const ex = "e.g. zone Z0123456789ABC, record www.acme.example, type A, value 203.0.113.10"
	refused := []struct {
		in   in
		want string
	}{
		{in{"Z1", "", "", "203.0.113.10"}, ex},
		{in{"", "www.acme.example", "", "203.0.113.10"}, ex},
		{in{"Z1", "www.acme.example", "A", ""}, ex},
		{in{"z-lower", "www.acme.example", "A", "203.0.113.10"}, "(e.g. Z0123456789ABC)"},
		{in{"Z" + strings.Repeat("A", 40), "www.acme.example", "A", "203.0.113.10"}, "(e.g. Z0123456789ABC)"},
		{in{"Z1", "www..acme.example", "A", "203.0.113.10"}, "(e.g. www.acme.example)"},
		{in{"Z1", "-www.acme.example", "A", "203.0.113.10"}, "(e.g. www.acme.example)"},
		{in{"Z1", "www.<acme>.example", "A", "203.0.113.10"}, "(e.g. www.acme.example)"},
		{in{"Z1", "www.acme.example", "MX", "10 mx.acme.example"}, "use one of A, AAAA, CNAME, TXT"},
		{in{"Z1", "www.acme.example", "A", "2001:db8::1"}, "is not an IPv4 address for an A record"},
		{in{"Z1", "www.acme.example", "AAAA", "203.0.113.10"}, "is not an IPv6 address for an AAAA record"},
		{in{"Z1", "www.acme.example", "A", "203.0.113.300"}, "is not an IPv4 address"},
		{in{"Z1", "www.acme.example", "AAAA", "fe80::1%eth0"}, "is not an IPv6 address"}, // a scoped address means nothing in DNS
		{in{"Z1", "www.acme.example", "TXT", "tab\tinside"}, "on one line"},
		{in{"Z1", "www.acme.example", "CNAME", "not a host"}, "is not a host name for a CNAME record"},
		{in{"Z1", "www.acme.example", "TXT", strings.Repeat("x", 256)}, "at most 255 characters"},
		{in{"Z1", "www.acme.example", "A", strings.Repeat("203.0.113.1,", 21)}, "at most 20 values"},
	}
	for _, tt := range refused {
		got, err := commands.ParseDNSPlan(tt.in.zone, tt.in.name, tt.in.typ, tt.in.values)
		checkRefusal(t, tt.in.zone+" "+tt.in.name+" "+tt.in.typ+" "+tt.in.values, err, tt.want)
		if got != nil {
			t.Errorf("%+v refused but returned %+v", tt.in, got)
		}
	}
}

func TestParseSmokeChecks(t *testing.T) {
	got, err := commands.ParseSmokeChecks("\n  https://203.0.113.10/health host=www.acme.example status=204 keyword=ok  \n\nhttp://new-alb.example:8080/\n")
	want := []store.SmokeCheck{
		{URL: "https://203.0.113.10/health", Host: "www.acme.example", ExpectStatus: 204, Keyword: "ok"},
		{URL: "http://new-alb.example:8080/", ExpectStatus: 200},
	}
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ParseSmokeChecks = %+v, %v; want %+v", got, err, want)
	}
	if got, err := commands.ParseSmokeChecks("https://203.0.113.10/ host=www.acme.example:443"); err != nil || got[0].Host != "www.acme.example:443" {
		t.Fatalf("host with port = %+v, %v", got, err)
	}
	max := strings.Repeat("https://203.0.113.10/health\n", store.MaxSmokeChecks)
	if got, err := commands.ParseSmokeChecks(max); err != nil || len(got) != store.MaxSmokeChecks {
		t.Fatalf("%d checks = %d, %v", store.MaxSmokeChecks, len(got), err)
	}
	const ex = "e.g. https://203.0.113.10/health host=www.acme.example status=200 keyword=ok"
	refused := []struct{ in, want string }{
		{"", "list at least one check, one a line, " + ex},
		{" \n\t\n", "list at least one check, one a line, " + ex},
		{"203.0.113.10/health", "line 1: start with an http(s) URL, " + ex},
		{"https://ok.example/\nftp://203.0.113.10/", "line 2: start with an http(s) URL, " + ex},
		{"javascript:alert(1)", "start with an http(s) URL, " + ex},
		{"https://user:pw@203.0.113.10/", "start with an http(s) URL, " + ex},
		{"https:///path-only", "start with an http(s) URL, " + ex},
		{"https://" + strings.Repeat("a", 2000) + ".example/", "start with an http(s) URL, " + ex},
		{"https://203.0.113.10/ status", `"status" is not key=value (host=, status=, keyword=), ` + ex},
		{"https://203.0.113.10/ keyword=", `is not key=value`},
		{"https://203.0.113.10/ status=abc", `status "abc" is not an HTTP status (100-599)`},
		{"https://203.0.113.10/ status=99", "(100-599)"},
		{"https://203.0.113.10/ status=600", "(100-599)"},
		{"https://203.0.113.10/ host=-bad-.example", `host "-bad-.example" is not a host name`},
		{"https://203.0.113.10/ keyword=" + strings.Repeat("k", 201), "longer than 200 characters"},
		{"https://203.0.113.10/ keyword=\x00", "the keyword must be plain text, e.g. keyword=ok"},
		{"https://203.0.113.10/ host=www.acme.example:http", "is not a host name"},
		{"https://203.0.113.10/ host=www.acme.example:\x01", "is not a host name"},
		{"https://203.0.113.10/ method=POST", `unknown option "method" (use host=, status=, keyword=)`},
		{max + "https://203.0.113.10/one-too-many", "at most 20 smoke checks"},
	}
	for _, tt := range refused {
		got, err := commands.ParseSmokeChecks(tt.in)
		checkRefusal(t, truncated(tt.in), err, tt.want)
		if got != nil {
			t.Errorf("%q refused but returned %+v", truncated(tt.in), got)
		}
	}
}

func truncated(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
