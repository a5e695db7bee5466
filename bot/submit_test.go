package bot_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

const user = "USUBMIT001"

// stubRouter stands in for the commands router; nil funcs answer with zero values.
type stubRouter struct {
	command    func(context.Context, commands.Command) commands.Reply
	submit     func(context.Context, commands.Submission) commands.SubmitResult
	linkShared func(context.Context, commands.LinkShared) map[string]slack.Attachment
	suggest    func(context.Context, commands.Suggestion) []*slack.OptionBlockObject
}

func (r *stubRouter) Suggest(ctx context.Context, s commands.Suggestion) []*slack.OptionBlockObject {
	if r.suggest == nil {
		return nil
	}
	return r.suggest(ctx, s)
}

func (r *stubRouter) Command(ctx context.Context, c commands.Command) commands.Reply {
	if r.command == nil {
		return commands.Reply{}
	}
	return r.command(ctx, c)
}

func (r *stubRouter) Action(context.Context, commands.Action) commands.Reply { return commands.Reply{} }

func (r *stubRouter) Submit(ctx context.Context, s commands.Submission) commands.SubmitResult {
	if r.submit == nil {
		return commands.SubmitResult{}
	}
	return r.submit(ctx, s)
}

func (r *stubRouter) LinkShared(ctx context.Context, ev commands.LinkShared) map[string]slack.Attachment {
	if r.linkShared == nil {
		return nil
	}
	return r.linkShared(ctx, ev)
}

// memDedup is an in-memory Deduper.
type memDedup struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (d *memDedup) FirstSeen(_ context.Context, key string, _ time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if d.seen[key] {
		return false, nil
	}
	d.seen[key] = true
	return true, nil
}

// logBuffer collects the bot's logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type stubBot struct {
	fake   *slacktest.Server
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// startStub runs the transport against the fake Slack with router h; cfg's
// tokens, API URL and logger are filled in. With connect false it does not
// wait for the socket.
func startStub(t *testing.T, fake *slacktest.Server, h bot.Handler, cfg bot.Config, connect bool) *stubBot {
	t.Helper()
	if fake == nil {
		fake = slacktest.New(t)
	}
	s := &stubBot{fake: fake, logs: &logBuffer{}, done: make(chan error, 1)}
	cfg.BotToken, cfg.AppToken, cfg.APIURL = "xoxb-test", "xapp-test", fake.APIURL()
	cfg.Logger = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := bot.New(cfg, &memDedup{})
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- b.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("bot.Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("bot.Run did not return after cancel")
		}
	})
	if connect {
		if err := fake.WaitConnected(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func submission(values string) slacktest.ViewSubmission {
	return slacktest.ViewSubmission{CallbackID: "incident_modal", Values: map[string]map[string]any{
		"summary_block": {"summary_input": map[string]any{"type": "plain_text_input", "value": values}}}}
}

// dmTo waits for a chat.postMessage to the user's ID whose text contains want.
func dmTo(t *testing.T, fake *slacktest.Server, want string) slacktest.Call {
	t.Helper()
	call, err := fake.WaitCall("chat.postMessage", func(c slacktest.Call) bool {
		return c.Form.Get("channel") == user && strings.Contains(c.Form.Get("text"), want)
	}, 5*time.Second)
	if err != nil {
		t.Fatalf("no DM to %s containing %q: %v", user, want, err)
	}
	return call
}

func plainAck(a slacktest.Ack) bool {
	p := strings.TrimSpace(string(a.Payload))
	return p == "" || p == "null"
}

// A router slower than the ack budget: the modal is closed in time with a
// plain ack (no re-send by Slack), and the validation errors arrive as a DM.
func TestSlowSubmitAcksWithinBudgetAndDMsErrors(t *testing.T) {
	release := make(chan struct{})
	h := &stubRouter{submit: func(ctx context.Context, _ commands.Submission) commands.SubmitResult {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return commands.SubmitResult{Errors: map[string]string{"summary_block": "Summary is required"}}
	}}
	const budget = 200 * time.Millisecond
	s := startStub(t, nil, h, bot.Config{SubmitAckBudget: budget}, true)
	env := s.fake.ViewSubmission(user, submission(""))
	ack, err := s.fake.WaitAck(env, budget+time.Second)
	close(release)
	if err != nil {
		t.Fatalf("no ack within the budget: %v", err)
	}
	if d := ack.At.Sub(ack.SentAt); d > budget+700*time.Millisecond {
		t.Fatalf("ack took %v, budget %v", d, budget)
	}
	if !plainAck(ack) {
		t.Fatalf("late ack carries a payload: %s", ack.Payload)
	}
	call := dmTo(t, s.fake, "Summary is required")
	if text := call.Form.Get("text"); !strings.Contains(text, "summary_block") || !strings.Contains(text, "could not be saved") {
		t.Fatalf("DM text %q", text)
	}
}

// A full worker pool must not delay a submission's ack.
func TestSubmitDoesNotWaitForWorkerPool(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := &stubRouter{
		command: func(ctx context.Context, _ commands.Command) commands.Reply {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return commands.Reply{}
		},
		submit: func(context.Context, commands.Submission) commands.SubmitResult {
			return commands.SubmitResult{Errors: map[string]string{"summary_block": "Summary is required"}}
		},
	}
	s := startStub(t, nil, h, bot.Config{Workers: 1}, true)
	defer close(release)
	s.fake.SlashCommand(user, "C0OPS0001", "slow")
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("command never started")
	}
	env := s.fake.ViewSubmission(user, submission(""))
	ack, err := s.fake.WaitAck(env, time.Second)
	if err != nil {
		t.Fatalf("submission ack held up by the busy pool: %v", err)
	}
	if !strings.Contains(string(ack.Payload), "Summary is required") {
		t.Fatalf("ack payload %s", ack.Payload)
	}
}

// A response payload over Slack's 20 KB limit is refused by slack-go: a plain
// ack must follow (or Slack re-sends) and the user hears about it by DM.
func TestOversizedSubmitResponseFallsBackToPlainAck(t *testing.T) {
	h := &stubRouter{submit: func(context.Context, commands.Submission) commands.SubmitResult {
		return commands.SubmitResult{Errors: map[string]string{"summary_block": strings.Repeat("x", 25<<10)}}
	}}
	s := startStub(t, nil, h, bot.Config{}, true)
	env := s.fake.ViewSubmission(user, submission(""))
	ack, err := s.fake.WaitAck(env, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !plainAck(ack) {
		t.Fatalf("ack carries a payload of %d bytes", len(ack.Payload))
	}
	dmTo(t, s.fake, "ref ")
	if !strings.Contains(s.logs.String(), "view submission response could not be sent") {
		t.Fatalf("failure not logged:\n%s", s.logs.String())
	}
}

// panicBlock panics when marshalled, i.e. when the DM carrying it is posted:
// a panic after the submission was acked.
type panicBlock struct{}

func (panicBlock) BlockType() slack.MessageBlockType { return slack.MBTSection }
func (panicBlock) ID() string                        { return "boom" }
func (panicBlock) MarshalJSON() ([]byte, error)      { panic("marshal boom") }

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
	h := &stubRouter{command: func(context.Context, commands.Command) commands.Reply { return commands.Reply{Text: "pong"} }}
	s := startStub(t, nil, h, bot.Config{HTTPClient: &http.Client{Transport: failHooks{}, Timeout: 5 * time.Second}}, true)
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
