package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/detectify"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

const xss = "e26b149d-a124-44a6-a6c0-7f1e2b3c4d5e"

func TestScanProgressThenFindingsAlertOnTransitionsOnly(t *testing.T) {
	r := newScanRig(t)
	ctx := context.Background()
	r.fake.ScriptScan(r.acme, detectifytest.Scan{
		Steps:    []detectifytest.Step{{Phase: "crawling", State: "running"}, {Phase: "scanning", State: "running"}},
		Findings: []detectifytest.Finding{high(xss, "search"), medium("m-1")},
	})
	run, err := r.scans.Start(ctx, "acme", "USEC1")
	if err != nil || run.Status != store.ScanRunning || r.fake.Starts(r.acme) != 1 {
		t.Fatalf("start = %+v, %v (starts %d)", run, err, r.fake.Starts(r.acme))
	}
	key := run.MessageKey()
	if msgs := r.messages(t, key); len(msgs) != 1 || !strings.Contains(msgs[0], "Acme &lt;Ltd&gt;") || !strings.Contains(msgs[0], "<@USEC1>") {
		t.Fatalf("first message = %v", msgs)
	}
	if _, err := r.scans.Start(ctx, "acme", "USEC2"); !errors.Is(err, jobs.ErrScanRunExists) || r.fake.Starts(r.acme) != 1 {
		t.Fatalf("second start = %v; want ErrScanRunExists and no second scan", err)
	}
	r.tick(t) // crawling
	r.tick(t) // scanning
	r.tick(t) // unchanged phase? no: the scan ends at this poll
	msgs := r.messages(t, key)
	if !contains(msgs, "crawling") || !contains(msgs, "scanning") {
		t.Fatalf("progress not shown: %v", msgs)
	}
	run, _, _ = r.st.LastScanRun(ctx, "acme")
	if run.Status != store.ScanDone || run.Summary == nil || run.Summary.New != 2 {
		t.Fatalf("run = %+v", run)
	}
	last := msgs[len(msgs)-1]
	if !strings.Contains(last, "finished") || !strings.Contains(last, "*New* 2") || !strings.Contains(last, "1 high, 1 medium") {
		t.Fatalf("final message = %s", last)
	}
	alertKey := jobs.FindingAlertKey("acme", xss)
	if ev := pagerEvents(t, r.rdb, alertKey); len(ev) != 1 || ev[0]["Action"] != "trigger" || ev[0]["Severity"] != "error" ||
		!strings.Contains(ev[0]["Summary"].(string), "High finding: Reflected <script> XSS at https://shop.acme.example/search (A03:2021 Injection)") {
		t.Fatalf("pages = %+v", ev)
	}
	if k := r.kinds(t); k["slack.alert"] != 1 || k["pagerduty"] != 1 {
		t.Fatalf("queued = %v; want one alert message and one page (the medium waits for the digest)", k)
	}
	a, _, _ := r.st.GetAlert(ctx, alertKey)
	if a.Status != store.AlertFiring || a.Channel != securityChannel || a.DedupKey() != "opsbot/finding/acme/"+xss {
		t.Fatalf("alert = %+v", a)
	}

	// The same findings at the next scan: nothing posted or paged.
	r.clearOutbox(t)
	run = r.scanToEnd(t)
	if k := r.kinds(t); k["slack.alert"] != 0 || k["pagerduty"] != 0 || run.Summary.StillOpen != 2 || run.Summary.New != 0 {
		t.Fatalf("rescan queued %v, summary %+v", k, run.Summary)
	}

	// Patched: the incident is resolved and the message updated.
	r.clearOutbox(t)
	r.fake.SetStatus(xss, "patched")
	run = r.scanToEnd(t)
	if ev := pagerEvents(t, r.rdb, alertKey); len(ev) != 1 || ev[0]["Action"] != "resolve" || run.Summary.Fixed != 1 {
		t.Fatalf("after the fix: pages %+v, summary %+v", ev, run.Summary)
	}
	if a, _, _ := r.st.GetAlert(ctx, alertKey); a.Status != store.AlertResolved {
		t.Fatalf("alert after the fix = %s", a.Status)
	}
	// Listed active again: reopened, posted and paged once more.
	r.clearOutbox(t)
	r.fake.SetStatus(xss, "active")
	run = r.scanToEnd(t)
	if ev := pagerEvents(t, r.rdb, alertKey); len(ev) != 1 || ev[0]["Action"] != "trigger" || run.Summary.Reopened != 1 {
		t.Fatalf("reopened: pages %+v, summary %+v", ev, run.Summary)
	}
}

func TestFindingAbsentFromACompletedScanIsFixedButNotFromAStoppedOne(t *testing.T) {
	r := newScanRig(t)
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{high(xss, "a")}})
	r.scanToEnd(t)
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Outcome: "stopped", Findings: []detectifytest.Finding{}})
	r.fake.SetFindings(r.acme, nil) // a stopped scan lists nothing
	run := r.scanToEnd(t)
	if run.Summary.Fixed != 0 || !strings.Contains(strings.Join(r.messages(t, run.MessageKey()), " "), "stopped") {
		t.Fatalf("a stopped scan fixed findings: %+v", run.Summary)
	}
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{}})
	run = r.scanToEnd(t)
	if run.Summary.Fixed != 1 {
		t.Fatalf("a completed scan without it did not fix it: %+v", run.Summary)
	}
}

func TestFindingsBelongToTheNearestProfile(t *testing.T) {
	r := newScanRig(t)
	other := detectifytest.Finding{UUID: "b-1", Title: "Open redirect", Severity: "high", Host: "www.acme.example", Location: "https://www.acme.example/r", CWE: 601}
	r.fake.SetFindings(r.beta, []detectifytest.Finding{other})
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{high(xss, "a")}})
	r.scanToEnd(t)
	fs, _, _ := r.st.ClientFindings(context.Background(), "acme")
	if len(fs) != 1 || fs[xss].Host != "shop.acme.example" {
		t.Fatalf("acme's findings = %+v; want only shop.acme.example's, not beta's acme.example", fs)
	}
}

func TestAcceptedFindingStaysQuietUntilExpiry(t *testing.T) {
	r := newScanRig(t)
	ctx := context.Background()
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{medium("m-1")}})
	r.scanToEnd(t)
	// The medium finding becomes high while accepted: quiet.
	if err := r.st.AcceptFinding(ctx, store.Acceptance{ID: "m-1", Client: "acme", Until: r.now().Add(2 * time.Hour), Reason: "WAF rule",
		By: "USEC1", At: r.now()}, "Missing CSP"); err != nil {
		t.Fatal(err)
	}
	upgraded := medium("m-1")
	upgraded.Severity = "critical"
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{upgraded}})
	r.clearOutbox(t)
	r.scanToEnd(t)
	if k := r.kinds(t); k["pagerduty"] != 0 || k["slack.alert"] != 0 {
		t.Fatalf("accepted finding alerted: %v", k)
	}
	r.advance(2 * time.Hour) // the acceptance ends
	r.tick(t)
	ev := pagerEvents(t, r.rdb, jobs.FindingAlertKey("acme", "m-1"))
	if len(ev) != 1 || ev[0]["Action"] != "trigger" || ev[0]["Severity"] != "critical" {
		t.Fatalf("after expiry: pages %+v", ev)
	}
	r.tick(t)
	if ev := pagerEvents(t, r.rdb, jobs.FindingAlertKey("acme", "m-1")); len(ev) != 1 {
		t.Fatalf("paged again at the next pass: %+v", ev)
	}
	if log, _ := r.st.RecentAudit(ctx, 1); log[0].Action != "finding.accept_expired" {
		t.Fatalf("expiry not audited: %+v", log)
	}
}

func TestScanRefusedWhenNoProfileCanBeScanned(t *testing.T) {
	r := newScanRig(t)
	r.fake.SetVerified(r.acme, false)
	_, err := r.scans.Start(context.Background(), "acme", "USEC1")
	var refused *integrations.ScanRefusedError
	if !errors.As(err, &refused) || len(refused.NotVerified) != 1 || !strings.Contains(refused.Reasons[r.acme], "not verified") {
		t.Fatalf("unverified = %v", err)
	}
	if _, ok, _ := r.st.LastScanRun(context.Background(), "acme"); ok || len(outbox(t, r.rdb)) != 0 {
		t.Fatal("a refused scan left a run or a message")
	}
	if _, err := r.scans.Start(context.Background(), "nope", "U1"); !errors.Is(err, jobs.ErrUnknownScanClient) {
		t.Fatalf("unknown client = %v", err)
	}
	// The schedule posts its refusal to the security channel.
	if err := r.scans.Scheduled("acme").Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := outbox(t, r.rdb)
	if len(q) != 1 || q[0].Kind != "slack.post" || q[0].Payload["channel"] != securityChannel || !strings.Contains(q[0].Payload["text"].(string), "not verified") {
		t.Fatalf("scheduled refusal = %+v", q)
	}
}

func TestScanAlreadyRunningAtDetectifyIsFollowed(t *testing.T) {
	r := newScanRig(t)
	r.fake.StartElsewhere(r.acme)
	run, err := r.scans.Start(context.Background(), "acme", "USEC1")
	if err != nil || !strings.Contains(run.Profiles[0].Note, "already running") {
		t.Fatalf("start over a running scan = %+v, %v", run, err)
	}
	r.tick(t)
	r.tick(t)
	run, _, _ = r.st.LastScanRun(context.Background(), "acme")
	if run.Status != store.ScanDone {
		t.Fatalf("followed scan = %+v", run)
	}
}

func TestFindingsReadFailureKeepsTheRunGoing(t *testing.T) {
	r := newScanRig(t)
	if _, err := r.scans.Start(context.Background(), "acme", "USEC1"); err != nil {
		t.Fatal(err)
	}
	r.tick(t) // scanning
	// The scan ends at the next poll, then the findings answer 503 (five times).
	for range 5 {
		r.fake.FailNextOn("/rest/v2/vulnerabilities/", 503, nil, "")
	}
	if err := r.scans.Run(context.Background()); err == nil {
		t.Fatal("no error from a failed read")
	}
	run, _, _ := r.st.LastScanRun(context.Background(), "acme")
	if run.Finished() || !strings.Contains(run.Error, "reading its findings failed") {
		t.Fatalf("run after a failed read = %+v", run)
	}
	r.tick(t)
	if run, _, _ = r.st.LastScanRun(context.Background(), "acme"); run.Status != store.ScanDone || run.Error != "" {
		t.Fatalf("run after the retry = %+v", run)
	}
}

func TestFindingsDigest(t *testing.T) {
	r := newScanRig(t)
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Findings: []detectifytest.Finding{high(xss, "a"), medium("m-1"),
		{UUID: "i-1", Title: "Server banner", Severity: "information", Host: "shop.acme.example"}}})
	r.scanToEnd(t)
	r.clearOutbox(t)
	if err := r.scans.Digest().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := outbox(t, r.rdb)
	if len(q) != 1 || q[0].Kind != store.KindKeptMessage || q[0].Payload["channel"] != securityChannel {
		t.Fatalf("digest = %+v", q)
	}
	text := strings.Join(r.messages(t, q[0].Subject), " ")
	if !strings.Contains(text, "Acme &lt;Ltd&gt;*: 1 new, 1 open") || !strings.Contains(text, "Missing CSP") ||
		strings.Contains(text, "Reflected") || strings.Contains(text, "Server banner") {
		t.Fatalf("digest text = %s; want the medium only (high is paged, information routed to none)", text)
	}
}

// TestScheduledScanRunsOnceAcrossThreeReplicas: three opsbot replicas, each
// with its scheduler and scan monitor on one Redis, fire a client's
// schedule: one replica starts the scan at Detectify, once.
func TestScheduledScanRunsOnceAcrossThreeReplicas(t *testing.T) {
	r := newScanRigClock(t, true)
	r.fake.ScriptScan(r.acme, detectifytest.Scan{Steps: make([]detectifytest.Step, 50)}) // still running when the test ends
	srv := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range 3 {
		st := store.New(srv.Client(t), "opsbot:")
		src := detectify.New(detectify.Config{APIURL: r.fake.APIURL(), Key: detectifytest.Key}, r.fake.Client(), nil)
		scans := jobs.NewScans([]jobs.ScanClient{{Key: "acme", Name: "Acme", Profiles: []string{r.acme}}}, src, st, jobs.NewAlerter(st, nil),
			jobs.ScanOptions{Channel: securityChannel})
		sched := jobs.NewScheduler(st, st, jobs.Options{})
		if err := sched.Add("@every 1s", scans.Scheduled("acme")); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = sched.Run(ctx) }()
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.fake.Requests("POST /rest/v2/scans/{token}/") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // two more fires
	if n := r.fake.Requests("POST /rest/v2/scans/{token}/"); n != 1 {
		t.Fatalf("%d scan starts reached Detectify; want 1 (one replica, and later fires find it running)", n)
	}
	st := store.New(srv.Client(t), "opsbot:")
	log, _ := st.RecentAudit(context.Background(), 10)
	if len(log) != 1 || log[0].Action != "scan.start" || log[0].Actor != store.BotActor {
		t.Fatalf("audit = %+v; want one scan.start by opsbot", log)
	}
}
