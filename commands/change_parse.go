package commands

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/store"
)

// Parsers of what people type into the change request forms. Each returns
// an error worded for the person, with an example of the right form.

// maxMonthly bounds a typed monthly cost ($10 million).
const maxMonthly = store.Money(1_000_000_000)

// ParseMoney reads a monthly cost: "720", "720.5", "$1,234.50", "USD 99".
// Negative amounts, more than two decimals and amounts over $10,000,000 are
// refused.
func ParseMoney(s string) (store.Money, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "USD"), "usd")
	t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "$"))
	t = strings.TrimSuffix(t, "/month")
	if t == "" {
		return 0, errors.New("enter an amount per month, e.g. 720 or $1,234.50")
	}
	whole, frac, hasFrac := strings.Cut(t, ".")
	if hasFrac && (len(frac) == 0 || len(frac) > 2) {
		return 0, fmt.Errorf("%q: use at most two decimals, e.g. 1234.50", truncate(s, 40))
	}
	whole = strings.ReplaceAll(whole, ",", "")
	if whole == "" || len(whole) > 10 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount: write digits, e.g. 720 or $1,234.50", truncate(s, 40))
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	cents := int64(0)
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
		cents = f
	}
	m := store.Money(w*100 + cents)
	if m > maxMonthly {
		return 0, fmt.Errorf("%s a month is more than I accept (at most %s)", m, maxMonthly)
	}
	return m, nil
}

// MoneyInput formats m for a form field: "720.00".
func MoneyInput(m store.Money) string {
	return strconv.FormatInt(int64(m)/100, 10) + "." + fmt.Sprintf("%02d", int64(m)%100)
}

// windowLayout is how a window time is typed, in the configured zone.
const windowLayout = "2006-01-02 15:04"

// ParseWindow reads a change window, "2026-11-28 22:00" to "2026-11-29
// 02:00", in loc. Both or neither must be given; the end must follow the
// start, the window may last at most 7 days and may not end in the past.
func ParseWindow(start, end string, loc *time.Location, now time.Time) (from, to time.Time, err error) {
	start, end = strings.TrimSpace(start), strings.TrimSpace(end)
	if start == "" && end == "" {
		return time.Time{}, time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	if from, err = time.ParseInLocation(windowLayout, start, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("window start: write it as YYYY-MM-DD HH:MM, e.g. %s", now.In(loc).Add(24*time.Hour).Format("2006-01-02")+" 22:00")
	}
	if to, err = time.ParseInLocation(windowLayout, end, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("window end: write it as YYYY-MM-DD HH:MM, e.g. %s", from.Add(4*time.Hour).Format(windowLayout))
	}
	switch {
	case !to.After(from):
		return time.Time{}, time.Time{}, errors.New("the window must end after it starts")
	case to.Sub(from) > 7*24*time.Hour:
		return time.Time{}, time.Time{}, errors.New("a window may last at most 7 days")
	case !to.After(now):
		return time.Time{}, time.Time{}, errors.New("the window ends in the past")
	}
	return from, to, nil
}

// dnsTypes are the record types a cut-over may switch.
var dnsTypes = []string{"A", "AAAA", "CNAME", "TXT"}

// ParseDNSPlan reads the DNS part of a proposal; all empty means none.
// values are one per line or comma-separated; A and AAAA values must be IP
// addresses of their family.
func ParseDNSPlan(zone, name, typ, values string) (*store.DNSPlan, error) {
	zone, name, typ = strings.TrimSpace(zone), strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(typ))
	vals := strings.FieldsFunc(values, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' })
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	vals = slices.DeleteFunc(vals, func(v string) bool { return v == "" })
	if zone == "" && name == "" && len(vals) == 0 {
		return nil, nil
	}
	const ex = "zone Z0123456789ABC, record www.acme.example, type A, value 203.0.113.10"
	switch {
	case zone == "" || name == "" || len(vals) == 0:
		return nil, fmt.Errorf("a DNS plan needs the hosted zone, the record name and the new value(s), e.g. %s", ex)
	case !validZoneID(zone):
		return nil, fmt.Errorf("%q is not a Route 53 hosted zone ID (e.g. Z0123456789ABC)", truncate(zone, 40))
	case !validRecordName(name):
		return nil, fmt.Errorf("%q is not a DNS name (e.g. www.acme.example)", truncate(name, 60))
	case typ == "":
		typ = "A"
	}
	if !slices.Contains(dnsTypes, typ) {
		return nil, fmt.Errorf("record type %q: use one of %s", truncate(typ, 10), strings.Join(dnsTypes, ", "))
	}
	if len(vals) > 20 {
		return nil, errors.New("at most 20 values")
	}
	for _, v := range vals {
		if err := checkRecordValue(typ, v); err != nil {
			return nil, err
		}
	}
	return &store.DNSPlan{ZoneID: strings.TrimPrefix(zone, "/hostedzone/"), Name: name, Type: typ, NewValues: vals}, nil
}

func validZoneID(z string) bool {
	z = strings.TrimPrefix(z, "/hostedzone/")
	if len(z) < 2 || len(z) > 32 {
		return false
	}
	return strings.Trim(z, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

func validRecordName(n string) bool {
	n = strings.TrimSuffix(n, ".")
	if n == "" || len(n) > 253 {
		return false
	}
	for i, label := range strings.Split(n, ".") {
		if label == "*" && i == 0 {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.Trim(strings.ToLower(label), "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

func checkRecordValue(typ, v string) error {
	switch typ {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(v)
		if err != nil || (typ == "A") != ip.Is4() || ip.Zone() != "" {
			return fmt.Errorf("%q is not an IPv%s address for an %s record", truncate(v, 60), map[bool]string{true: "4", false: "6"}[typ == "A"], typ)
		}
	case "CNAME":
		if !validRecordName(v) {
			return fmt.Errorf("%q is not a host name for a CNAME record", truncate(v, 60))
		}
	case "TXT":
		if len(v) > 255 || !utf8.ValidString(v) || hasControl(v) {
			return errors.New("a TXT value is at most 255 characters of text on one line, e.g. \"v=spf1 -all\"")
		}
	}
	return nil
}

// ParseSmokeChecks reads one check a line:
//
//	https://203.0.113.10/health host=www.acme.example status=200 keyword=ok
//
// host, status and keyword are optional (status defaults to 200). Only
// http(s) URLs; at most store.MaxSmokeChecks lines.
func ParseSmokeChecks(text string) ([]store.SmokeCheck, error) {
	const ex = "https://203.0.113.10/health host=www.acme.example status=200 keyword=ok"
	var out []store.SmokeCheck
	for n, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(out) == store.MaxSmokeChecks {
			return nil, fmt.Errorf("at most %d smoke checks", store.MaxSmokeChecks)
		}
		u, err := url.Parse(fields[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(fields[0]) > 2000 {
			return nil, fmt.Errorf("line %d: start with an http(s) URL, e.g. %s", n+1, ex)
		}
		ch := store.SmokeCheck{URL: u.String(), ExpectStatus: 200}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			switch {
			case !ok || v == "":
				return nil, fmt.Errorf("line %d: %q is not key=value (host=, status=, keyword=), e.g. %s", n+1, truncate(f, 40), ex)
			case k == "host":
				if !validHost(v) {
					return nil, fmt.Errorf("line %d: host %q is not a host name", n+1, truncate(v, 60))
				}
				ch.Host = v
			case k == "status":
				st, err := strconv.Atoi(v)
				if err != nil || st < 100 || st > 599 {
					return nil, fmt.Errorf("line %d: status %q is not an HTTP status (100-599)", n+1, truncate(v, 10))
				}
				ch.ExpectStatus = st
			case k == "keyword":
				if len(v) > 200 {
					return nil, fmt.Errorf("line %d: the keyword is longer than 200 characters", n+1)
				}
				if !utf8.ValidString(v) || hasControl(v) {
					return nil, fmt.Errorf("line %d: the keyword must be plain text, e.g. keyword=ok", n+1)
				}
				ch.Keyword = v
			default:
				return nil, fmt.Errorf("line %d: unknown option %q (use host=, status=, keyword=)", n+1, truncate(k, 20))
			}
		}
		out = append(out, ch)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("list at least one check, one a line, e.g. %s", ex)
	}
	return out, nil
}

// validHost is a Host header value: a DNS name with an optional port, as
// the store accepts it (at most 253 characters, no control characters).
func validHost(v string) bool {
	name, port, hasPort := strings.Cut(v, ":")
	if hasPort && (port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return false
	}
	return len(v) <= 253 && validRecordName(name)
}

// hasControl reports control characters, which the store refuses in
// one-line fields.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
