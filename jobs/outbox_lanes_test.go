package jobs_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/store/redistest"
)

// Slack answers 429 with Retry-After: 15 to the alert's first post. The
// PagerDuty resolve queued while that post waits is delivered at once: a
// rate-limited Slack holds up neither the pager nor a worker.
func TestSlackRateLimitDoesNotHoldUpPagerDuty(t *testing.T) {
	fake, pd := slacktest.New(t), pagerdutytest.New(t)
	fake.FailNext("chat.postMessage", http.StatusTooManyRequests, "", http.Header{"Retry-After": {"15"}})
	r := newRig(t, redistest.Start(t), fake, pd)
	for i := range 3 {
		r.observe(t, false, tick(i))
	}
	if _, err := pd.WaitEvents(1, 5*time.Second); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	if _, err := fake.WaitCall("chat.postMessage", nil, 5*time.Second); err != nil {
		t.Fatalf("the first post never reached Slack: %v", err)
	}
	start := time.Now()
	r.observe(t, true, tick(3))
	r.observe(t, true, tick(4)) // recovered: the resolve is queued now
	events, err := pd.WaitEvents(2, 10*time.Second)
	took := time.Since(start)
	if err != nil || events[1].EventAction != "resolve" {
		t.Fatalf("resolve: %v %+v", err, events)
	}
	t.Logf("PagerDuty resolve delivered %v after it was queued, Slack still waiting out Retry-After: 15", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Fatalf("resolve took %v behind a rate-limited Slack, want within 2s", took)
	}
	if n := len(fake.Messages("C0ACMEALRT")); n != 0 {
		t.Fatalf("%d messages posted before Retry-After ended", n)
	}
	// Nothing is lost: once Retry-After has passed, the alert's message is
	// posted (already showing it recovered) and its thread gets the line.
	deadline := time.Now().Add(25 * time.Second)
	for len(topLevel(fake.Messages("C0ACMEALRT"))) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(topLevel(fake.Messages("C0ACMEALRT"))); n != 1 {
		t.Fatalf("%d alert messages after Retry-After, want 1", n)
	}
}
