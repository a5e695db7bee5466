package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
)

// The whole program probes a real local target from its config: down →
// one alert in the client's channel and one PagerDuty trigger; back up →
// the message updated in place, a recovery line in its thread, resolved.
func TestProbedSiteAlertsAndRecoversEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real probe intervals (10 s minimum)")
	}
	var healthy atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("all good"))
	}))
	defer target.Close()
	pd := pagerdutytest.New(t)
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `uptime:
  allow_private: true
clients:
  acme:
    channels:
      alerts: "#acme-alerts"
    sites:
      - name: api
        url: ` + target.URL + `/health
        fail_after: 1
        recover_after: 1
        probe:
          interval: 10s
          timeout: 2s
          keyword: all good
integrations:
  pagerduty:
    api_url: ` + pd.URL + `
    events_url: ` + pd.URL + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	o := start(t, map[string]string{"OPSBOT_CONFIG": cfg, "PAGERDUTY_ROUTING_KEY": pdRoutingKey})

	inChannel := func(c slacktest.Call) bool {
		return c.Form.Get("channel") == "C0ACMEALRT" && c.Form.Get("thread_ts") == ""
	}
	post, err := o.fake.WaitCall("chat.postMessage", inChannel, 25*time.Second)
	if err != nil {
		t.Fatalf("no alert within two probe intervals: %v\n%s", err, o.logs)
	}
	if !strings.Contains(post.Form.Get("text"), "api is DOWN") || !strings.Contains(post.Form.Get("blocks"), "status 503") {
		t.Fatalf("alert = %q %s", post.Form.Get("text"), post.Form.Get("blocks"))
	}
	if ev, err := pd.WaitEvents(1, 5*time.Second); err != nil || ev[0].EventAction != "trigger" || ev[0].RoutingKey != pdRoutingKey {
		t.Fatalf("trigger = %+v, %v", ev, err)
	}
	if got := o.command(t, admin, "status acme"); !strings.Contains(got, "down") {
		t.Fatalf("status while down:\n%s", got)
	}

	healthy.Store(true)
	if _, err := o.fake.WaitCall("chat.update", nil, 25*time.Second); err != nil {
		t.Fatalf("alert message not updated on recovery: %v", err)
	}
	if _, err := o.fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("thread_ts") != "" }, 5*time.Second); err != nil {
		t.Fatalf("no recovery line in the thread: %v", err)
	}
	events, err := pd.WaitEvents(2, 5*time.Second)
	if err != nil || events[1].EventAction != "resolve" {
		t.Fatalf("events = %+v, %v", events, err)
	}
	if n := len(o.fake.Calls("chat.postMessage")); n < 2 {
		t.Fatalf("posts = %d", n)
	}
	var top int
	for _, m := range o.fake.Messages("C0ACMEALRT") {
		if m.ThreadTS == "" {
			top++
		}
	}
	if top != 1 {
		t.Fatalf("%d alert messages, want exactly 1", top)
	}
	_, body := o.get(t, "/metrics")
	for _, want := range []string{"opsbot_outbox_dead_letters 0", "opsbot_probe_checks_total", "opsbot_probe_jitter_p99_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, grep(body, "opsbot_"))
		}
	}
}
