package commands_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
)

const admin = "UADMIN0001"

// directory resolves a few @names; "@boom" panics to test recovery.
type directory map[string]string

func (d directory) UserByName(_ context.Context, name string) (commands.User, error) {
	if name == "boom" {
		panic("directory exploded")
	}
	if id, ok := d[name]; ok {
		return commands.User{ID: id, Name: name}, nil
	}
	return commands.User{}, commands.ErrUnknownUser
}

// IsBot: UAPPBOT01 is an app's bot user, UGONE0001 nobody; everyone else a person.
func (d directory) IsBot(_ context.Context, id string) (bool, error) {
	if id == "UGONE0001" {
		return false, commands.ErrUnknownUser
	}
	return id == "UAPPBOT01", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type fixture struct {
	t   testing.TB // replies are held to Slack's limits against it
	r   *commands.Router
	st  *store.Store
	rdb *redis.Client
	srv *redistest.Server
	log *syncBuffer
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith builds the router on a throwaway redis-server; with, when
// set, adjusts the dependencies (extra stores, a clock, other clients).
func newFixtureWith(t *testing.T, with func(d *commands.Deps, st *store.Store)) *fixture {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 300 * time.Millisecond, MaxRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	st := store.New(rdb, "opsbot:")
	logs := &syncBuffer{}
	d := commands.Deps{
		Roles: st, Audit: st, Nonces: st,
		Directory:  directory{"alice": "UALICE0001", "bob": "UBOB000001"},
		Admins:     []string{admin},
		Clients:    map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co"},
		SigningKey: []byte("0123456789abcdef0123456789abcdef"),
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
	}
	if with != nil {
		with(&d, st)
	}
	r, err := commands.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, r: r, st: st, rdb: rdb, srv: srv, log: logs}
}

func (f *fixture) run(user, text string) commands.Reply {
	return checkReply(f.t, "/ops "+text, f.r.Command(context.Background(), commands.Command{User: commands.User{ID: user}, ChannelID: "C0OPS0001", Text: text, TriggerID: "T1"}))
}

func (f *fixture) grant(t *testing.T, user string, g store.Grant) {
	t.Helper()
	if _, err := f.st.Grant(context.Background(), admin, user, g, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// text flattens a reply for assertions.
func text(r commands.Reply) string {
	var b strings.Builder
	b.WriteString(r.Text)
	for _, bl := range r.Blocks {
		switch bl := bl.(type) {
		case *slack.SectionBlock:
			if bl.Text != nil {
				b.WriteString("\n" + bl.Text.Text)
			}
		case *slack.ContextBlock:
			for _, e := range bl.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					b.WriteString("\n" + t.Text)
				}
			}
		}
	}
	return b.String()
}

func TestHelpListsOnlyWhatCallerMayRun(t *testing.T) {
	f := newFixture(t)
	nobody := text(f.run("UNOBODY001", "help"))
	if !strings.Contains(nobody, "/ops whoami") || strings.Contains(nobody, "*`/ops role") || strings.Contains(nobody, "*`/ops audit") {
		t.Fatalf("help for a user without roles:\n%s", nobody)
	}
	if !strings.Contains(nobody, "no role yet") {
		t.Fatalf("help should tell a user without roles how to get one:\n%s", nobody)
	}
	adm := text(f.run(admin, "help"))
	for _, want := range []string{"/ops role grant", "/ops audit", "e.g. `/ops audit acme @alice --since 7d`"} {
		if !strings.Contains(adm, want) {
			t.Errorf("admin help lacks %q:\n%s", want, adm)
		}
	}
	if got := text(f.run(admin, "role help")); !strings.Contains(got, "/ops role revoke") {
		t.Fatalf("role help:\n%s", got)
	}
}

func TestGrantRevokeListAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	got := f.run(admin, "role grant @alice stakeholder AC")
	if !strings.Contains(got.Text, "<@UALICE0001> is now *stakeholder* for *Acme Ltd (`acme`)*") {
		t.Fatalf("grant reply: %q", got.Text)
	}
	roles, _ := f.st.Roles(ctx, "UALICE0001")
	if len(roles) != 1 || roles[0] != (store.Grant{Role: store.Stakeholder, Client: "acme"}) {
		t.Fatalf("stored roles = %v", roles)
	}
	if got := text(f.run("UALICE0001", "whoami")); !strings.Contains(got, "*stakeholder* for Acme Ltd") || !strings.Contains(got, "Clients: Acme Ltd") {
		t.Fatalf("whoami:\n%s", got)
	}
	f.run(admin, "role grant <@UBOB000001|bob> support")
	list := text(f.run(admin, "role list"))
	for _, want := range []string{"*admin*: <@UADMIN0001> (config)", "*support*: <@UBOB000001>", "*stakeholder*: <@UALICE0001> (Acme Ltd (`acme`))", "*finance*: _nobody_"} {
		if !strings.Contains(list, want) {
			t.Errorf("role list lacks %q:\n%s", want, list)
		}
	}
	if got := f.run(admin, "role revoke @bob support"); !strings.Contains(got.Text, "no longer has *support*") {
		t.Fatalf("revoke reply: %q", got.Text)
	}
	audit := text(f.run(admin, "audit 2"))
	if !strings.Contains(audit, "`role.revoke` <@UBOB000001> *support*") || !strings.Contains(audit, "`role.grant` <@UBOB000001>") {
		t.Fatalf("audit:\n%s", audit)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ in, want string }{
		{"role", "Say what to do"},
		{"role grant @alice", "takes a person, a role"},
		{"role grant @alice root", `"root" is not a role`},
		{"role grant @alice support acme", "Only the stakeholder role is given per client"},
		{"role grant @alice stakeholder", "name the client"},
		{"role grant @alice stakeholder zzz", `I don't know a client called "zzz"`},
		{"role grant @carol support", "can't find anyone called @carol"},
		{"role grant alice support", "is not a person"},
		{"role frobnicate", "is not something `/ops role` does"},
		{"audit 0", "from 1 to 200"},
		{"audit lots", `I don't know a client called "lots"`},
		{"audit 500", "from 1 to 200"},
		{"audit acme beta", "at most one client"},
		{"audit --since", "takes one duration"},
		{"audit --since 90d", "--since 90d"},
		{"audit --all", `I don't know the option "--all"`},
		{"audit export 2026-13", "is not a month I can read"},
		{"role grant @alice stakeholder <script>", "&lt;script&gt;"},
	}
	for _, tt := range tests {
		got := f.run(admin, tt.in)
		if !strings.Contains(got.Text, tt.want) || !strings.HasPrefix(got.Text, ":warning:") {
			t.Errorf("%q → %q, want it to contain %q", tt.in, got.Text, tt.want)
		}
		if strings.Contains(got.Text, "<script>") {
			t.Errorf("%q: user text not escaped: %q", tt.in, got.Text)
		}
	}
	all, err := f.st.AllGrants(context.Background())
	if err != nil || len(all) != 0 {
		t.Fatalf("bad input stored roles: %v %v", all, err)
	}
	if n := f.rdb.XLen(context.Background(), "opsbot:audit").Val(); n != 0 {
		t.Fatalf("bad input wrote %d audit entries", n)
	}
	if got := f.run(admin, "rol list"); !strings.Contains(got.Text, "Did you mean `/ops role`") {
		t.Fatalf("unknown verb reply: %q", got.Text)
	}
	if got := f.run(admin, "role revoke <@UADMIN0001> admin"); !strings.Contains(got.Text, "can't revoke your own admin") {
		t.Fatalf("self-revoke: %q", got.Text)
	}
}

func TestPanicIsContained(t *testing.T) {
	f := newFixture(t)
	got := f.run(admin, "role grant @boom support")
	if !strings.Contains(got.Text, "Something went wrong (ref ") {
		t.Fatalf("panic reply: %q", got.Text)
	}
	ref := got.Text[strings.Index(got.Text, "(ref ")+5:][:8]
	logs := f.log.String()
	if !strings.Contains(logs, `"ref":"`+ref+`"`) || !strings.Contains(logs, "directory exploded") || !strings.Contains(logs, "runtime/debug.Stack") {
		t.Fatalf("log lacks ref %s / panic / stack:\n%s", ref, logs)
	}
	if got := f.run(admin, "whoami"); !strings.Contains(got.Text, "You are <@UADMIN0001>") {
		t.Fatalf("next command after panic: %q", got.Text)
	}
}

func TestAuditUnwritableRefusesGrant(t *testing.T) {
	f := newFixture(t)
	f.rdb.Set(context.Background(), "opsbot:audit", "not a stream", 0)
	got := f.run(admin, "role grant @alice support")
	if !strings.Contains(got.Text, "could not write the audit entry, so the grant was refused") {
		t.Fatalf("reply: %q", got.Text)
	}
	if roles, _ := f.st.Roles(context.Background(), "UALICE0001"); len(roles) != 0 {
		t.Fatalf("role stored without audit: %v", roles)
	}
}

func TestRedisDownThenBack(t *testing.T) {
	f := newFixture(t)
	f.srv.Stop()
	start := time.Now()
	got := f.run(admin, "whoami")
	if !strings.Contains(got.Text, "state store (Redis) is not answering") {
		t.Fatalf("reply with Redis down: %q", got.Text)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v with Redis down", d)
	}
	if err := f.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := f.run(admin, "whoami"); !strings.Contains(got.Text, "You are <@UADMIN0001>") {
		t.Fatalf("after restart: %q", got.Text)
	}
}
