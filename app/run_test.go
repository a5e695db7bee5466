package app

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

const (
	botToken = "xoxb-1111-2222-SECRETBOTTOKENVALUE"
	appToken = "xapp-1-A123-3333-SECRETAPPTOKENVALUE"
	admin    = "UADMIN0001"
	wait     = 5 * time.Second
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// opsbot is one running program under test.
type opsbot struct {
	fake     *slacktest.Server
	redis    redistest.Deployment
	rdb      redis.UniversalClient
	prefix   string // of every key: "opsbot:", "{opsbot}:" on a Cluster
	httpAddr string
	logs     *syncBuffer
	vars     map[string]string // the environment it runs with
	stop     context.CancelFunc
	exit     chan int
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the whole program against a fresh fake Slack and Redis of the
// topology OPSBOT_TEST_REDIS names (single, cluster, sentinel).
func start(t testing.TB, env map[string]string) *opsbot {
	t.Helper()
	return startOn(t, env, redistest.Deploy(t, false))
}

// startOn is start on a given Redis (e.g. a persistent one for restart
// tests). env wins over the variables that point opsbot at it.
func startOn(t testing.TB, env map[string]string, rs redistest.Deployment) *opsbot {
	t.Helper()
	return startOnWith(t, env, rs, nil)
}

// startOnWith is startOn with setup applied to the fake Slack before
// opsbot starts (people it must find from its first run on).
func startOnWith(t testing.TB, env map[string]string, rs redistest.Deployment, setup func(*slacktest.Server)) *opsbot {
	t.Helper()
	o := &opsbot{fake: slacktest.New(t), redis: rs, logs: &syncBuffer{}, exit: make(chan int, 1), httpAddr: freeAddr(t)}
	if setup != nil {
		setup(o.fake)
	}
	o.rdb = o.redis.Connect(t)
	o.prefix = store.New(o.rdb, "opsbot:").Prefix()
	o.fake.AddUser(slacktest.User{ID: "UALICE0001", Name: "alice", Email: "alice@example.com"})
	o.fake.AddUser(slacktest.User{ID: "UBOB000001", Name: "bob", Email: "bob@example.com"})
	// The end-to-end configs name channels (#ops-support), as operators
	// write them; Slack refuses names except in chat.postMessage, so every
	// later call must use these IDs.
	for id, name := range map[string]string{"C0SUPPORT": "ops-support", "C0FINANCE": "finance", "C0ACMEALRT": "acme-alerts",
		"C0ACMEGEN": "acme", "C0OPS0001": "ops", "C0DEV0001": "dev", "C0SECURTY": "security"} {
		o.fake.AddChannel(id, name)
	}
	vars := map[string]string{
		"SLACK_BOT_TOKEN": botToken, "SLACK_APP_TOKEN": appToken, "SLACK_API_URL": o.fake.APIURL(),
		"OPSBOT_ADMINS": admin, "OPSBOT_HTTP_ADDR": o.httpAddr,
		"OPSBOT_LOG_LEVEL": "debug", "OPSBOT_CONFIG": "",
	}
	maps.Copy(vars, rs.Env())
	for k, v := range env {
		vars[k] = v
	}
	o.vars = vars
	ctx, cancel := context.WithCancel(context.Background())
	o.stop = cancel
	go func() {
		o.exit <- Run(ctx, []string{"opsbot"}, func(k string) string { return vars[k] }, strings.NewReader(""), o.logs, o.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-o.exit:
		case <-time.After(10 * time.Second):
			t.Error("opsbot did not stop within 10s of cancellation")
		}
	})
	if err := o.fake.WaitConnected(wait); err != nil {
		t.Fatalf("opsbot never connected: %v\nlogs:\n%s", err, o.logs)
	}
	// The HTTP endpoint starts alongside the socket, not before it.
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", o.httpAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTP endpoint %s never listened: %v\nlogs:\n%s", o.httpAddr, err, o.logs)
		}
	}
	return o
}

// key is the Redis key of the store's parts ("roles:U1").
func (o *opsbot) key(parts string) string { return o.prefix + parts }

// command sends /ops text and returns the reply posted to its response_url.
func (o *opsbot) command(t testing.TB, user, text string) string {
	t.Helper()
	return o.replyTo(t, func() string { return o.fake.SlashCommand(user, "C0OPS0001", text) })
}

// replyTo sends an envelope and returns the reply posted to a response_url
// after it (tests send one envelope at a time).
func (o *opsbot) replyTo(t testing.TB, send func() string) string {
	t.Helper()
	sent := time.Now()
	env := send()
	if _, err := o.fake.WaitAck(env, wait); err != nil {
		t.Fatalf("no ack for %s: %v", env, err)
	}
	call, err := o.fake.WaitCall("response_url", func(c slacktest.Call) bool { return !c.At.Before(sent) }, wait)
	if err != nil {
		t.Fatalf("no reply to %s: %v\nlogs:\n%s", env, err, o.logs)
	}
	return flatten(call.JSON)
}

// flatten joins the text and every text field of the blocks of a message.
func flatten(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for k, e := range x {
				if k != "text" || !isString(e) {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

func isString(v any) bool { _, ok := v.(string); return ok }

func (o *opsbot) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + o.httpAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestSlackCommandsEndToEnd(t *testing.T) {
	o := start(t, nil)

	var env string
	got := o.replyTo(t, func() string { env = o.fake.SlashCommand(admin, "C0OPS0001", "help"); return env })
	// One reply, whichever way it travelled (in the ack or to the response_url).
	if reply, err := o.fake.WaitResponse(env, wait); err != nil || len(o.fake.Calls("response_url")) != 1 {
		t.Fatalf("help: %d replies (first via %q), want 1: %v", len(o.fake.Calls("response_url")), reply.Via, err)
	}
	if !strings.Contains(got, "What you can run") || !strings.Contains(got, "/ops role grant") {
		t.Fatalf("help reply:\n%s", got)
	}

	// @name resolved through users.list; the grant lands in Redis with its audit entry.
	if got := o.command(t, admin, "role grant @alice finance"); !strings.Contains(got, "<@UALICE0001> is now *finance*") {
		t.Fatalf("grant reply:\n%s", got)
	}
	if roles := o.rdb.SMembers(context.Background(), o.key("roles:UALICE0001")).Val(); len(roles) != 1 || roles[0] != "finance" {
		t.Fatalf("roles in Redis = %v", roles)
	}
	if n := o.rdb.XLen(context.Background(), o.key("audit")).Val(); n != 1 {
		t.Fatalf("audit entries = %d, want 1", n)
	}
	if got := o.command(t, "UALICE0001", "whoami"); !strings.Contains(got, "*finance*") {
		t.Fatalf("whoami:\n%s", got)
	}
	if got := o.command(t, "UALICE0001", "role list"); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("finance ran role list:\n%s", got)
	}

	code, body := o.get(t, "/metrics")
	if code != 200 || !strings.Contains(body, `opsbot_commands_total{outcome="ok",verb="role"} 1`) || !strings.Contains(body, `opsbot_commands_total{outcome="denied",verb="role"} 1`) {
		t.Fatalf("/metrics = %d:\n%s", code, grep(body, "opsbot_"))
	}
	if code, _ := o.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"opsbot", "healthcheck", "http://" + o.httpAddr + "/healthz"}, func(string) string { return "" }, nil, &out, &out); code != exitOK {
		t.Fatalf("healthcheck subcommand: exit %d %s", code, out.String())
	}
	if code := Run(context.Background(), []string{"opsbot", "healthcheck", "http://" + o.httpAddr + "/nope"}, func(string) string { return "" }, nil, &out, &out); code != exitFailure {
		t.Fatalf("healthcheck of a 404: exit %d", code)
	}
}

func grep(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestDuplicateEnvelopeRunsOnce(t *testing.T) {
	o := start(t, nil)
	grant := func() string {
		o.fake.SlashCommandWithID("env-dup-1", admin, "C0OPS0001", "role grant @bob support")
		return "env-dup-1"
	}
	if got := o.replyTo(t, grant); !strings.Contains(got, "is now *support*") {
		t.Fatalf("grant reply:\n%s", got)
	}
	// The same envelope again, as Slack redelivers it: acked, not run.
	grant()
	if _, err := o.fake.WaitAck("env-dup-1", wait); err != nil {
		t.Fatal(err)
	}
	o.command(t, admin, "whoami")
	// Once the drop is counted the redelivery is finished: no reply of its own.
	o.waitMetric(t, "opsbot_slack_duplicate_envelopes_total 1")
	if n := len(o.fake.Calls("response_url")); n != 2 {
		t.Fatalf("%d replies, want 2 (grant once + whoami)", n)
	}
	if n := o.rdb.XLen(context.Background(), o.key("audit")).Val(); n != 1 {
		t.Fatalf("audit entries = %d, want 1", n)
	}
	// An Events API event redelivered under a new envelope with retry_attempt
	// is recognised by its event_id.
	event := map[string]any{"type": "app_home_opened", "user": admin, "channel": "D0HOME0001", "tab": "home", "event_ts": "1763633000.000100"}
	_, eventID := o.fake.EventCallback(event, 0)
	redelivery := o.fake.SendEnvelope("events_api", map[string]any{"token": "x", "team_id": "T123", "api_app_id": "A123",
		"type": "event_callback", "event_id": eventID, "event_time": 1763633000, "event": event}, false, 1)
	if _, err := o.fake.WaitAck(redelivery, wait); err != nil {
		t.Fatal(err)
	}
	o.waitMetric(t, "opsbot_slack_duplicate_envelopes_total 2")
	if ttl := o.rdb.PTTL(context.Background(), o.key("seen:event:")+eventID).Val(); ttl < 9*time.Minute {
		t.Fatalf("event dedup key TTL = %v", ttl)
	}
	if ttl := o.rdb.PTTL(context.Background(), o.key("seen:envelope:env-dup-1")).Val(); ttl < 9*time.Minute {
		t.Fatalf("dedup key TTL = %v, want ≥ 10m", ttl)
	}
}

// waitMetric polls /metrics until it shows line (work finishes asynchronously
// after the ack), failing after the usual wait.
func (o *opsbot) waitMetric(t *testing.T, line string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		_, body := o.get(t, "/metrics")
		if strings.Contains(body, line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %q:\n%s", line, grep(body, "opsbot_"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
