package jobs_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// waitRecovered waits until the single alert message has been updated and
// shows it recovered, and returns the top-level messages.
func waitRecovered(t *testing.T, fake *slacktest.Server) []slacktest.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		top := topLevel(fake.Messages("C0ACMEALRT"))
		if (len(top) == 1 && top[0].Updated > 0 && strings.Contains(string(top[0].Blocks)+top[0].Text, "RECOVERED")) ||
			time.Now().After(deadline) {
			return top
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Slack processes the alert's post but the reply is lost (a 500 after the
// fact). The retry finds the message by its delivery ID instead of posting
// a second one, and the recovery updates that one message.
func TestLostPostReplyMakesOneMessage(t *testing.T) {
	fake, pd := slacktest.New(t), pagerdutytest.New(t)
	fake.FailAfter("chat.postMessage", http.StatusInternalServerError)
	r := newRig(t, redistest.Start(t), fake, pd)
	for i := range 3 {
		r.observe(t, false, tick(i))
	}
	if _, err := fake.WaitCall("conversations.history", nil, 10*time.Second); err != nil {
		t.Fatalf("the retry never looked for the lost post: %v", err)
	}
	r.observe(t, true, tick(3))
	r.observe(t, true, tick(4))
	top := waitRecovered(t, fake)
	if len(top) != 1 || top[0].Updated == 0 {
		t.Fatalf("top-level messages = %d, want one, updated to RECOVERED", len(top))
	}
	if _, err := fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("thread_ts") == top[0].TS },
		5*time.Second); err != nil {
		t.Fatalf("the recovery's thread line: %v", err)
	}
}

// The same in a public channel opsbot posts to without being a member
// (chat:write.public): Slack refuses to let it read the channel until it
// joins, so the retry joins and then finds the post.
func TestLostPostReplyInAChannelNotJoinedMakesOneMessage(t *testing.T) {
	fake, pd := slacktest.New(t), pagerdutytest.New(t)
	r := newRig(t, redistest.Start(t), fake, pd)
	fake.SetMember("C0ACMEALRT", false)
	fake.FailAfter("chat.postMessage", http.StatusInternalServerError)
	for i := range 3 {
		r.observe(t, false, tick(i))
	}
	if _, err := fake.WaitCall("conversations.join", func(c slacktest.Call) bool { return c.Form.Get("channel") == "C0ACMEALRT" }, 10*time.Second); err != nil {
		t.Fatalf("the retry never joined the channel to read it: %v", err)
	}
	r.observe(t, true, tick(3))
	r.observe(t, true, tick(4))
	if top := waitRecovered(t, fake); len(top) != 1 || top[0].Updated == 0 {
		t.Fatalf("top-level messages = %d, want one, updated to RECOVERED", len(top))
	}
}

// stallAfterPost posts for real, then never returns: the replica dies right
// after Slack accepted the post, before it could record the message.
type stallAfterPost struct {
	*bot.Bot
	posted, release chan struct{}
	once            sync.Once
}

// Post delivers the first post for real and then, like every later call of
// the dead replica, never answers.
func (s *stallAfterPost) Post(ctx context.Context, channel string, m chat.Message) (string, string, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		if _, _, err := s.Bot.Post(ctx, channel, m); err != nil {
			return "", "", err
		}
		close(s.posted)
	}
	<-s.release // the test ends: the dead replica's goroutines may go
	return "", "", context.Canceled
}

// Update never answers either: the replica is dead.
func (s *stallAfterPost) Update(context.Context, string, string, chat.Message) error {
	<-s.release
	return context.Canceled
}

// A replica is killed right after its post landed: another replica takes
// the item when the lease lapses, finds the message and does not post again;
// that message is the one later updated.
func TestReplicaDeadAfterPostMakesOneMessage(t *testing.T) {
	srv, fake, pd := redistest.Start(t), slacktest.New(t), pagerdutytest.New(t)
	st := store.New(srv.Client(t), "opsbot:")
	newBot := func() *bot.Bot {
		return bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, st)
	}
	routing := func(ref string) (string, bool) { return routingKey, ref == "acme" }
	opts := jobs.OutboxOptions{BaseBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond, Lease: 500 * time.Millisecond, RoutingKey: routing}

	dying := &stallAfterPost{Bot: newBot(), posted: make(chan struct{}), release: make(chan struct{})}
	first := jobs.NewOutbox(st, dying, nil, opts)
	ctx1, kill := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { _ = first.Run(ctx1); close(done1) }()
	t.Cleanup(func() { close(dying.release); kill(); <-done1 })
	al := jobs.NewAlerter(st, first.Nudge)
	for i := range 3 {
		if _, err := al.Observe(context.Background(), site, false, "status 503", tick(i), false); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-dying.posted:
	case <-time.After(10 * time.Second):
		t.Fatal("the first replica never posted")
	}

	second := jobs.NewOutbox(st, newBot(), nil, opts)
	ctx2, stop2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { _ = second.Run(ctx2); close(done2) }()
	t.Cleanup(func() { stop2(); <-done2 })
	al2 := jobs.NewAlerter(st, second.Nudge)
	for i := 3; i < 5; i++ {
		if _, err := al2.Observe(context.Background(), site, true, "", tick(i), false); err != nil {
			t.Fatal(err)
		}
	}
	top := waitRecovered(t, fake)
	if len(top) != 1 || top[0].Updated == 0 {
		t.Fatalf("top-level messages = %d, want the first replica's one, updated", len(top))
	}
	_ = pd
}
