package jobs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/integrations/statuscake"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// The page names the client and the reason, and links back to the site and
// to the alert's Slack message (posted before the page went out here: the
// first enqueue is refused with a Retry-After).
func TestPageSaysWhoseAndWhyAndLinksBack(t *testing.T) {
	pd := pagerdutytest.New(t)
	pd.FailEnqueue(pagerdutytest.Response{Status: 429, RetryAfter: time.Second})
	r := newRig(t, redistest.Start(t), slacktest.New(t), pd)
	api := site
	api.Name, api.ClientName, api.URL = "api", "ACME Ltd", "https://api.acme.example/"
	for i := range 3 {
		if _, err := r.al.Observe(context.Background(), api, false, "HTTP 503", tick(i), false); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := pd.WaitEvents(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	if ev.Payload.Summary != "ACME Ltd — api down: HTTP 503" {
		t.Errorf("summary = %q", ev.Payload.Summary)
	}
	if ev.Payload.CustomDetails["client_name"] != "ACME Ltd" || ev.Payload.Group != "acme" {
		t.Errorf("details = %+v, group %q", ev.Payload.CustomDetails, ev.Payload.Group)
	}
	top := waitTop(t, r.slack, 1)
	msgURL := chat.MessageURL("C0ACMEALRT", top[0].TS)
	if ev.ClientURL != msgURL {
		t.Errorf("client_url = %q, want the alert message %q", ev.ClientURL, msgURL)
	}
	hrefs := []string{}
	for _, l := range ev.Links {
		hrefs = append(hrefs, l.Href)
	}
	if !slices.Contains(hrefs, "https://api.acme.example/") || !slices.Contains(hrefs, msgURL) {
		t.Errorf("links = %v, want the site and the Slack message", hrefs)
	}
	if !strings.Contains(string(top[0].Blocks), "ACME Ltd") {
		t.Errorf("message does not name the client: %s", top[0].Blocks)
	}
}

// A page that goes out before its Slack message points at the channel.
func TestPageBeforeItsMessageLinksTheChannel(t *testing.T) {
	fake := slacktest.New(t)
	fake.FailNext("chat.postMessage", http.StatusTooManyRequests, "", http.Header{"Retry-After": {"2"}})
	r := newRig(t, redistest.Start(t), fake, pagerdutytest.New(t))
	for i := range 3 {
		r.observe(t, false, tick(i))
	}
	evs, err := r.pd.WaitEvents(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].ClientURL != "https://slack.com/app_redirect?channel=C0ACMEALRT" {
		t.Errorf("client_url = %q, want the alert channel", evs[0].ClientURL)
	}
}

// A StatusCake test that is down alerts with StatusCake's status code.
func TestStatusCakeAlertCarriesTheStatusCode(t *testing.T) {
	r := newRig(t, redistest.Start(t), slacktest.New(t), pagerdutytest.New(t))
	sc := statuscaketest.New(t)
	id := sc.AddTest(statuscaketest.Test{Name: "www", WebsiteURL: "https://www.acme.example/", Status: "down"})
	sc.AddRun(id, statuscaketest.Run{At: time.Now().Add(-time.Minute), Location: "UKCON2", StatusCode: 503})
	s := uptimeSite("uptime/acme/www", "www", id)
	s.ClientName, s.Thresholds = "ACME Ltd", store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	u := jobs.NewUptime([]jobs.UptimeSite{s}, r.al, r.st, nil, nil)
	client := statuscake.New(statuscake.Config{APIURL: sc.URL, Token: statuscaketest.Token}, nil, nil)
	poll := jobs.StatusCakePoll{U: u, Source: client, Detail: client}
	for range 2 {
		if err := poll.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := r.pd.WaitEvents(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := evs[0].Payload.Summary; got != "ACME Ltd — www.acme.example down: HTTP 503 from UKCON2 (StatusCake)" {
		t.Errorf("summary = %q", got)
	}
	if n := sc.Requests("/v1/uptime/" + id + "/history"); n != 1 {
		t.Errorf("%d history reads for two polls, want 1 (the reason is kept a while)", n)
	}
	statuses, _ := r.st.SiteStatuses(context.Background())
	if len(statuses) != 1 || statuses[0].Error != "HTTP 503 from UKCON2 (StatusCake)" {
		t.Errorf("status = %+v", statuses)
	}
}

// Server alerts name the client by its name, in Slack and in the page, and
// their Resolve button says what happens if it is still in breach.
func TestServerAlertNamesTheClient(t *testing.T) {
	r := newServerRig(t, acmeClient())
	bad := web("i-1", "t3.medium")
	bad.InstanceStatus = "impaired"
	r.src.set("acme", integrations.ServerSnapshot{Instances: []integrations.Instance{bad}}, nil)
	r.run(t)
	key := jobs.ServerAlertKey("acme", "i-1", "status")
	evs := pagerEvents(t, r.rdb, key)
	if len(evs) != 1 || evs[0]["Summary"] != "Acme <Ltd> — web-i-1 (i-1) status checks in breach: EC2 status checks failed: system ok, instance impaired" {
		t.Fatalf("pager events = %+v", evs)
	}
	var blocks string
	for _, q := range outbox(t, r.rdb) {
		if q.Kind == "slack.alert" && q.Subject == key {
			blocks = fmtJSON(q.Payload["blocks"])
		}
	}
	if !strings.Contains(blocks, `Acme \u0026lt;Ltd\u0026gt;`) || strings.Contains(blocks, "site is still down") || !strings.Contains(blocks, "still in breach") {
		t.Fatalf("alert blocks = %s", blocks)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
