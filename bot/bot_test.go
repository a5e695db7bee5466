package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

const admin = "UADMIN0001"

// startBot runs the real transport, router and store against the fake Slack
// and a throwaway redis-server. hook, when set, observes Redis commands.
func startBot(tb testing.TB, hook redis.Hook) (*slacktest.Server, *bot.Bot) {
	tb.Helper()
	fake := slacktest.New(tb)
	srv := redistest.Start(tb)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 64})
	if hook != nil {
		rdb.AddHook(hook)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	st := store.New(rdb, "opsbot:")
	b := bot.New(bot.Config{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: fake.APIURL()}, st)
	router, err := commands.New(commands.Deps{Roles: st, Audit: st, Directory: b, Admins: []string{admin},
		SigningKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, router) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("bot.Run: %v", err)
		}
	})
	if err := fake.WaitConnected(5 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return fake, b
}

// A response_url arrives inside the payload; one pointing anywhere but
// Slack's hooks must not be followed: the reply goes by chat.postEphemeral.
func TestForeignResponseURLIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer evil.Close()
	fake := slacktest.New(t)
	h := &stubRouter{command: afterAck(fake, commands.Reply{Text: "You are admin"})} // a reply too late for the ack
	startStub(t, fake, h, bot.Config{CommandAckBudget: 20 * time.Millisecond}, true)

	env := fake.SendEnvelope("slash_commands", map[string]any{
		"token": "x", "team_id": "T123", "channel_id": "C0OPS0001", "user_id": admin, "user_name": "admin",
		"command": "/ops", "text": "whoami", "api_app_id": "A123", "is_enterprise_install": "false",
		"response_url": evil.URL + "/hooks/commands/1", "trigger_id": fake.NewTriggerID(),
	}, true, 0)
	if _, err := fake.WaitAck(env, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	call, err := fake.WaitCall("chat.postEphemeral", nil, 5*time.Second)
	if err != nil {
		t.Fatalf("no fallback reply: %v", err)
	}
	if call.Form.Get("user") != admin || call.Form.Get("channel") != "C0OPS0001" {
		t.Fatalf("ephemeral went to %s in %s", call.Form.Get("user"), call.Form.Get("channel"))
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the foreign response_url was called %d times", n)
	}
}
