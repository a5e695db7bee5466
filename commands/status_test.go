package commands_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

var statusT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const stakeholderAcme = "USTAKE0001"

// newStatusFixture wires the real store as the site view.
func newStatusFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: statusT0}
	return newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Silences, d.Sites, d.Now = st, st, clk.Now
		d.SLATargets = map[string]float64{"acme": 99.9, "beta": 99.5}
		d.Directory = directory{"alice": "UALICE0001"}
		d.Clients = map[string]string{"acme": "Acme Ltd", "beta": "Beta & Co", "gamma": "Gamma"}
	})
}

// site records one check of client/site through the store's own method.
func (f *fixture) site(t *testing.T, client, site, state, errText string, rt time.Duration, uptime float64) {
	t.Helper()
	ctx := context.Background()
	key := "uptime/" + client + "/" + site
	st := store.SiteStatus{Key: key, Client: client, Site: site, URL: "https://" + site + "." + client + ".example/health?a=1&b=2",
		Source: "statuscake", State: state, LastChecked: statusT0.Add(-time.Hour), ResponseTime: rt, Error: errText}
	if _, _, err := f.st.RecordCheck(ctx, st); err != nil {
		t.Fatal(err)
	}
	if uptime >= 0 {
		if err := f.st.SetMonthUptime(ctx, key, "2026-11", uptime); err != nil {
			t.Fatal(err)
		}
	}
}

// fire drives the site's alert to firing (and acknowledged when by != "").
func (f *fixture) fire(t *testing.T, client, site, by string) {
	t.Helper()
	key := "uptime/" + client + "/" + site
	_, err := f.st.UpdateAlert(context.Background(), key, statusT0, func(a *store.Alert) ([]store.OutboxItem, error) {
		a.Monitor, a.Client, a.Subject = "uptime", client, site
		if tr := a.Observe(false, "status 503", statusT0.Add(-30*time.Minute), store.Thresholds{}, false); tr != store.Fired {
			return nil, fmt.Errorf("observe: %q", tr)
		}
		if by != "" {
			if _, err := a.Ack(by, statusT0.Add(-10*time.Minute)); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) standardSites(t *testing.T) {
	t.Helper()
	f.site(t, "acme", "www", "up", "", 412*time.Millisecond, 99.95)
	f.site(t, "acme", "api", "down", "status 503 <!channel> & friends", 0, 99.5)
	f.site(t, "acme", "shop", "down", "timeout after 10s", 0, -1)
	f.site(t, "acme", "blog", "down", "keyword missing", 0, 99.99)
	f.site(t, "beta", "www", "up", "", 120*time.Millisecond, 100)
	f.fire(t, "acme", "api", "")
	f.fire(t, "acme", "shop", "UBOB000001")
	if _, err := f.st.AddSilence(context.Background(), store.Silence{Client: "acme", Site: "blog", Reason: "migrating",
		CreatedBy: admin, Start: statusT0.Add(-time.Hour), End: statusT0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// checkLimits asserts Slack's limits on a reply.
func checkLimits(t *testing.T, r commands.Reply) {
	t.Helper()
	if len(r.Blocks) > 50 {
		t.Errorf("%d blocks; Slack allows 50", len(r.Blocks))
	}
	for i, b := range r.Blocks {
		var texts []string
		switch b := b.(type) {
		case *slack.SectionBlock:
			texts = append(texts, b.Text.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tx, ok := e.(*slack.TextBlockObject); ok {
					texts = append(texts, tx.Text)
				}
			}
		case *slack.HeaderBlock:
			if n := len([]rune(b.Text.Text)); n > 150 {
				t.Errorf("header of %d characters", n)
			}
		}
		for _, tx := range texts {
			if len(tx) > 3000 {
				t.Errorf("block %d has %d characters; Slack allows 3,000", i, len(tx))
			}
		}
	}
}

// line returns the line of the flattened reply mentioning s.
func line(t *testing.T, all, s string) string {
	t.Helper()
	for l := range strings.SplitSeq(all, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line mentions %q in:\n%s", s, all)
	return ""
}

func TestStatusOneClient(t *testing.T) {
	f := newStatusFixture(t)
	f.standardSites(t)
	r := f.run(admin, "status acme")
	checkLimits(t, r)
	got := text(r)
	if h, ok := r.Blocks[0].(*slack.HeaderBlock); !ok || h.Text.Text != "Acme Ltd — status" {
		t.Fatalf("header: %#v", r.Blocks[0])
	}
	for _, want := range []string{"4 sites: 1 up, 3 down", "SLA target 99.9 %"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	www := line(t, got, "|www>")
	for _, want := range []string{"🟢 *up*", "<https://www.acme.example/health?a=1&amp;b=2|www>", "412 ms", "99.95 % (target 99.9 %)", "since <!date^"} {
		if !strings.Contains(www, want) {
			t.Errorf("www line lacks %q: %s", want, www)
		}
	}
	if strings.Contains(www, "⚠️") {
		t.Errorf("www is above target but flagged: %s", www)
	}
	api := line(t, got, "|api>")
	for _, want := range []string{"🔴 *down*", "99.50 % (target 99.9 %) ⚠️ below target", "incident open since <!date^", "status 503 &lt;!channel&gt; &amp; friends"} {
		if !strings.Contains(api, want) {
			t.Errorf("api line lacks %q: %s", want, api)
		}
	}
	if strings.Contains(got, "<!channel>") {
		t.Errorf("site error not escaped:\n%s", got)
	}
	shop := line(t, got, "|shop>")
	for _, want := range []string{"🟠 *acknowledged* (down)", "acknowledged by <@UBOB000001>", "month uptime —", "timeout after 10s"} {
		if !strings.Contains(shop, want) {
			t.Errorf("shop line lacks %q: %s", want, shop)
		}
	}
	blog := line(t, got, "|blog>")
	if !strings.Contains(blog, "⏸️ *silenced* (down)") {
		t.Errorf("blog line: %s", blog)
	}
	// down first: api (down), shop (acknowledged), blog (silenced), www (up)
	if i, j, k, l := strings.Index(got, "|api>"), strings.Index(got, "|shop>"), strings.Index(got, "|blog>"), strings.Index(got, "|www>"); !(i < j && j < k && k < l) {
		t.Errorf("order api %d, shop %d, blog %d, www %d:\n%s", i, j, k, l, got)
	}
	if strings.Contains(got, "beta") {
		t.Errorf("one client's status shows another's:\n%s", got)
	}
	if r.InChannel {
		t.Error("status should answer the caller only")
	}
}

func TestStatusAllClientsForAdmin(t *testing.T) {
	f := newStatusFixture(t)
	f.standardSites(t)
	r := f.run(admin, "status")
	checkLimits(t, r)
	got := text(r)
	if !strings.Contains(got, "3 clients · 5 sites: 2 up, 3 down") {
		t.Fatalf("summary:\n%s", got)
	}
	for _, want := range []string{"Acme Ltd (`acme`)", "Beta &amp; Co (`beta`)", "Gamma (`gamma`) · no sites monitored", "|acme/api>"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "|acme/api>") > strings.Index(got, "Beta &amp; Co") {
		t.Errorf("down sites should come before the client lines:\n%s", got)
	}
	if strings.Contains(got, "|beta/www>") {
		t.Errorf("an up site is listed among those needing attention:\n%s", got)
	}
	if l := line(t, got, "(`acme`)"); !strings.HasPrefix(l, "🔴") || !strings.Contains(l, "lowest this month 99.50 % ⚠️") {
		t.Errorf("acme line: %s", l)
	}
	if l := line(t, got, "(`beta`)"); !strings.HasPrefix(l, "🟢") || strings.Contains(l, "⚠️") {
		t.Errorf("beta line: %s", l)
	}
}

func TestStatusStakeholderSeesOnlyOwnClients(t *testing.T) {
	f := newStatusFixture(t)
	f.standardSites(t)
	f.grant(t, stakeholderAcme, store.Grant{Role: store.Stakeholder, Client: "acme"})

	got := text(f.run(stakeholderAcme, "status"))
	if !strings.Contains(got, "1 client · 4 sites: 1 up, 3 down") || strings.Contains(got, "beta") || strings.Contains(got, "Beta") || strings.Contains(got, "gamma") {
		t.Fatalf("stakeholder overview:\n%s", got)
	}
	if got := text(f.run(stakeholderAcme, "status acme")); !strings.Contains(got, "4 sites") {
		t.Fatalf("stakeholder own client:\n%s", got)
	}
	refused := f.run(stakeholderAcme, "status beta")
	if !strings.HasPrefix(refused.Text, ":no_entry:") || strings.Contains(text(refused), "www") || refused.InChannel {
		t.Fatalf("stakeholder of acme asking for beta: %q", text(refused))
	}
	// A prefix only matches clients the caller may see; the error lists only those.
	unknown := f.run(stakeholderAcme, "status zeta")
	if !strings.HasPrefix(unknown.Text, ":no_entry:") || !strings.Contains(unknown.Text, "Clients you can see: Acme Ltd (`acme`).") ||
		strings.Contains(unknown.Text, "beta") {
		t.Fatalf("unknown client for stakeholder: %q", unknown.Text)
	}
	// A client outside the scope is answered like one that does not exist.
	if strings.Replace(refused.Text, `"beta"`, `"zeta"`, 1) != unknown.Text || strings.Contains(refused.Text, "Beta") {
		t.Fatalf("another client %q and no client %q are told apart", refused.Text, unknown.Text)
	}
	if got := f.run(stakeholderAcme, "status g"); strings.Contains(got.Text, "gamma") || strings.Contains(got.Text, "Gamma") || !strings.HasPrefix(got.Text, ":no_entry:") {
		t.Fatalf("prefix of a client outside the scope: %q", got.Text)
	}
}

func TestStatusUnknownClientListsClients(t *testing.T) {
	f := newStatusFixture(t)
	got := f.run(admin, "status zeta")
	want := "I don't know a client called \"zeta\". Clients you can see: Acme Ltd (`acme`), Beta &amp; Co (`beta`), Gamma (`gamma`)."
	if !strings.HasPrefix(got.Text, ":warning:") || !strings.Contains(got.Text, want) || !strings.Contains(got.Text, "For example: `/ops status") {
		t.Fatalf("got %q", got.Text)
	}
	if got := text(f.run(admin, "status BE")); !strings.Contains(got, "Beta & Co — status") && !strings.Contains(got, "No sites are monitored") {
		t.Fatalf("prefix: %s", got)
	}
	if got := f.run(admin, "status <!channel>"); strings.Contains(got.Text, "<!channel>") {
		t.Fatalf("typed client not escaped: %q", got.Text)
	}
}

func TestStatusSourceUnavailable(t *testing.T) {
	f := newStatusFixture(t)
	f.standardSites(t)
	ctx := context.Background()
	if err := f.st.SetSourceStatus(ctx, store.SourceStatus{Source: "statuscake", OK: false, Reason: "HTTP 503 <bad>", At: statusT0.Add(-20 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetSourceStatus(ctx, store.SourceStatus{Source: "probe", OK: true, At: statusT0}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"status", "status acme"} {
		got := text(f.run(admin, cmd))
		l := line(t, got, "StatusCake")
		if !regexp.MustCompile(`^⚠️ StatusCake unavailable since <!date\^\d+\^[^>]+>: HTTP 503 &lt;bad&gt; — own probes keep running$`).MatchString(l) {
			t.Errorf("%s: source line %q", cmd, l)
		}
		if strings.Contains(got, "probes unavailable") {
			t.Errorf("%s: a healthy source reported:\n%s", cmd, got)
		}
	}
}

func TestStatusManySitesPaginated(t *testing.T) {
	f := newStatusFixture(t)
	for i := range 120 {
		state, errText := "up", ""
		if i%2 == 0 {
			state, errText = "down", strings.Repeat("connection refused <x> ", 20)
		}
		f.site(t, "acme", fmt.Sprintf("site%03d", i), state, errText, 90*time.Millisecond, 99.0)
	}
	for _, cmd := range []string{"status", "status acme"} {
		r := f.run(admin, cmd)
		checkLimits(t, r)
		got := text(r)
		if !strings.Contains(got, "120 sites: 60 up, 60 down") {
			t.Errorf("%s: summary missing:\n%s", cmd, got)
		}
		if !regexp.MustCompile(`… and \d+ more`).MatchString(got) {
			t.Errorf("%s: no \"and N more\" line:\n%s", cmd, got)
		}
	}
	all := text(f.run(admin, "status"))
	if !strings.Contains(all, "— `/ops status <client>` for one client") {
		t.Errorf("overview should point to the per-client view:\n%s", all)
	}
	if !strings.Contains(all, "(`beta`)") {
		t.Errorf("client lines must survive pagination:\n%s", all)
	}
}

func TestStatusNotConfigured(t *testing.T) {
	f := newFixture(t) // no Sites
	got := f.run(admin, "status")
	if !strings.Contains(got.Text, "Uptime monitoring is not configured") || got.InChannel {
		t.Fatalf("got %q", got.Text)
	}
}

func TestStatusRedisDown(t *testing.T) {
	f := newStatusFixture(t)
	f.standardSites(t)
	f.srv.Stop()
	got := f.run(admin, "status")
	if !strings.Contains(got.Text, "Redis") {
		t.Fatalf("got %q", got.Text)
	}
}

// A scheduled change's window mutes its client's sites: status says so.
func TestStatusShowsChangeWindow(t *testing.T) {
	f := newStatusFixture(t)
	f.site(t, "beta", "www", "down", "status 502", 0, -1)
	cr := &store.ChangeRequest{ID: "CR-7", Client: "beta", Title: "New cluster", RequestedBy: "UENG000001", State: store.ChangeScheduled,
		CreatedAt: statusT0.Add(-24 * time.Hour), Proposal: &store.Proposal{Plan: "blue/green", Magnitude: store.MagnitudeMinor,
			WindowStart: statusT0.Add(-time.Hour), WindowEnd: statusT0.Add(time.Hour), Version: 1}}
	if err := f.st.CreateChange(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	got := text(f.run(admin, "status beta"))
	if www := line(t, got, "|www>"); !strings.Contains(www, "⏸️ *change window* CR-7 (down)") {
		t.Fatalf("www line: %s", www)
	}
}
