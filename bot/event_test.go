package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

const (
	issueURL  = "https://github.com/acme/web/issues/42"
	opsChan   = "C0OPS0001"
	messageTS = "1763633050.000200"
)

// linkRecorder is a router whose LinkShared records each event and answers
// with reply (an "Open change request" offer per link when nil).
type linkRecorder struct {
	mu    sync.Mutex
	got   []commands.LinkShared
	reply func(commands.LinkShared) map[string]slack.Attachment
}

func (r *linkRecorder) router() *stubRouter {
	return &stubRouter{linkShared: func(_ context.Context, ev commands.LinkShared) map[string]slack.Attachment {
		r.mu.Lock()
		r.got = append(r.got, ev)
		r.mu.Unlock()
		if r.reply != nil {
			return r.reply(ev)
		}
		return offers(ev)
	}}
}

func (r *linkRecorder) events() []commands.LinkShared {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.LinkShared(nil), r.got...)
}

// offers builds the unfurl the change-request feature sends for each link.
func offers(ev commands.LinkShared) map[string]slack.Attachment {
	out := map[string]slack.Attachment{}
	for _, l := range ev.Links {
		btn := slack.NewButtonBlockElement("change_from_link", l, slack.NewTextBlockObject("plain_text", "Open change request", false, false))
		out[l] = slack.Attachment{Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "GitHub issue "+l, false, false), nil, nil),
			slack.NewActionBlock("change_link_actions", btn),
		}}}
	}
	return out
}

// waitLog waits until the bot has logged want.
func waitLog(t *testing.T, s *stubBot, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged:\n%s", want, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitUnfurl(t *testing.T, fake *slacktest.Server) {
	t.Helper()
	if _, err := fake.WaitCall("chat.unfurl", nil, 5*time.Second); err != nil {
		t.Fatalf("no chat.unfurl: %v", err)
	}
}

// A link_shared event reaches the router with its fields, the returned
// blocks go out by chat.unfurl on the message, and a redelivery of the same
// event_id (a new envelope) is acked but not unfurled again.
func TestLinkSharedIsUnfurledOnce(t *testing.T) {
	rec := &linkRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	env, eventID := s.fake.LinkShared(user, opsChan, messageTS, issueURL)
	if _, err := s.fake.WaitAck(env, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	waitUnfurl(t, s.fake)

	evs := rec.events()
	want := commands.LinkShared{User: commands.User{ID: user}, ChannelID: opsChan, MessageTS: messageTS,
		UnfurlID: opsChan + "." + messageTS + ".unfurl", Source: "conversations_history", Links: []string{issueURL}}
	if len(evs) != 1 || fmt.Sprint(evs[0]) != fmt.Sprint(want) {
		t.Fatalf("router got %+v, want %+v", evs, want)
	}
	u := s.fake.Unfurls()
	if len(u) != 1 || u[0].Channel != opsChan || u[0].TS != messageTS || u[0].UnfurlID != "" {
		t.Fatalf("unfurls = %+v", u)
	}
	wantJSON, _ := json.Marshal(offers(want)[issueURL])
	if got := u[0].Unfurls[issueURL]; !jsonEqual(t, got, wantJSON) {
		t.Fatalf("unfurl sent %s, want %s", got, wantJSON)
	}
	if !strings.Contains(string(u[0].Unfurls[issueURL]), "Open change request") {
		t.Fatalf("unfurl has no offer: %s", u[0].Unfurls[issueURL])
	}

	env2 := s.fake.EventCallbackWithID(eventID, slacktest.LinkSharedEvent(user, opsChan, messageTS, issueURL), 1)
	if _, err := s.fake.WaitAck(env2, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	waitLog(t, s, "duplicate envelope dropped")
	if n, m := len(rec.events()), len(s.fake.Calls("chat.unfurl")); n != 1 || m != 1 {
		t.Fatalf("after redelivery: router called %d times, chat.unfurl %d times; want 1 and 1", n, m)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// A link still in the message composer has no real channel or ts: the
// unfurl names it by unfurl_id and source.
func TestComposerLinkUnfurledByID(t *testing.T) {
	rec := &linkRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	ev := slacktest.LinkSharedEvent(user, "COMPOSER", "3b5f2c1e-7d0a-4e8f-9c61-2a4b8d0e6f13", issueURL)
	ev["source"], ev["unfurl_id"] = "composer", "U1-3b5f2c1e-composer"
	s.fake.EventCallback(ev, 0)
	waitUnfurl(t, s.fake)
	u := s.fake.Unfurls()
	if len(u) != 1 || u[0].UnfurlID != "U1-3b5f2c1e-composer" || u[0].Source != "composer" || u[0].Channel != "" || u[0].TS != "" {
		t.Fatalf("unfurls = %+v", u)
	}
	if _, ok := u[0].Unfurls[issueURL]; !ok {
		t.Fatalf("no unfurl for %s: %+v", issueURL, u[0].Unfurls)
	}
	if evs := rec.events(); len(evs) != 1 || evs[0].Source != "composer" || evs[0].UnfurlID != "U1-3b5f2c1e-composer" {
		t.Fatalf("router got %+v", evs)
	}
}

// Events that must not produce an unfurl: the router declines, the bot's
// own message, more links than Slack ever sends.
func TestLinkSharedWithoutUnfurl(t *testing.T) {
	six := make([]string, 6)
	for i := range six {
		six[i] = fmt.Sprintf("%s/issues/%d", "https://github.com/acme/web", i+1)
	}
	cases := []struct {
		name, from string
		links      []string
		log        string
		routed     int
	}{
		{"router returns nil", user, []string{issueURL}, "nothing to unfurl", 1},
		{"bot's own message", slacktest.BotUserID, []string{issueURL}, "the bot's own message ignored", 0},
		{"too many links", user, six, "too many links", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &linkRecorder{reply: func(commands.LinkShared) map[string]slack.Attachment { return nil }}
			s := startStub(t, nil, rec.router(), bot.Config{}, true)
			env, _ := s.fake.LinkShared(tc.from, opsChan, messageTS, tc.links...)
			if _, err := s.fake.WaitAck(env, 3*time.Second); err != nil {
				t.Fatal(err)
			}
			waitLog(t, s, tc.log)
			if n := len(rec.events()); n != tc.routed {
				t.Errorf("router called %d times, want %d", n, tc.routed)
			}
			if c := s.fake.Calls("chat.unfurl"); len(c) != 0 {
				t.Errorf("chat.unfurl called: %+v", c[0].Form)
			}
		})
	}
}

// A chat.unfurl refusal is logged (without tokens) and the bot carries on.
func TestUnfurlFailureIsLogged(t *testing.T) {
	rec := &linkRecorder{}
	fake := slacktest.New(t)
	fake.FailNext("chat.unfurl", 200, `{"ok":false,"error":"cannot_unfurl_url"}`, nil)
	s := startStub(t, fake, rec.router(), bot.Config{}, true)
	s.fake.LinkShared(user, opsChan, messageTS, issueURL)
	waitLog(t, s, "chat.unfurl failed")
	if logs := s.logs.String(); !strings.Contains(logs, "cannot_unfurl_url") {
		t.Fatalf("error code not logged:\n%s", logs)
	}
	s.fake.LinkShared(user, opsChan, "1763633060.000300", issueURL)
	if _, err := s.fake.WaitCall("chat.unfurl", func(c slacktest.Call) bool { return c.Form.Get("ts") == "1763633060.000300" }, 5*time.Second); err != nil {
		t.Fatalf("no unfurl after the failure: %v", err)
	}
	if u := s.fake.Unfurls(); len(u) != 1 || u[0].TS != "1763633060.000300" {
		t.Fatalf("unfurls after the failure = %+v", u)
	}
	for _, secret := range []string{"xoxb-test", "xapp-test", slacktest.VerificationToken} {
		if strings.Contains(s.logs.String(), secret) {
			t.Fatalf("logs contain %q:\n%s", secret, s.logs.String())
		}
	}
}

// Other events are acked and ignored, including types slack-go cannot
// parse (unacked, Slack would re-send them).
func TestOtherEventsAckedAndIgnored(t *testing.T) {
	rec := &linkRecorder{}
	s := startStub(t, nil, rec.router(), bot.Config{}, true)
	home, _ := s.fake.EventCallback(map[string]any{"type": "app_home_opened", "user": user, "channel": "D0HOME0001", "tab": "home", "event_ts": messageTS}, 0)
	unknown, _ := s.fake.EventCallback(map[string]any{"type": "made_up_event", "event_ts": messageTS}, 0)
	for _, env := range []string{home, unknown} {
		if _, err := s.fake.WaitAck(env, 3*time.Second); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
	}
	waitLog(t, s, `"event_type":"app_home_opened"`)
	waitLog(t, s, "unparseable envelope acked")
	if strings.Contains(s.logs.String(), slacktest.VerificationToken) {
		t.Fatalf("logs contain the verification token:\n%s", s.logs.String())
	}
	if n := len(rec.events()); n != 0 {
		t.Fatalf("router called %d times", n)
	}
}
