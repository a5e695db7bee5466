package bot_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

// Every delivery of every envelope is acked exactly once, whatever happens
// after the ack: normal, validation errors, redelivery, panics before and
// after the ack.
func TestEachEnvelopeAckedExactlyOnce(t *testing.T) {
	h := &stubRouter{
		command: func(_ context.Context, c commands.Command) commands.Reply {
			if c.Text == "panic" {
				panic("command boom")
			}
			return commands.Reply{Text: "ok"}
		},
		submit: func(_ context.Context, s commands.Submission) commands.SubmitResult {
			switch s.CallbackID {
			case "errors":
				return commands.SubmitResult{Errors: map[string]string{"summary_block": "Summary is required"}}
			case "panic":
				panic("submit boom")
			case "panic_after_ack":
				return commands.SubmitResult{Notice: &commands.Reply{Text: "saved", Blocks: []slack.Block{panicBlock{}}}}
			}
			return commands.SubmitResult{Notice: &commands.Reply{Text: "saved"}}
		},
	}
	s := startStub(t, nil, h, bot.Config{}, true)
	f := s.fake
	want := map[string]int{}
	wait := func(env string) {
		t.Helper()
		if _, err := f.WaitAck(env, 3*time.Second); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
	}
	for _, text := range []string{"hello", "panic"} {
		env := f.SlashCommand(user, "C0OPS0001", text)
		want[env] = 1
		wait(env)
	}
	for _, cb := range []string{"ok", "errors", "panic", "panic_after_ack"} {
		env := f.ViewSubmission(user, slacktest.ViewSubmission{CallbackID: cb})
		want[env] = 1
		wait(env)
	}
	// Slack re-sends an envelope under the same ID: both deliveries are acked.
	payload := map[string]any{"type": "view_submission", "team": map[string]any{"id": slacktest.TeamID},
		"user": map[string]any{"id": user, "name": "u"}, "api_app_id": slacktest.AppID,
		"view": map[string]any{"id": "VDUP", "type": "modal", "callback_id": "ok", "state": map[string]any{"values": map[string]any{}}}}
	for range 2 {
		f.SendEnvelopeWithID("env-dup", "interactive", payload, true, 0)
		wait("env-dup")
	}
	want["env-dup"] = 2

	if _, err := f.WaitCall("chat.postMessage", func(c slacktest.Call) bool { return c.Form.Get("text") == "saved" }, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(s.logs.String(), "envelope handler panicked") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("want 3 panics logged:\n%s", s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a stray second ack
	got := map[string]int{}
	for _, a := range f.Acks() {
		got[a.EnvelopeID]++
	}
	for env, n := range want {
		if got[env] != n {
			t.Errorf("%s acked %d times, want %d", env, got[env], n)
		}
	}
	dmTo(t, f, "ref ") // the panicking Submit closed the modal: the user is told
}

// Acks after the socket loop has exited (shutdown) must not block forever:
// Run waits for in-flight work, so a stuck ack would hang the process.
func TestShutdownWithPendingAcksDoesNotHang(t *testing.T) {
	const n = 30 // more than slack-go's response buffer (20)
	release := make(chan struct{})
	var entered atomic.Int32
	h := &stubRouter{submit: func(ctx context.Context, _ commands.Submission) commands.SubmitResult {
		entered.Add(1)
		<-release
		return commands.SubmitResult{}
	}}
	fake := slacktest.New(t)
	s := &stubBot{fake: fake, done: make(chan error, 1)}
	b := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL(),
		Workers: 2 * n, SubmitAckBudget: time.Minute}, &memDedup{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { s.done <- b.Run(ctx, h) }()
	if err := fake.WaitConnected(5 * time.Second); err != nil {
		cancel()
		close(release)
		t.Fatal(err)
	}
	for range n {
		fake.ViewSubmission(user, submission("x"))
	}
	deadline := time.Now().Add(5 * time.Second)
	for entered.Load() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	time.Sleep(300 * time.Millisecond) // let the socket loop exit
	close(release)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run hung on acks after shutdown")
	}
	if got := entered.Load(); got != n {
		t.Fatalf("%d of %d submissions reached the router", got, n)
	}
}

// A network failure of auth.test is retried; only Slack's verdict on the
// token ends Run.
func TestAuthTestRetriesTransientFailure(t *testing.T) {
	fake := slacktest.New(t)
	fake.FailNext("auth.test", 500, "", nil)
	s := startStub(t, fake, &stubRouter{}, bot.Config{}, false)
	select {
	case err := <-s.done:
		s.done <- err
		t.Fatalf("Run ended after a transient auth.test failure: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := fake.WaitConnected(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls("auth.test")); n < 2 {
		t.Fatalf("auth.test called %d times", n)
	}
	if !strings.Contains(s.logs.String(), "auth.test failed; retrying") {
		t.Fatalf("failure not logged:\n%s", s.logs.String())
	}
}

func TestAuthTestInvalidTokenIsFatal(t *testing.T) {
	fake := slacktest.New(t)
	fake.SetTokens("xoxb-other", "xapp-other")
	b := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, &memDedup{})
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background(), &stubRouter{}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
			t.Fatalf("Run: %v, want an invalid_auth error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with a rejected token")
	}
}

// failHooks fails every request to a hooks path the way a network error would.
type failHooks struct{}

func (failHooks) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/hooks/") {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A response_url is a short-lived capability: a failure logs its host only.
func TestResponseURLFailureLogsHostOnly(t *testing.T) {
	fake := slacktest.New(t)
	h := &stubRouter{command: afterAck(fake, commands.Reply{Text: "pong"})} // a reply too late for the ack
	s := startStub(t, fake, h, bot.Config{CommandAckBudget: 20 * time.Millisecond,
		HTTPClient: &http.Client{Transport: failHooks{}, Timeout: 5 * time.Second}}, true)
	s.fake.SlashCommand(user, "C0OPS0001", "ping")
	if _, err := s.fake.WaitCall("chat.postEphemeral", nil, 5*time.Second); err != nil {
		t.Fatalf("no fallback reply: %v", err)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "response_url failed") || !strings.Contains(logs, "connection reset by peer") {
		t.Fatalf("failure not logged:\n%s", logs)
	}
	if strings.Contains(logs, "/hooks/") {
		t.Fatalf("logs contain the response_url:\n%s", logs)
	}
}
