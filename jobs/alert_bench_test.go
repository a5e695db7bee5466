package jobs_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// The alert latency goal: threshold crossed → Slack post and PagerDuty event
// recorded by the fakes, p99 ≤ 200 ms, and 1,000 simultaneous transitions
// delivered with none lost.
//
// Receive times come from the fakes themselves: slacktest records Call.At
// when the chat.postMessage request arrives, and pagerdutytest stamps an
// incident's CreatedAt (its clock, time.Now by default) when the trigger
// event that opens it is accepted. One new subject per transition, so one
// trigger opens one incident.

// benchRig is newRig for benchmarks (testing.TB) with tunable outbox options.
func benchRig(tb testing.TB, o jobs.OutboxOptions) *rig {
	tb.Helper()
	srv, fake, pd := redistest.Start(tb), slacktest.New(tb), pagerdutytest.New(tb)
	st := store.New(srv.Client(tb), "opsbot:")
	poster := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, st)
	pager := pagerduty.New(pagerduty.Config{APIURL: pd.URL, EventsURL: pd.URL}, nil, nil)
	o.RoutingKey = func(ref string) (string, bool) { return routingKey, ref == "acme" }
	ob := jobs.NewOutbox(st, poster, pager, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = ob.Run(ctx); close(done) }()
	r := &rig{st: st, slack: fake, pd: pd, al: jobs.NewAlerter(st, ob.Nudge)}
	r.stop = func() { cancel(); <-done }
	tb.Cleanup(r.stop)
	return r
}

// benchSubject is the i-th distinct subject; it fires on its first failure.
func benchSubject(i int) jobs.Subject {
	s := site
	s.Key = fmt.Sprintf("uptime/acme/site-%d", i)
	s.Name = fmt.Sprintf("site-%d.acme.example", i)
	s.URL = "https://" + s.Name + "/"
	s.Thresholds = store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	return s
}

var subjectInText = regexp.MustCompile(`site-(\d+)\.acme\.example`)

// subjectOf returns the subject index an alert post names, or -1.
func subjectOf(c slacktest.Call) int {
	m := subjectInText.FindStringSubmatch(c.Form.Get("text"))
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}

// fire observes the failure that crosses subj's threshold.
func fire(tb testing.TB, r *rig, subj jobs.Subject) {
	tr, err := r.al.Observe(context.Background(), subj, false, "status 503 (expected 2xx/3xx)", tick(0), false)
	if err != nil {
		tb.Error(err)
		return
	}
	if tr != store.Fired {
		tb.Errorf("%s: transition %v, want Fired", subj.Key, tr)
	}
}

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) in ms.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := max(int(math.Ceil(p/100*float64(len(s))))-1, 0)
	return float64(s[i]) / float64(time.Millisecond)
}

func reportLatency(b *testing.B, slack, pd []time.Duration) {
	b.ReportMetric(percentile(slack, 50), "slack-p50-ms")
	b.ReportMetric(percentile(slack, 99), "slack-p99-ms")
	b.ReportMetric(percentile(pd, 50), "pagerduty-p50-ms")
	b.ReportMetric(percentile(pd, 99), "pagerduty-p99-ms")
}

// BenchmarkAlertLatency fires b.N transitions one at a time, waiting for
// both deliveries before the next, so the latency measured is not queueing.
func BenchmarkAlertLatency(b *testing.B) {
	r := benchRig(b, jobs.OutboxOptions{BaseBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond})
	const timeout = 10 * time.Second
	// One warm-up transition (index -1 is never matched below) opens the
	// HTTP connections; it is not measured.
	warm := benchSubject(0)
	warm.Key, warm.Name, warm.URL = "uptime/acme/warmup", "warmup.acme.example", ""
	fire(b, r, warm)
	if _, err := r.pd.WaitEvents(1, timeout); err != nil {
		b.Fatal(err)
	}
	if _, err := r.slack.WaitCall("chat.postMessage", nil, timeout); err != nil {
		b.Fatal(err)
	}

	slackLat := make([]time.Duration, 0, b.N)
	pdLat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		subj := benchSubject(i)
		t0 := time.Now()
		fire(b, r, subj)
		post, err := r.slack.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return subjectOf(c) == i }, timeout)
		if err != nil {
			b.Fatalf("transition %d: no Slack post: %v", i, err)
		}
		if _, err := r.pd.WaitEvents(i+2, timeout); err != nil {
			b.Fatalf("transition %d: no PagerDuty event: %v", i, err)
		}
		incidents := r.pd.Incidents()
		k := slices.IndexFunc(incidents, func(in pagerdutytest.Incident) bool { return in.DedupKey == "opsbot/"+subj.Key })
		if k < 0 {
			b.Fatalf("transition %d: no incident for %s", i, subj.Key)
		}
		slackLat = append(slackLat, post.At.Sub(t0))
		pdLat = append(pdLat, incidents[k].CreatedAt.Sub(t0))
	}
	b.StopTimer()
	reportLatency(b, slackLat, pdLat)
}

// BenchmarkAlertBurst1000 fires 1,000 transitions at once (one goroutine
// each, released together) and waits until both fakes have all 1,000; each
// iteration uses a fresh rig, so -benchtime 1x runs it once.
func BenchmarkAlertBurst1000(b *testing.B) {
	const n = 1000
	const timeout = 50 * time.Second
	for range b.N {
		b.StopTimer()
		r := benchRig(b, jobs.OutboxOptions{Workers: 64,
			BaseBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond})
		subjects := make([]jobs.Subject, n)
		for i := range subjects {
			subjects[i] = benchSubject(i)
		}
		t0 := make([]time.Time, n)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-gate
				t0[i] = time.Now()
				fire(b, r, subjects[i])
			})
		}
		b.StartTimer()
		start := time.Now()
		close(gate)
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}

		// Slack: the first chat.postMessage naming each subject.
		slackAt := make(map[int]time.Time, n)
		_, err := r.slack.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
			if i := subjectOf(c); i >= 0 {
				if _, seen := slackAt[i]; !seen {
					slackAt[i] = c.At
				}
			}
			return len(slackAt) >= n
		}, timeout)
		if err != nil {
			b.Fatalf("%d of %d alerts posted to Slack: %v", len(slackAt), n, err)
		}
		if evs, err := r.pd.WaitEvents(n, timeout); err != nil {
			b.Fatalf("%d of %d PagerDuty events: %v", len(evs), n, err)
		}
		b.StopTimer()

		// Let any stray redelivery land before counting duplicates.
		time.Sleep(500 * time.Millisecond)
		var slackLat, pdLat []time.Duration
		last := start
		for i, at := range slackAt {
			slackLat = append(slackLat, at.Sub(t0[i]))
			last = later(last, at)
		}
		index := make(map[string]int, n)
		for i, s := range subjects {
			index["opsbot/"+s.Key] = i
		}
		for _, in := range r.pd.Incidents() {
			if i, ok := index[in.DedupKey]; ok {
				pdLat = append(pdLat, in.CreatedAt.Sub(t0[i]))
				last = later(last, in.CreatedAt)
			}
		}

		posts := r.slack.Calls("chat.postMessage")
		top := topLevel(r.slack.Messages(site.Channel))
		texts := map[string]bool{}
		for _, m := range top {
			texts[m.Text] = true
		}
		events := r.pd.Events()
		keys := map[string]bool{}
		triggers := 0
		for _, ev := range events {
			if ev.EventAction == "trigger" {
				triggers++
				keys[ev.DedupKey] = true
			}
		}
		if len(posts) != n || len(top) != n || len(texts) != n {
			b.Fatalf("Slack: %d chat.postMessage calls, %d top-level messages, %d distinct texts; want %d each",
				len(posts), len(top), len(texts), n)
		}
		if len(events) != n || triggers != n || len(keys) != n || len(pdLat) != n {
			b.Fatalf("PagerDuty: %d events, %d triggers, %d distinct dedup keys, %d incidents; want %d each",
				len(events), triggers, len(keys), len(pdLat), n)
		}
		b.ReportMetric(float64(last.Sub(start))/float64(time.Millisecond), "deliver-all-ms")
		reportLatency(b, slackLat, pdLat)
		r.stop()
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
