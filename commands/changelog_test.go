package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

const (
	clRequester   = "UREQ000001"
	clSupport     = "USUP000001"
	clStakeholder = "UST0000001"
	clFinance     = "UFIN000001"
)

// clNow is the router's clock for the change log tests: November 2026.
var clNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// upload is one file handed to the in-test Uploader.
type upload struct {
	channel, filename, title string
	content                  []byte
}

// uploads records uploads (or fails them with err).
type uploads struct {
	mu   sync.Mutex
	got  []upload
	err  error
	next int
}

func (u *uploads) Upload(_ context.Context, channel, filename, title string, content []byte) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return "", u.err
	}
	u.next++
	u.got = append(u.got, upload{channel, filename, title, bytes.Clone(content)})
	return fmt.Sprintf("F%07d", u.next), nil
}

// UploadDM records a direct message upload as channel "dm:<user>".
func (u *uploads) UploadDM(ctx context.Context, userID, filename, title string, content []byte) (string, error) {
	return u.Upload(ctx, "dm:"+userID, filename, title, content)
}

func (u *uploads) all() []upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upload(nil), u.got...)
}

func newChangelogFixture(t *testing.T) (*fixture, *uploads) {
	t.Helper()
	up := &uploads{}
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.ChangeLog, d.Files, d.Now = st, up, func() time.Time { return clNow }
	})
	return f, up
}

// clChange is one request to walk to its end.
type clChange struct {
	client, title   string
	cur, proposed   store.Money
	outcome         string // done, rolled back, rejected, cancelled
	reason          string
	start           time.Time
	withoutProposal bool
}

// logChange stores a new request and walks it to its end through its
// methods with UpdateChange, which appends its change log entry.
func (f *fixture) logChange(t *testing.T, ch clChange) string {
	t.Helper()
	ctx := context.Background()
	id, err := f.st.NextChangeID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := ch.start
	step := func() time.Time { at = at.Add(time.Hour); return at }
	cr, err := store.NewChangeRequest(id, ch.client, ch.title, "The site is slow at peak", "acme/web#42", clRequester, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateChange(ctx, cr); err != nil {
		t.Fatal(err)
	}
	_, err = f.st.UpdateChange(ctx, id, at, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		if err := c.Investigate(clSupport, step()); err != nil {
			return nil, err
		}
		if ch.withoutProposal {
			return nil, c.Cancel(clRequester, ch.reason, step())
		}
		p := store.Proposal{Plan: "Move to a bigger instance", Magnitude: store.MagnitudeMinor,
			CurrentMonthly: ch.cur, ProposedMonthly: ch.proposed}
		if err := c.Propose(p, nil, clSupport, step()); err != nil {
			return nil, err
		}
		if ch.outcome == "rejected" {
			return nil, c.Reject(store.Approval{By: clFinance, Role: store.ApproverFinance, ProposalVersion: 1, Comment: ch.reason}, step())
		}
		if c.NeedsApproval() {
			for _, a := range []store.Approval{{By: clStakeholder, Role: store.ApproverStakeholder}, {By: clFinance, Role: store.ApproverFinance}} {
				if !slices.Contains(c.RequiredApprovers(), a.Role) {
					continue
				}
				a.ProposalVersion = c.Proposal.Version
				if _, err := c.Approve(a, 0, step()); err != nil {
					return nil, err
				}
			}
		}
		if ch.outcome == "cancelled" {
			return nil, c.Cancel(clRequester, ch.reason, step())
		}
		smokeWaived := func(by string, at time.Time) error {
			if err := c.SmokeTest(by, at); err != nil {
				return err
			}
			return c.Waive(by, "checked by hand", at)
		}
		for _, do := range []func(string, time.Time) error{c.Schedule, c.Provision, smokeWaived, c.CutOver} {
			if err := do(clSupport, step()); err != nil {
				return nil, err
			}
		}
		if ch.outcome == "rolled back" {
			return nil, c.RollBack(clSupport, ch.reason, step())
		}
		for _, do := range []func(string, time.Time) error{c.Verify, c.Retire, c.Close} {
			if err := do(clSupport, step()); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// novemberLog fills November 2026 with four changes (and October with one).
func (f *fixture) novemberLog(t *testing.T) {
	t.Helper()
	nov := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	f.logChange(t, clChange{client: "acme", title: "Bigger database <b>now</b>", cur: 60000, proposed: 72000, outcome: "done", start: nov})
	f.logChange(t, clChange{client: "beta", title: `=HYPERLINK("http://evil.example","click")`, cur: 10000, proposed: 16000, outcome: "done", start: nov.Add(48 * time.Hour)})
	f.logChange(t, clChange{client: "acme", title: "New CDN", cur: 20000, proposed: 25000, outcome: "rolled back", reason: "latency got worse", start: nov.Add(96 * time.Hour)})
	f.logChange(t, clChange{client: "beta", title: "Second region", cur: 50000, proposed: 90000, outcome: "rejected", reason: "-too expensive this quarter", start: nov.Add(144 * time.Hour)})
	f.logChange(t, clChange{client: "acme", title: "October thing", outcome: "cancelled", reason: "not needed", withoutProposal: true,
		start: time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)})
}

func TestChangelogListMonth(t *testing.T) {
	f, up := newChangelogFixture(t)
	f.novemberLog(t)
	for _, cmd := range []string{"changelog 2026-11", "changelog"} {
		r := f.run(admin, cmd)
		checkLimits(t, r)
		got := text(r)
		for _, want := range []string{
			"Change log — November 2026",
			"4 changes: 2 done, 1 rolled back, 1 rejected · net +$180.00/month",
			"Bigger database &lt;b&gt;now&lt;/b&gt;",
			"approved by <@UST0000001> (stakeholder), <@UFIN000001> (finance)",
			"rejected by <@UFIN000001>",
			"_latency got worse_",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: lacks %q:\n%s", cmd, want, got)
			}
		}
		if strings.Contains(got, "<b>") || strings.Contains(got, "October thing") {
			t.Errorf("%s: unescaped text or another month's entry:\n%s", cmd, got)
		}
		l := line(t, got, "`CR-1`")
		for _, want := range []string{"Acme Ltd (`acme`)", "✅ *done*", "+$120.00/month (+20 %)", "finished <!date^"} {
			if !strings.Contains(l, want) {
				t.Errorf("%s: CR-1 line lacks %q: %s", cmd, want, l)
			}
		}
		if l := line(t, got, "`CR-3`"); !strings.Contains(l, "↩️ *rolled back*") || !strings.Contains(l, "+$50.00/month (+25 %)") {
			t.Errorf("%s: CR-3 line: %s", cmd, l)
		}
	}
	oct := text(f.run(admin, "changelog 2026-10"))
	if !strings.Contains(oct, "1 change: 1 cancelled · net $0.00/month") || !strings.Contains(line(t, oct, "`CR-5`"), "no proposal") {
		t.Errorf("October:\n%s", oct)
	}
	if len(up.all()) != 0 {
		t.Errorf("listing uploaded files: %+v", up.all())
	}
}

func TestChangelogBadMonth(t *testing.T) {
	f, up := newChangelogFixture(t)
	for _, in := range []string{"changelog 2026-13", "changelog nov", "changelog 2026-1", "changelog 2026-11 2026-12", "changelog export 2026-13", "changelog export 11-2026"} {
		got := f.run(admin, in).Text
		if !strings.HasPrefix(got, ":warning:") || !strings.Contains(got, "/ops changelog") || !strings.Contains(got, "2026-11") {
			t.Errorf("%q → %q", in, got)
		}
	}
	if got := f.run(admin, "changelog 2026-13").Text; !strings.Contains(got, "`/ops changelog 2026-11`") {
		t.Errorf("bad month example: %q", got)
	}
	if len(up.all()) != 0 {
		t.Errorf("bad input uploaded files: %+v", up.all())
	}
}

func TestChangelogSupportListsButMayNotExport(t *testing.T) {
	f, up := newChangelogFixture(t)
	f.novemberLog(t)
	f.grant(t, support, store.Grant{Role: store.Support})
	if got := text(f.run(support, "changelog 2026-11")); !strings.Contains(got, "4 changes") {
		t.Errorf("support list:\n%s", got)
	}
	got := f.run(support, "changelog export 2026-11").Text
	if !strings.HasPrefix(got, ":no_entry: To export the change log you need one of these roles: *admin*, *finance*") {
		t.Errorf("support export → %q", got)
	}
	const engineer = "UENGINEER1"
	f.grant(t, engineer, store.Grant{Role: store.Engineer})
	if got := f.run(engineer, "changelog").Text; !strings.HasPrefix(got, ":no_entry:") {
		t.Errorf("engineer list → %q", got)
	}
	if len(up.all()) != 0 {
		t.Errorf("refused export uploaded: %+v", up.all())
	}
}
