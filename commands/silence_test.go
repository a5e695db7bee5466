package commands_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

// clock is a settable time source for the router.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var silenceT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// newSilenceFixture is newFixture with the silence store wired and a clock.
func newSilenceFixture(t *testing.T) (*fixture, *clock) {
	t.Helper()
	clk := &clock{t: silenceT0}
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Silences, d.Now = st, clk.Now
		d.Clients = map[string]string{"acme": "Acme Ltd", "acorn": "Acorn", "beta": "Beta & Co"}
	})
	return f, clk
}

const support = "USUPPORT01"

func (f *fixture) silences(t *testing.T, now time.Time) []store.Silence {
	t.Helper()
	all, err := f.st.Silences(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestSilenceBadInputStoresNothing(t *testing.T) {
	f, _ := newSilenceFixture(t)
	f.grant(t, support, store.Grant{Role: store.Support})
	cases := []struct{ text, want string }{
		{"silence", "Say what to silence"},
		{"silence acme", "Say for how long"},
		{"silence acme -5m deploy", `"-5m" is not a duration I can use: a duration can't be negative`},
		{"silence acme 0m deploy", "at least 1m"},
		{"silence acme 10y deploy", `"y" is not a unit`},
		{"silence acme 31d deploy", "maximum of 30 days"},
		{"silence acme 99999999999d deploy", "maximum of 30 days"},
		{"silence acme abc deploy", "not a duration"},
		{"silence acme 2h", "Say why"},
		{`silence acme 2h "  "`, "Say why"},
		{"silence zeta 2h deploy", "I don't know a client called"},
		{"silence ac 2h deploy", "matches several clients"},
		{"silence <script> 2h deploy", `"&lt;script&gt;"`},
		{"silence /www 2h deploy", "Start with the client"},
		{"silence acme/ 2h deploy", "is not a site name"},
		{"silence acme/-www 2h deploy", "is not a site name"},
		{"silence acme/a<b> 2h deploy", `"a&lt;b&gt;" is not a site name`},
		{"silence acme 2h " + strings.Repeat("x", 501), "keep it to 500"},
	}
	for _, c := range cases {
		got := f.run(support, c.text)
		if !strings.HasPrefix(got.Text, ":warning: ") || !strings.Contains(got.Text, c.want) {
			t.Errorf("%q → %q; want a warning containing %q", c.text, got.Text, c.want)
		}
		if !strings.Contains(got.Text, "For example: `/ops silence acme") {
			t.Errorf("%q → %q; want an example", c.text, got.Text)
		}
		if got.InChannel {
			t.Errorf("%q: error shown in channel", c.text)
		}
	}
	if all := f.silences(t, silenceT0); len(all) != 0 {
		t.Fatalf("bad input stored silences: %+v", all)
	}
	entries, _ := f.st.RecentAudit(context.Background(), 50)
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "silence.") {
			t.Fatalf("bad input audited: %+v", e)
		}
	}
}

var replyID = regexp.MustCompile("ID `(s-[a-z2-7]{6})`")

func TestSilenceListUnsilence(t *testing.T) {
	f, clk := newSilenceFixture(t)
	f.grant(t, support, store.Grant{Role: store.Support})

	if got := f.run(support, "silences"); got.Text != "No active silences." {
		t.Fatalf("empty list: %q", got.Text)
	}

	got := f.run(support, `silence ACME 2h deploying <!channel> & "the" new cluster`)
	m := replyID.FindStringSubmatch(got.Text)
	if m == nil {
		t.Fatalf("silence reply has no ID: %q", got.Text)
	}
	id := m[1]
	end := silenceT0.Add(2 * time.Hour)
	want := "⏸️ Silenced *acme* for 2h (until <!date^" + itoa(end.Unix()) + "^{date_short_pretty} {time}|2026-11-22 12:00 UTC>): deploying &lt;!channel&gt; &amp; the new cluster. ID `" + id + "` — `/ops unsilence " + id + "` ends it."
	if got.Text != want {
		t.Fatalf("silence reply\n got %q\nwant %q", got.Text, want)
	}

	got = f.run(support, "silence acme/WWW.example-1 1h30m restarting nginx")
	if !strings.Contains(got.Text, "Silenced *acme/www.example-1* for 1h 30m") {
		t.Fatalf("site silence reply: %q", got.Text)
	}
	siteID := replyID.FindStringSubmatch(got.Text)[1]

	all := f.silences(t, silenceT0)
	if len(all) != 2 || all[0].ID != siteID || all[1].ID != id {
		t.Fatalf("stored = %+v; want site silence (ends first), then client", all)
	}
	if s := all[1]; s.Client != "acme" || s.Site != "" || s.CreatedBy != support || s.Reason != `deploying <!channel> & the new cluster` || !s.End.Equal(end) {
		t.Fatalf("stored client silence = %+v", s)
	}
	if s := all[0]; s.Site != "www.example-1" || !s.Matches("acme", "www.example-1", silenceT0) || s.Matches("acme", "api", silenceT0) {
		t.Fatalf("stored site silence = %+v", s)
	}

	clk.Advance(10 * time.Minute)
	list := text(f.run(support, "silences"))
	iSite, iClient := strings.Index(list, siteID), strings.Index(list, id)
	if !strings.Contains(list, "Active silences (2)") || iSite < 0 || iClient < 0 || iSite > iClient {
		t.Fatalf("list should show both, the one ending first first:\n%s", list)
	}
	for _, want := range []string{"*acme*", "*acme/www.example-1*", "(1h 50m left)", "(1h 20m left)", "by <@" + support + ">", "deploying &lt;!channel&gt; &amp; the new cluster", "restarting nginx"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "<!channel>") {
		t.Fatalf("user text not escaped in the list:\n%s", list)
	}

	// The site silence runs out on its own.
	clk.Advance(80 * time.Minute)
	if list := text(f.run(support, "silences")); strings.Contains(list, siteID) || !strings.Contains(list, "Active silences (1)") {
		t.Fatalf("expired silence still listed:\n%s", list)
	}

	if got := f.run(support, "unsilence "+strings.ToUpper(id)); !strings.Contains(got.Text, "Ended silence `"+id+"` on *acme*") {
		t.Fatalf("unsilence reply: %q", got.Text)
	}
	if all := f.silences(t, clk.Now()); len(all) != 0 {
		t.Fatalf("still active after unsilence: %+v", all)
	}
	if got := f.run(support, "unsilence "+id); !strings.Contains(got.Text, "There is no active silence") || !strings.Contains(got.Text, "`/ops silences`") {
		t.Fatalf("second unsilence: %q", got.Text)
	}
	if got := f.run(support, "unsilence <@U1>"); !strings.Contains(got.Text, `"&lt;@U1&gt;"`) {
		t.Fatalf("unknown id not escaped: %q", got.Text)
	}
	if got := f.run(support, "unsilence"); !strings.Contains(got.Text, "For example: `/ops unsilence s-abc123`") {
		t.Fatalf("unsilence without id: %q", got.Text)
	}
	if got := f.run(support, "silences"); got.Text != "No active silences." {
		t.Fatalf("list at the end: %q", got.Text)
	}

	entries, err := f.st.RecentAudit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "silence.") {
			actions = append(actions, e.Action+" "+e.Target+" "+e.Actor)
		}
	}
	wantActions := []string{"silence.remove " + id + " " + support, "silence.add " + siteID + " " + support, "silence.add " + id + " " + support}
	if strings.Join(actions, "|") != strings.Join(wantActions, "|") {
		t.Fatalf("audit = %v\nwant %v", actions, wantActions)
	}
}

func TestSilencePermissions(t *testing.T) {
	f, _ := newSilenceFixture(t)
	users := []struct {
		id      string
		g       store.Grant
		allowed bool
	}{
		{"UNOROLE001", store.Grant{}, false},
		{"UENGINEER1", store.Grant{Role: store.Engineer}, false},
		{"UFINANCE01", store.Grant{Role: store.Finance}, false},
		{"USTAKE0001", store.Grant{Role: store.Stakeholder, Client: "acme"}, false},
		{"USECURITY1", store.Grant{Role: store.Security}, false},
		{support, store.Grant{Role: store.Support}, true},
		{admin, store.Grant{}, true}, // bootstrap admin
	}
	existing, err := f.st.AddSilence(context.Background(), store.Silence{Client: "beta", Reason: "seed", CreatedBy: admin, Start: silenceT0, End: silenceT0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.g.Role != "" {
			f.grant(t, u.id, u.g)
		}
		before := len(f.silences(t, silenceT0))
		for _, cmd := range []string{"silence acme 2h deploy", "silences", "unsilence s-zzzzzz", "silence help"} {
			got := text(f.run(u.id, cmd))
			if denied := strings.Contains(got, ":no_entry:"); denied == u.allowed {
				t.Errorf("%s (%s) %q → %q; allowed=%v", u.id, u.g, cmd, got, u.allowed)
			}
		}
		after := f.silences(t, silenceT0)
		if !u.allowed && len(after) != before {
			t.Errorf("%s was denied but the silences changed: %d → %d", u.id, before, len(after))
		}
		if !u.allowed {
			if got := text(f.run(u.id, "unsilence "+existing.ID)); !strings.Contains(got, ":no_entry:") {
				t.Errorf("%s ended a silence: %q", u.id, got)
			}
		}
	}
	if all := f.silences(t, silenceT0); !containsID(all, existing.ID) {
		t.Fatalf("a denied unsilence removed %s: %+v", existing.ID, all)
	}
	if got := text(f.run("UENGINEER1", "silence acme 2h deploy")); !strings.Contains(got, "*support*") || !strings.Contains(got, "/ops role grant @you support") {
		t.Fatalf("refusal should name the role to ask for: %q", got)
	}
}

func TestSilenceWithoutStore(t *testing.T) {
	f := newFixture(t) // the shared fixture has no silence store
	f.grant(t, support, store.Grant{Role: store.Support})
	for _, cmd := range []string{"silence acme 2h deploy", "silences", "unsilence s-abc123"} {
		if got := f.run(support, cmd); !strings.Contains(got.Text, "Silences are not available") {
			t.Errorf("%q without a store → %q", cmd, got.Text)
		}
	}
}

func containsID(all []store.Silence, id string) bool {
	for _, s := range all {
		if s.ID == id {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSilenceUnknownSiteRefused(t *testing.T) {
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) { d.Silences, d.Sites = st, st })
	ctx := context.Background()
	if _, _, err := f.st.RecordCheck(ctx, store.SiteStatus{Key: "uptime/acme/www", Client: "acme", Site: "www", State: "up", LastChecked: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got := f.run(admin, "silence acme/nosuchsite 1h testing")
	if !strings.Contains(got.Text, `has no site "nosuchsite"`) || !strings.Contains(got.Text, "Its sites: www") {
		t.Fatalf("reply: %q", got.Text)
	}
	if all, _ := f.st.Silences(ctx, time.Now()); len(all) != 0 {
		t.Fatalf("stored: %+v", all)
	}
	if got := f.run(admin, "silence acme/www 1h testing"); !strings.Contains(got.Text, "Silenced *acme/www*") {
		t.Fatalf("known site: %q", got.Text)
	}
}
