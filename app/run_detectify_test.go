package app

import (
	"context"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/store"
)

const (
	securityChannel = "C0SECURITY"
	xssUUID         = "e26b149d-a124-44a6-a6c0-7f1e2b3c4d5e"
	sqliUUID        = "5ea1f00d-0000-4000-8000-0000000000aa"
	scanWait        = 15 * time.Second // a scan takes a few 1 s polls
)

// scanEnv is opsbot with three clients that pay for Detectify (ACME,
// Globex, and Initech whose domain is not verified) and one that does not,
// against the Detectify, PagerDuty and Slack fakes.
type scanEnv struct {
	*opsbot
	dfy           *detectifytest.Server
	pd            *pagerdutytest.Server
	acme, globex  string // profile tokens
	initech       string
	security, bob string // a security person, ACME's stakeholder
}

func startScans(t *testing.T) *scanEnv {
	t.Helper()
	return startScansWith(t, nil, nil)
}

// startScansWith is startScans with env over the defaults; setup, when
// set, prepares the Detectify fake before opsbot starts.
func startScansWith(t *testing.T, env map[string]string, setup func(*detectifytest.Server)) *scanEnv {
	t.Helper()
	e := &scanEnv{dfy: detectifytest.New(t), pd: pagerdutytest.New(t), security: "UALICE0001", bob: "UBOB000001"}
	if setup != nil {
		setup(e.dfy)
	}
	e.acme = e.dfy.AddProfile(detectifytest.Profile{Name: "ACME shop", Endpoint: "shop.acme-corp.test", Verified: true})
	e.globex = e.dfy.AddProfile(detectifytest.Profile{Name: "Globex", Endpoint: "globex.test", Verified: true})
	e.initech = e.dfy.AddProfile(detectifytest.Profile{Name: "Initech", Endpoint: "initech.test"})
	yaml := `channels:
  support: C0SUPPORT
  security: ` + securityChannel + `
integrations:
  detectify:
    api_url: ` + e.dfy.APIURL() + `
  pagerduty:
    api_url: ` + e.pd.URL + `
    events_url: ` + e.pd.URL + `
detectify:
  poll_interval: 1s
clients:
  acme:
    name: ACME Corp
    detectify: {profiles: [` + e.acme + `], schedule: "off"}
  globex:
    name: Globex Inc
    detectify: {profiles: [` + e.globex + `], schedule: "off"}
  initech:
    name: Initech
    detectify: {profiles: [` + e.initech + `], schedule: "off"}
  umbrella:
    name: Umbrella
`
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"OPSBOT_CONFIG": cfg, "DETECTIFY_API_KEY": detectifytest.Key, "PAGERDUTY_ROUTING_KEY": pdRoutingKey}
	maps.Copy(vars, env)
	e.opsbot = start(t, vars)
	e.command(t, admin, "role grant @alice security")
	e.command(t, admin, "role grant @bob stakeholder acme")
	return e
}

// waitMessages waits until the security channel's messages satisfy ok.
func (e *scanEnv) waitMessages(t *testing.T, what string, ok func([]slacktest.Message) bool) []slacktest.Message {
	t.Helper()
	deadline := time.Now().Add(scanWait)
	for {
		msgs := e.fake.Messages(securityChannel)
		if ok(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out; messages:\n%s\nlogs:\n%s", what, dump(msgs), e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dump(msgs []slacktest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.TS + " thread=" + m.ThreadTS + " " + m.Text + "\n")
	}
	return b.String()
}

// scanned starts a scan of client from Slack and waits for its message to
// show the end; it returns that message (its blocks as text).
func (e *scanEnv) scanned(t *testing.T, client, name string) slacktest.Message {
	t.Helper()
	before := 0
	for _, m := range e.fake.Messages(securityChannel) {
		if strings.HasPrefix(m.Text, "Detectify scan of "+name) {
			before++
		}
	}
	if got := e.command(t, e.security, "scan "+client); !strings.Contains(got, "Started a Detectify scan of "+name) {
		t.Fatalf("/ops scan %s: %s", client, got)
	}
	var scan slacktest.Message
	e.waitMessages(t, "scan of "+client+" finished", func(ms []slacktest.Message) bool {
		n := 0
		for _, m := range ms {
			if strings.HasPrefix(m.Text, "Detectify scan of "+name) {
				n++
				if n == before+1 && strings.Contains(m.Text, ": done") {
					scan = m
					return true
				}
			}
		}
		return false
	})
	return scan
}

// alertMessages are the top-level finding alerts in the security channel.
func alertMessages(msgs []slacktest.Message) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range msgs {
		if m.ThreadTS == "" && !strings.HasPrefix(m.Text, "Detectify scan of") {
			out = append(out, m)
		}
	}
	return out
}

func (e *scanEnv) events(t *testing.T, n int) []pagerdutytest.Event {
	t.Helper()
	evs, err := e.pd.WaitEvents(n, scanWait)
	if err != nil {
		t.Fatalf("%v; events: %+v", err, e.pd.Events())
	}
	return evs
}

func xssFinding() detectifytest.Finding {
	return detectifytest.Finding{UUID: xssUUID, Title: "Reflected <b>XSS</b>", Severity: "high", Host: "shop.acme-corp.test",
		Location: "https://shop.acme-corp.test/search?q=", CWE: 79}
}

func sqliFinding() detectifytest.Finding {
	return detectifytest.Finding{UUID: sqliUUID, Title: "SQL injection", Severity: "critical", Host: "shop.acme-corp.test",
		Location: "https://shop.acme-corp.test/login", CWE: 89}
}

func TestDetectifyScanFindingsAndAlertsEndToEnd(t *testing.T) {
	e := startScans(t)
	csp := detectifytest.Finding{UUID: "c5c5c5c5-0000", Title: "Missing CSP", Severity: "medium", Host: "shop.acme-corp.test", CWE: 1021}
	e.dfy.ScriptScan(e.acme, detectifytest.Scan{
		Steps:    []detectifytest.Step{{Phase: "crawling", State: "running"}, {Phase: "scanning", State: "running"}},
		Findings: []detectifytest.Finding{xssFinding(), sqliFinding(), csp},
	})

	// 1. A scan started from Slack shows its progress in one message.
	scan := e.scanned(t, "acme", "ACME Corp")
	if scan.Updated < 3 || !strings.Contains(string(scan.Blocks), "*New* 3") || !strings.Contains(string(scan.Blocks), "@"+e.security) {
		t.Fatalf("scan message: updated %d times: %s", scan.Updated, scan.Blocks)
	}
	// The fake records a call just after applying it: wait for the last one.
	if _, err := e.fake.WaitCall("chat.update", func(c slacktest.Call) bool {
		return c.Form.Get("ts") == scan.TS && strings.Contains(c.Form.Get("blocks"), "finished")
	}, wait); err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, c := range e.fake.Calls("chat.update") {
		if c.Form.Get("ts") == scan.TS {
			for _, p := range []string{"crawling", "scanning", "finished"} {
				if strings.Contains(c.Form.Get("blocks"), p) {
					phases = append(phases, p)
				}
			}
		}
	}
	if got := strings.Join(phases, ","); got != "crawling,scanning,finished" {
		t.Fatalf("the scan's message went through %q; want its progress in place", got)
	}

	// 2. The high and critical findings post once and page once each; the medium one does not.
	evs := e.events(t, 2)
	msgs := e.waitMessages(t, "two finding alerts", func(ms []slacktest.Message) bool { return len(alertMessages(ms)) == 2 })
	alerts := alertMessages(msgs)
	var xssMsg, sqliMsg slacktest.Message
	for _, m := range alerts {
		if strings.Contains(m.Text, "XSS") {
			xssMsg = m
		} else {
			sqliMsg = m
		}
	}
	b := string(xssMsg.Blocks)
	for _, want := range []string{"High: Reflected \\u0026lt;b\\u0026gt;XSS\\u0026lt;/b\\u0026gt;", "A03:2021 Injection", "shop.acme-corp.test/search",
		"First seen", "https://detectify.com/dashboard/findings/" + xssUUID} {
		if !strings.Contains(b, want) {
			t.Errorf("XSS alert lacks %q: %s", want, b)
		}
	}
	for _, ev := range evs {
		if ev.EventAction != "trigger" || !strings.HasPrefix(ev.DedupKey, "opsbot/finding/acme/") || ev.RoutingKey != pdRoutingKey {
			t.Fatalf("page = %+v", ev)
		}
	}
	if strings.Contains(dump(msgs), "Missing CSP") {
		t.Fatal("the medium finding was posted; it waits for the digest")
	}

	// 3. The same findings at the next scan post nothing and page nothing.
	e.scanned(t, "acme", "ACME Corp")
	time.Sleep(300 * time.Millisecond) // deliveries of the scan's end, if any, go out now
	if n := len(alertMessages(e.fake.Messages(securityChannel))); n != 2 || len(e.pd.Events()) != 2 {
		t.Fatalf("the rescan posted or paged: %d alerts, %d events", n, len(e.pd.Events()))
	}

	// 4. Accepted (as a false positive): its incident closes; it stays quiet at the next scan.
	got := e.command(t, e.security, "findings accept "+sqliUUID[:8]+" 30d parameterised query, scanner confused --false-positive")
	if !strings.Contains(got, "Marked as a false positive") || !strings.Contains(got, "Its alert is resolved") {
		t.Fatalf("accept: %s", got)
	}
	if evs := e.events(t, 3); evs[2].EventAction != "resolve" || evs[2].DedupKey != "opsbot/finding/acme/"+sqliUUID {
		t.Fatalf("accept did not resolve the SQLi page: %+v", evs[2])
	}
	e.scanned(t, "acme", "ACME Corp")
	time.Sleep(300 * time.Millisecond)
	if n := len(e.pd.Events()); n != 3 {
		t.Fatalf("the accepted finding paged at the next scan: %+v", e.pd.Events())
	}
	// ... until its acceptance ends (moved to 2 s from now, as if 30 days had
	// passed), then it alerts again: a new message and a new page.
	st := store.New(e.rdb, "opsbot:")
	if err := st.AcceptFinding(context.Background(), store.Acceptance{ID: sqliUUID, Client: "acme", Until: time.Now().Add(2 * time.Second),
		Reason: "ends soon", By: e.security, At: time.Now(), FalsePositive: true}, "SQL injection"); err != nil {
		t.Fatal(err)
	}
	if evs := e.events(t, 4); evs[3].EventAction != "trigger" || evs[3].DedupKey != "opsbot/finding/acme/"+sqliUUID {
		t.Fatalf("no page when the acceptance ended: %+v", evs[3])
	}
	e.waitMessages(t, "the SQLi alert again", func(ms []slacktest.Message) bool { return len(alertMessages(ms)) == 3 })

	// 5. The XSS fix resolves its page and updates its message.
	e.dfy.SetStatus(xssUUID, "patched")
	scan = e.scanned(t, "acme", "ACME Corp")
	if !strings.Contains(string(scan.Blocks), "*Fixed* 1") {
		t.Fatalf("summary after the fix: %s", scan.Blocks)
	}
	if evs := e.events(t, 5); evs[4].EventAction != "resolve" || evs[4].DedupKey != "opsbot/finding/acme/"+xssUUID {
		t.Fatalf("the fix did not resolve the XSS page: %+v", evs[4])
	}
	e.waitMessages(t, "XSS alert FIXED in place", func(ms []slacktest.Message) bool {
		for _, m := range ms {
			if m.TS == xssMsg.TS && strings.Contains(string(m.Blocks), "FIXED") {
				return true
			}
		}
		return false
	})
	for _, inc := range e.pd.Incidents() {
		if inc.DedupKey == "opsbot/finding/acme/"+xssUUID && inc.Status != "resolved" {
			t.Fatalf("XSS incident = %+v", inc)
		}
	}
	// The accepted finding's first message says who resolved it.
	e.waitMessages(t, "SQLi alert resolved in place", func(ms []slacktest.Message) bool {
		for _, m := range ms {
			if m.TS == sqliMsg.TS && strings.Contains(string(m.Blocks), "RESOLVED") && strings.Contains(string(m.Blocks), e.security) {
				return true
			}
		}
		return false
	})

	// 6. ACME's stakeholder sees ACME's findings only, without the requests.
	e.dfy.ScriptScan(e.globex, detectifytest.Scan{Findings: []detectifytest.Finding{{UUID: "61000000-0000", Title: "Globex open redirect",
		Severity: "low", Host: "www.globex.test", Location: "https://www.globex.test/r?u="}}})
	e.scanned(t, "globex", "Globex Inc")
	if staff := e.command(t, e.security, "findings --all"); !strings.Contains(staff, "Globex open redirect") || !strings.Contains(staff, "GET https://shop.acme-corp.test") {
		t.Fatalf("security's list:\n%s", staff)
	}
	own := e.command(t, e.bob, "findings --all")
	if !strings.Contains(own, "SQL injection") || strings.Contains(own, "Globex") || strings.Contains(own, "GET https://") || strings.Contains(own, "SECRET") {
		t.Fatalf("ACME's stakeholder's list:\n%s", own)
	}
	if got := e.command(t, e.bob, "findings globex"); !strings.Contains(got, "is not one of the clients you can see") || strings.Contains(got, "redirect") {
		t.Fatalf("ACME's stakeholder asking for Globex:\n%s", got)
	}
	if got := e.command(t, e.bob, "scan acme"); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("a stakeholder started a scan:\n%s", got)
	}
}

func TestDetectifyBadInputEndToEnd(t *testing.T) {
	e := startScans(t)
	e.dfy.ScriptScan(e.acme, detectifytest.Scan{Findings: []detectifytest.Finding{xssFinding()}})
	e.scanned(t, "acme", "ACME Corp")
	messages := len(e.fake.Messages(securityChannel))
	st := store.New(e.rdb, "opsbot:")

	for in, want := range map[string]string{
		"scan nosuch":   "I don't know a client called",
		"scan umbrella": "does not pay for Detectify scans",
		"scan initech":  "not verified",
		"findings accept " + xssUUID[:8] + " 400d WAF rule":  "longer than the maximum of 30 days",
		"findings accept " + xssUUID[:8] + " 30d":            "Say why",
		"findings accept " + xssUUID[:8] + " 30d --fp maybe": "I don't know the option",
		"findings acme --severity urgent":                    "is not a severity",
	} {
		if got := e.command(t, e.security, in); !strings.Contains(got, want) {
			t.Errorf("/ops %s:\n%s", in, got)
		}
	}
	if e.dfy.Starts(e.initech) != 0 {
		t.Fatal("a scan of the unverified profile was started")
	}
	if run, ok, _ := st.LastScanRun(context.Background(), "initech"); ok {
		t.Fatalf("a refused scan was recorded: %+v", run)
	}
	ov, _ := st.FindingsOf(context.Background(), []string{"acme"})
	if len(ov.Acceptances["acme"]) != 0 {
		t.Fatalf("bad input stored an acceptance: %+v", ov.Acceptances)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.fake.Messages(securityChannel)); n != messages {
		t.Fatalf("bad input posted %d messages", n-messages)
	}
	if strings.Contains(e.logs.String(), detectifytest.Key) {
		t.Fatal("the Detectify key is in the log")
	}
}

// TestDetectifyKeyAndSecretNeverLogged: with a key that has a secret, every
// request is signed (the fake refuses unsigned ones) and a scan runs; with
// a key Detectify rejects, the person is told in words. Neither the key nor
// the secret reaches the logs (at debug level) or a reply.
func TestDetectifyKeyAndSecretNeverLogged(t *testing.T) {
	secret := []byte("detectify-test-secret-0123456789")
	b64 := base64.StdEncoding.EncodeToString(secret)
	e := startScansWith(t, map[string]string{"DETECTIFY_API_SECRET": b64}, func(f *detectifytest.Server) { f.SetSecret(secret) })
	e.dfy.ScriptScan(e.acme, detectifytest.Scan{Findings: []detectifytest.Finding{xssFinding()}})
	e.scanned(t, "acme", "ACME Corp")

	bad := startScansWith(t, map[string]string{"DETECTIFY_API_KEY": "rejected-key-9f8e7d6c5b4a39281"}, nil)
	got := bad.command(t, bad.security, "scan acme")
	if !strings.Contains(got, "Detectify refused opsbot's API key") || strings.Contains(got, "rejected-key") {
		t.Fatalf("rejected key: %s", got)
	}
	for name, logs := range map[string]string{"signed run": e.logs.String(), "rejected run": bad.logs.String()} {
		if !strings.Contains(logs, `"level":"DEBUG"`) {
			t.Fatalf("%s: debug logging was not on, so the scan proves little", name)
		}
		for _, s := range []string{detectifytest.Key, b64, "rejected-key-9f8e7d6c5b4a39281"} {
			if strings.Contains(logs, s) {
				t.Errorf("%s logs hold a Detectify secret %q", name, s)
			}
		}
	}
	if !strings.Contains(bad.logs.String(), "Detectify rejected the API key") {
		t.Fatalf("the rejection is not logged:\n%s", bad.logs)
	}
}
