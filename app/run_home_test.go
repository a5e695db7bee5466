package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// Home end to end: opening the tab publishes the person's Home; three
// alerts acknowledged in a burst (through opsbot's own alerter) refresh it
// once, not three times; /ops home refreshes it too.
func TestAppHomePublishedAndRefreshedOncePerBurst(t *testing.T) {
	o, pd := startWithPagerDuty(t)
	pd.AddUser("PALICE1", "Alice", "alice@example.com")
	o.command(t, admin, "role grant @alice support")
	st := store.New(o.redis.Connect(t), "opsbot:")
	al := jobs.NewAlerter(st, nil)
	for _, name := range []string{"api", "shop", "www"} {
		subj := jobs.Subject{Key: "uptime/acme/" + name, Monitor: "uptime", Client: "acme", ClientName: "Acme Ltd", Name: name, Site: name,
			Channel: "C0ACMEALRT", PagerRef: "acme", Thresholds: store.Thresholds{FailAfter: 1, RecoverAfter: 1}}
		if _, err := al.Observe(context.Background(), subj, false, "HTTP 503", time.Now(), false); err != nil {
			t.Fatal(err)
		}
	}
	o.fake.AppHomeOpened("UALICE0001")
	if _, err := o.fake.WaitCall("views.publish", func(slacktest.Call) bool { return len(o.fake.HomeViews("UALICE0001")) > 0 }, wait); err != nil {
		t.Fatalf("Home not published when opened: %v\n%s", err, o.logs)
	}
	if body := bodyOf(o.fake.HomeViews("UALICE0001")[0]); !strings.Contains(body, "Sites down and incidents open (3)") || !strings.Contains(body, `"type":"home"`) {
		t.Fatalf("Home = %s", body)
	}
	for _, name := range []string{"api", "shop", "www"} {
		if got := o.replyTo(t, func() string {
			return o.fake.BlockAction("UALICE0001", slacktest.BlockAction{ActionID: "alert_ack", BlockID: "alert_actions", Value: "uptime/acme/" + name,
				ChannelID: "C0ACMEALRT", MessageTS: "1700000000.000100"})
		}); !strings.Contains(got, "Acknowledged") {
			t.Fatalf("ack %s: %s", name, got)
		}
	}
	// One refresh after the burst (the window after the first publish is 5 s).
	deadline := time.Now().Add(10 * time.Second)
	for len(o.fake.HomeViews("UALICE0001")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // a second refresh would come within the gather time
	views := o.fake.HomeViews("UALICE0001")
	if len(views) != 2 {
		t.Fatalf("%d Home publishes for alice, want 2 (opened, then one for the burst of three acknowledgements)", len(views))
	}
	if body := bodyOf(views[1]); strings.Count(body, `acknowledged by \u003c@UALICE0001\u003e`) != 3 {
		t.Fatalf("refreshed Home does not show the three acknowledgements: %s", body)
	}
	if got := o.command(t, "UALICE0001", "home"); !strings.Contains(got, "Your Home is refreshed") {
		t.Fatalf("/ops home: %s", got)
	}
	if _, err := o.fake.WaitCall("views.publish", func(c slacktest.Call) bool { return len(o.fake.HomeViews("UALICE0001")) >= 3 }, 10*time.Second); err != nil {
		t.Fatalf("/ops home did not publish: %v", err)
	}
}

// bodyOf is a JSON call's body as JSON text.
func bodyOf(c slacktest.Call) string {
	b, _ := json.Marshal(c.JSON)
	return string(b)
}
