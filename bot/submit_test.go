package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
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
