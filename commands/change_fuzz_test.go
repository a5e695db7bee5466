package commands_test

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// The change request forms are typed by people; these targets check that
// no input panics a parser and that whatever a parser accepts is what the
// rest of opsbot relies on (the store accepts it, the bounds hold).

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"720", "720.5", "$1,234.50", "USD 99", "usd$5", "720/month", "", "-5", "1.234",
		"10000000", "10000000.01", "9999999999.99", ",,,", "1,2,3.4", "$ ", "0.0", "١٢٣", "1e3", "0x10", "+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := commands.ParseMoney(s)
		if err != nil {
			if m != 0 || err.Error() == "" {
				t.Fatalf("ParseMoney(%q) refused with %v but returned %v", s, err, m)
			}
			return
		}
		if m < 0 || m > 1_000_000_000 {
			t.Fatalf("ParseMoney(%q) = %v, outside $0..$10,000,000", s, m)
		}
		in := commands.MoneyInput(m)
		back, err := commands.ParseMoney(in)
		if err != nil || back != m {
			t.Fatalf("ParseMoney(%q) = %v; MoneyInput = %q parses back to %v, %v", s, m, in, back, err)
		}
	})
}

func FuzzParseWindow(f *testing.F) {
	f.Add("2026-11-28 22:00", "2026-11-29 02:00")
	f.Add("2026-11-21 00:00", "2026-11-28 00:00")
	f.Add("2026-11-21 00:00", "2026-11-28 00:01")
	f.Add("2026-11-28 22:00", "2026-11-28 22:00")
	f.Add("2026-03-29 00:30", "2026-03-29 03:30") // the European spring change
	f.Add("", "")
	f.Add("2026-11-28 22:00", "")
	f.Add("2026-02-30 22:00", "2026-03-01 02:00")
	f.Add("0000-01-01 00:00", "9999-12-31 23:59")
	f.Add("2026-11-28 24:00", "2026-11-29 02:00")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	locs := []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("NPT", 5*3600+45*60), time.FixedZone("minus", -11*3600)}
	f.Fuzz(func(t *testing.T, start, end string) {
		for _, loc := range locs {
			from, to, err := commands.ParseWindow(start, end, loc, now)
			if err != nil {
				if !from.IsZero() || !to.IsZero() {
					t.Fatalf("ParseWindow(%q, %q) refused with %v but returned %v → %v", start, end, err, from, to)
				}
				continue
			}
			if from.IsZero() != to.IsZero() {
				t.Fatalf("ParseWindow(%q, %q) = %v → %v: one end only", start, end, from, to)
			}
			if from.IsZero() {
				if strings.TrimSpace(start) != "" || strings.TrimSpace(end) != "" {
					t.Fatalf("ParseWindow(%q, %q) accepted as no window", start, end)
				}
				continue
			}
			if !to.After(from) || to.Sub(from) > 7*24*time.Hour || !to.After(now) {
				t.Fatalf("ParseWindow(%q, %q) in %s = %v → %v: must end after it starts, within 7 days, in the future", start, end, loc, from, to)
			}
			if from.Location() != loc {
				t.Fatalf("ParseWindow(%q, %q) in %s returned a time in %s", start, end, loc, from.Location())
			}
		}
	})
}

func FuzzParseDNSPlan(f *testing.F) {
	f.Add("Z0123456789ABC", "www.acme.example", "A", "203.0.113.10")
	f.Add("/hostedzone/Z1", "www.acme.example.", "aaaa", "2001:db8::1\n2001:db8::2")
	f.Add("Z1", "*.acme.example", "CNAME", "new-alb.example.")
	f.Add("Z1", "txt.acme.example", "TXT", "\"v=spf1 -all\",second")
	f.Add("Z1", "www.acme.example", "AAAA", "fe80::1%eth0")
	f.Add("Z1", "www.acme.example", "A", "::ffff:203.0.113.10")
	f.Add("", "", "", "")
	f.Add("Z1", "www.acme.example", "MX", "10 mx")
	f.Add("Z1", "www.acme.example", "TXT", "tab\tinside")
	f.Fuzz(func(t *testing.T, zone, name, typ, values string) {
		p, err := commands.ParseDNSPlan(zone, name, typ, values)
		if err != nil || p == nil {
			if p != nil {
				t.Fatalf("refused with %v but returned %+v", err, p)
			}
			return
		}
		if !slices.Contains([]string{"A", "AAAA", "CNAME", "TXT"}, p.Type) {
			t.Fatalf("accepted type %q", p.Type)
		}
		if n := len(p.NewValues); n < 1 || n > 20 {
			t.Fatalf("accepted %d values", n)
		}
		for _, v := range p.NewValues {
			if v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("accepted value %q", v)
			}
			if p.Type == "A" || p.Type == "AAAA" {
				ip, err := netip.ParseAddr(v)
				if err != nil || ip.Zone() != "" || ip.Is4() != (p.Type == "A") {
					t.Fatalf("accepted %q for an %s record: Route 53 takes a plain address of the family", v, p.Type)
				}
			}
		}
		if p.ZoneID == "" || strings.HasPrefix(p.ZoneID, "/") || p.Name == "" {
			t.Fatalf("accepted plan %+v", p)
		}
		// What the form accepts the store must accept too; a refusal there
		// would reach the person as a notice, not as a field error.
		cr := proposable(t)
		prop := store.Proposal{Plan: "switch www", Magnitude: store.MagnitudeMinor, CurrentMonthly: 100, ProposedMonthly: 100, DNS: p}
		if err := cr.Propose(prop, nil, "USUP", cr.CreatedAt); err != nil {
			t.Fatalf("the store refuses the accepted plan %+v: %v", p, err)
		}
	})
}

func FuzzParseSmokeChecks(f *testing.F) {
	f.Add("https://203.0.113.10/health host=www.acme.example status=200 keyword=ok")
	f.Add("http://new-alb.example:8080/\n\nhttps://203.0.113.10/ status=301")
	f.Add("https://203.0.113.10/ host=www.acme.example:443 keyword=<b>")
	f.Add("ftp://x/")
	f.Add("https://user:pw@x/")
	f.Add("https://x/ status=99")
	f.Add("https://x/ keyword=\x00")
	f.Add("https://x/ host=a:\x01")
	f.Add("https://[::1]:80/ host=h")
	f.Add(strings.Repeat("https://x/\n", store.MaxSmokeChecks+1))
	f.Fuzz(func(t *testing.T, text string) {
		checks, err := commands.ParseSmokeChecks(text)
		if err != nil {
			if checks != nil {
				t.Fatalf("refused with %v but returned %+v", err, checks)
			}
			return
		}
		if len(checks) < 1 || len(checks) > store.MaxSmokeChecks {
			t.Fatalf("accepted %d checks", len(checks))
		}
		for _, ch := range checks {
			u, err := url.Parse(ch.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				t.Fatalf("accepted URL %q", ch.URL)
			}
			if ch.ExpectStatus < 100 || ch.ExpectStatus > 599 {
				t.Fatalf("accepted status %d", ch.ExpectStatus)
			}
		}
		// What the form accepts the store must accept too.
		cr := proposable(t)
		at := cr.CreatedAt
		measured := &store.CostMeasure{At: at} // $0 measured: no increase, no approval
		if err := cr.Propose(store.Proposal{Plan: "new web tier", Magnitude: store.MagnitudeMinor, Measured: measured}, nil, "USUP", at); err != nil {
			t.Fatal(err)
		}
		if err := cr.Schedule("USUP", at); err != nil {
			t.Fatal(err)
		}
		if err := cr.Provision("USUP", at); err != nil {
			t.Fatal(err)
		}
		if err := cr.SetSmokeChecks(slices.Clone(checks), "USUP", at); err != nil {
			t.Fatalf("the store refuses the accepted checks %+v: %v", checks, err)
		}
	})
}

// proposable is a request under investigation, ready for a proposal.
func proposable(t *testing.T) *store.ChangeRequest {
	t.Helper()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	cr, err := store.NewChangeRequest("CR-1", "acme", "Site slow", "Pages time out", "", "UREQ", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := cr.Investigate("USUP", at); err != nil {
		t.Fatal(err)
	}
	return cr
}
