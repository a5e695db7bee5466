package app

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoScript pipes testdata/demo.script (the tour of the README) into
// `opsbot demo`: status, a site taken down and its alert acknowledged
// (PagerDuty as the person), cost with its chart, servers with one in
// breach, Shield for the security role, a stakeholder kept to their client, and a change request from the
// demo GitHub issue through four eyes and the approvals of the stakeholder
// and finance (/as) to the cut-over and the rollback of its DNS record.
func TestDemoScript(t *testing.T) {
	script, err := os.ReadFile("testdata/demo.script")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"USER": "newcomer", "REDIS_URL": "redis://must-not-be-used:1", "SLACK_BOT_TOKEN": botToken, "SLACK_APP_TOKEN": appToken}
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	code := Run(ctx, []string{"opsbot", "demo"}, func(k string) string { return env[k] }, bytes.NewReader(script), &out, &errOut)
	got := out.String()
	if code != exitOK {
		t.Fatalf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", code, time.Since(start), got, errOut.String())
	}
	t.Logf("the script ran in %v", time.Since(start))
	if strings.Contains(errOut.String(), "level=ERROR") || strings.Contains(errOut.String(), "level=WARN") {
		t.Errorf("the demo logged problems:\n%s", errOut.String())
	}
	// In this order in the transcript.
	steps := []string{
		"opsbot DEMO: everything here is made up",
		"#ops-support: 🔴 acme-web-2 (demo)", "is IN BREACH", // the first look at the servers
		"#security: 🔴 Shield — ACME Ltd (demo)", // and at Shield
		"ops> /ops status", "2 clients · 4 sites: 4 up, 0 down",
		"ops> /demo down shop", "#acme-alerts: 🔴 shop", "is DOWN", "[1] Acknowledge  [2] Resolve  [3] Silence 1h",
		"ops> [Acknowledge]", "PagerDuty incident #", "acknowledged as you@demo.example", "Acknowledged by @newcomer",
		"ops> /demo up shop", "is RECOVERED",
		"ops> /ops cost acme", "(direct message) ACME Ltd (demo) — AWS cost", "Forecast to month end",
		"ops> /ops servers acme", "🟠 CPU high acme-web-2 (demo)",
		"ops> /ops oncall", "sam (sam@demo.example)",
		"ops (as @sasha)> /ops shield acme", "1 unprotected, 1 protected",
		"ops (as @stella)> /ops cost globex", `"globex" is not one of the clients you can see`,
		"ops> /ops role grant @erin finance", "@erin is now finance",
		"ops (as @erin)> /ops change " + demoIssueURL, "CR-1 is open: its message in #ops-support",
		"#ops-support: CR-1 · CHECKOUT TIMES OUT UNDER LOAD (DEMO)",
		"ops (as @sam)> [Start investigating]", "CR-1 is now investigating",
		"ops (as @sam)> [Propose a change]", "approval is asked of stakeholder and finance",
		"(direct message to @fiona)", "(direct message to @stella)",
		"ops (as @erin)> [Approve]", "Four eyes: you requested or proposed CR-1",
		"ops (as @fiona)> [Approve]", "approval of CR-1 as finance is recorded",
		"ops (as @stella)> [Approve]", "Every required approval is in",
		"ops (as @sam)> [Schedule]", "Deploy freeze for ACME Ltd (demo)",
		"ops (as @sam)> [Run smoke checks]", "smoke checks: 0 of 1 passed",
		"ops> [Waive checks (admin)]", "Smoke checks of CR-1 waived",
		"ops (as @sam)> [Cut over DNS]", "Switching DNS for CR-1", "waiting until it is in sync",
		"DNS switched (change /change/", "in sync)",
		"ops (as @sam)> [Roll back DNS]", "Rolling back DNS for CR-1", "DNS restored to the kept records", "cut over → rolled back",
		"#finance: 🗒️ Change log: CR-1",
		"ops (as @fiona)> /ops changelog", "1 change: 1 rolled back",
		"ops> /ops audit 5", "change.rollback CR-1",
	}
	rest := got
	for _, s := range steps {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("the transcript lacks %q after the earlier steps:\n%s", s, got)
		}
		rest = rest[i+len(s):]
	}
	for _, bad := range []string{"went wrong", "There is no button", "Several buttons", "✗ Answer y or n", "##"} {
		if strings.Contains(got, bad) {
			t.Errorf("the transcript has %q:\n%s", bad, got)
		}
	}
	// The chart is a PNG file where the DM says.
	m := regexp.MustCompile(`\(direct message\) ACME Ltd \(demo\) — AWS cost, [^:]+: (\S+\.png)`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no chart path in the transcript")
	}
	png, err := os.ReadFile(m[1])
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("chart %s: %d bytes, %v; want a PNG", m[1], len(png), err)
	}
	os.Remove(m[1])
}

// TestDemoSitesDownAndUp: /demo switches a StatusCake-watched demo site as
// well as the local one (opsbot polls at once), and answers a wrong site or
// verb with what it knows.
func TestDemoSitesDownAndUp(t *testing.T) {
	script := "/demo down www\n/demo down globex/api\n/ops status globex\n/demo up api\n/demo sideways\n"
	var out, errOut syncBuffer
	if code := Run(context.Background(), []string{"opsbot", "demo"}, func(string) string { return "" }, strings.NewReader(script), &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	rest := out.String()
	for _, s := range []string{
		"ops> /demo down www", "Which demo site? One of shop, acme/www, globex/www, globex/api",
		"ops> /demo down globex/api", "StatusCake (demo) now reports globex/api down", "#globex-alerts: 🔴 api", "is DOWN",
		"ops> /ops status globex", "1 up, 1 down",
		"ops> /demo up api", "#globex-alerts (updated): 🟢 api", "is RECOVERED",
		"ops> /demo sideways", "/demo knows down <site>, up <site> and help",
	} {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("the transcript lacks %q after the earlier steps:\n%s", s, out.String())
		}
		rest = rest[i+len(s):]
	}
}
