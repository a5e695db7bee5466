package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

var freezeT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// newFreezeFixture wires the freeze view to the real store at a fixed clock.
func newFreezeFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Freezes, d.Now = st, func() time.Time { return freezeT0.Add(time.Hour) }
	})
}

func (f *fixture) addFreeze(t *testing.T, fr store.Freeze) {
	t.Helper()
	if err := f.st.AddFreeze(context.Background(), fr); err != nil {
		t.Fatal(err)
	}
}

func TestFreezeListsActiveFreezes(t *testing.T) {
	f := newFreezeFixture(t)
	f.grant(t, "UENGINEER1", store.Grant{Role: store.Engineer})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-9", Client: "beta", Repos: []string{"beta/shop", "Beta/API"},
		Start: freezeT0, End: freezeT0.Add(5 * time.Hour), Reason: "move <db> & *cut over*"})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/website"},
		Start: freezeT0, End: freezeT0.Add(3 * time.Hour), Reason: "database move"})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-3", Client: "acme", Start: freezeT0, End: freezeT0.Add(2 * time.Hour)})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-1", Client: "acme", Repos: []string{"acme/old"}, // over at the clock
		Start: freezeT0.Add(-2 * time.Hour), End: freezeT0.Add(time.Hour)})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-12", Client: "acme", Repos: []string{"acme/later"}, // not yet
		Start: freezeT0.Add(4 * time.Hour), End: freezeT0.Add(6 * time.Hour)})

	got := f.run("UENGINEER1", "freeze")
	all := text(got)
	if !strings.HasPrefix(got.Text, "Active deploy freezes (3)") || got.InChannel {
		t.Fatalf("freeze reply:\n%s", all)
	}
	end7 := freezeT0.Add(3 * time.Hour).Unix()
	for _, want := range []string{
		fmt.Sprintf("🧊 *CR-7* · Acme Ltd (`acme`) · `acme/website` · until <!date^%d^{date_short_pretty} {time}|2026-11-22 13:00 UTC> (2h left) · database move", end7),
		"🧊 *CR-9* · Beta &amp; Co (`beta`) · `beta/api`, `beta/shop` · until",
		"(4h left) · move &lt;db&gt; &amp; *cut over*",
		"🧊 *CR-3* · Acme Ltd (`acme`) · _no repositories_ (announced only) · until",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("freeze list lacks %q:\n%s", want, all)
		}
	}
	for _, not := range []string{"CR-1", "CR-12", "<db>"} {
		if strings.Contains(all, not) {
			t.Errorf("freeze list shows %q:\n%s", not, all)
		}
	}
	if i3, i7, i9 := strings.Index(all, "CR-3"), strings.Index(all, "CR-7"), strings.Index(all, "CR-9"); i3 >= i7 || i7 >= i9 {
		t.Errorf("freezes not ordered by end (CR-3, CR-7, CR-9):\n%s", all)
	}
	if got := f.run("UENGINEER1", "freeze acme"); !strings.HasPrefix(got.Text, ":warning:") || !strings.Contains(got.Text, "takes no arguments") {
		t.Errorf("freeze with an argument: %q", got.Text)
	}
}

func TestFreezeEmptyAndNotConfigured(t *testing.T) {
	f := newFreezeFixture(t)
	if got := f.run(admin, "freeze"); got.Text != "No deploy freeze is active." {
		t.Fatalf("no freezes: %q", got.Text)
	}
	f.addFreeze(t, store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/web"}, Start: freezeT0, End: freezeT0.Add(2 * time.Hour)})
	if err := f.st.EndFreeze(context.Background(), "CR-7"); err != nil { // the change closed
		t.Fatal(err)
	}
	if got := f.run(admin, "freeze"); got.Text != "No deploy freeze is active." {
		t.Fatalf("after the change closed: %q", got.Text)
	}

	bare := newFixture(t) // Deps.Freezes nil
	if got := bare.run(admin, "freeze"); !strings.Contains(got.Text, "not configured") {
		t.Fatalf("without a freeze view: %q", got.Text)
	}
}

type failingFreezes struct{}

func (failingFreezes) ActiveFreezes(context.Context, time.Time) ([]store.Freeze, error) {
	return nil, fmt.Errorf("list freezes: %w", store.ErrUnavailable)
}

func TestFreezeStoreUnavailable(t *testing.T) {
	f := newFixtureWith(t, func(d *commands.Deps, _ *store.Store) { d.Freezes = failingFreezes{} })
	got := f.run(admin, "freeze")
	if !strings.Contains(got.Text, "state store (Redis) is not answering") || got.InChannel {
		t.Fatalf("store down: %q", got.Text)
	}
}

func TestFreezeEveryRoleMayList(t *testing.T) {
	f := newFreezeFixture(t)
	for i, g := range []store.Grant{{Role: store.Support}, {Role: store.Engineer}, {Role: store.Finance},
		{Role: store.Stakeholder, Client: "acme"}, {Role: store.Security}} {
		user := fmt.Sprintf("UROLE%05d", i)
		f.grant(t, user, g)
		want := "No deploy freeze is active."
		if g.Role == store.Stakeholder {
			want = "No deploy freeze is active for your clients."
		}
		if got := f.run(user, "freeze"); got.Text != want {
			t.Errorf("%s: freeze → %q", g.Role, got.Text)
		}
		if help := text(f.run(user, "help")); !strings.Contains(help, "*`/ops freeze`*") || !strings.Contains(help, "e.g. `/ops freeze`") {
			t.Errorf("%s: help does not list freeze:\n%s", g.Role, help)
		}
	}
	if got := f.run(admin, "freeze"); got.Text != "No deploy freeze is active." {
		t.Errorf("admin: freeze → %q", got.Text)
	}
	if got := f.run("UNOBODY001", "freeze"); got.Text == "No deploy freeze is active." {
		t.Errorf("a user without any role may list freezes: %q", got.Text)
	}
}

// TestFreezeStakeholderSeesOwnClientsOnly: another client's change, title,
// repositories and window stay out of a stakeholder's list.
func TestFreezeStakeholderSeesOwnClientsOnly(t *testing.T) {
	f := newFreezeFixture(t)
	f.grant(t, "USTBETA001", store.Grant{Role: store.Stakeholder, Client: "beta"})
	f.addFreeze(t, store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/website"},
		Start: freezeT0, End: freezeT0.Add(3 * time.Hour), Reason: "Acme database move"})
	if got := text(f.run("USTBETA001", "freeze")); got != "No deploy freeze is active for your clients." {
		t.Fatalf("beta's stakeholder sees: %s", got)
	}
	f.addFreeze(t, store.Freeze{ChangeID: "CR-9", Client: "beta", Repos: []string{"beta/shop"},
		Start: freezeT0, End: freezeT0.Add(5 * time.Hour), Reason: "Beta shop move"})
	got := text(f.run("USTBETA001", "freeze"))
	if !strings.Contains(got, "Active deploy freezes (1)") || !strings.Contains(got, "CR-9") {
		t.Fatalf("beta's stakeholder's list: %s", got)
	}
	for _, not := range []string{"CR-7", "acme", "Acme"} {
		if strings.Contains(got, not) {
			t.Errorf("beta's stakeholder sees %q: %s", not, got)
		}
	}
	if got := text(f.run(admin, "freeze")); !strings.Contains(got, "Active deploy freezes (2)") {
		t.Fatalf("admin's list: %s", got)
	}
}
