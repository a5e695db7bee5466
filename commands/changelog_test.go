package commands_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"regexp"
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

func TestChangelogFinanceExportsCSV(t *testing.T) {
	f, up := newChangelogFixture(t)
	f.novemberLog(t)
	f.grant(t, clFinance, store.Grant{Role: store.Finance})
	got := f.run(clFinance, "changelog export 2026-11").Text
	if got != "The change log for November 2026 (4 entries) is in your direct messages with me as `changelog-2026-11.csv`." {
		t.Fatalf("export reply: %q", got)
	}
	files := up.all()
	if len(files) != 1 {
		t.Fatalf("uploads: %+v", files)
	}
	u := files[0]
	if u.channel != "dm:"+clFinance || u.filename != "changelog-2026-11.csv" || !strings.Contains(u.title, "November 2026") {
		t.Errorf("upload = %s %s %q", u.channel, u.filename, u.title)
	}
	rows, err := csv.NewReader(bytes.NewReader(u.content)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, u.content)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want a header and 4 entries:\n%s", len(rows), u.content)
	}
	head := rows[0]
	if n := reflect.TypeFor[store.ChangeLogEntry]().NumField(); len(head) != n {
		t.Errorf("%d columns for the %d fields of ChangeLogEntry: %v", len(head), n, head)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		byID[r[col["id"]]] = r
	}
	cell := func(id, name string) string {
		t.Helper()
		i, ok := col[name]
		if !ok {
			t.Fatalf("no column %q in %v", name, head)
		}
		return byID[id][i]
	}
	stored, err := f.st.ChangeLog(context.Background(), "2026-11")
	if err != nil || len(stored) != 4 {
		t.Fatalf("stored log: %v %v", stored, err)
	}
	e := stored[0]
	for name, want := range map[string]string{
		"stream_id": e.StreamID, "client": "acme", "title": "Bigger database <b>now</b>", "issue": "acme/web#42",
		"requester": clRequester, "proposer": clSupport, "approvers": "UST0000001 (stakeholder), UFIN000001 (finance)",
		"rejected_by": "", "magnitude": "minor", "current_monthly_usd": "600.00", "proposed_monthly_usd": "720.00",
		"delta_monthly_usd": "120.00", "plan": "Move to a bigger instance", "outcome": "done", "reason": "",
		"requested_at": e.RequestedAt.UTC().Format(time.RFC3339), "proposed_at": e.ProposedAt.UTC().Format(time.RFC3339),
		"approved_at": e.ApprovedAt.UTC().Format(time.RFC3339), "cut_over_at": e.CutOverAt.UTC().Format(time.RFC3339),
		"finished_at": e.FinishedAt.UTC().Format(time.RFC3339), "window_start": "", "window_end": "",
	} {
		if got := cell("CR-1", name); got != want {
			t.Errorf("CR-1 %s = %q, want %q", name, got, want)
		}
	}
	if fin, err := time.Parse(time.RFC3339, cell("CR-1", "finished_at")); err != nil || fin.Location() != time.UTC || fin.Month() != time.November {
		t.Errorf("finished_at %q: %v", cell("CR-1", "finished_at"), err)
	}
	// Formula injection: text cells starting with = + - @ are quoted.
	if got := cell("CR-2", "title"); got != `'=HYPERLINK("http://evil.example","click")` {
		t.Errorf("formula title exported as %q", got)
	}
	if got := cell("CR-4", "reason"); got != "'-too expensive this quarter" {
		t.Errorf("reason exported as %q", got)
	}
	if got := cell("CR-4", "rejected_by"); got != clFinance {
		t.Errorf("rejected_by = %q", got)
	}
	if got := cell("CR-3", "outcome"); got != "rolled back" {
		t.Errorf("CR-3 outcome = %q", got)
	}
	for _, r := range rows[1:] {
		for i, v := range r {
			if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
				t.Errorf("column %s starts with a formula character: %q", head[i], v)
			}
		}
	}
}

func TestChangelogEmptyMonth(t *testing.T) {
	f, up := newChangelogFixture(t)
	f.novemberLog(t)
	if got := f.run(admin, "changelog 2026-09").Text; got != "No change requests finished in September 2026." {
		t.Errorf("empty list: %q", got)
	}
	if got := f.run(admin, "changelog export 2026-09").Text; !strings.Contains(got, "nothing to export") {
		t.Errorf("empty export: %q", got)
	}
	if len(up.all()) != 0 {
		t.Errorf("empty month uploaded: %+v", up.all())
	}
}

func TestChangelogUploadFails(t *testing.T) {
	f, up := newChangelogFixture(t)
	f.novemberLog(t)
	up.err = errors.New("slack down")
	got := f.run(admin, "changelog export 2026-11").Text
	if !strings.HasPrefix(got, ":x: I could not upload the change log for November 2026 (ref ") {
		t.Errorf("failed upload: %q", got)
	}
}

func TestChangelogNotConfigured(t *testing.T) {
	f := newFixture(t)
	for _, in := range []string{"changelog", "changelog export"} {
		if got := f.run(admin, in).Text; !strings.Contains(got, "change log is not configured") {
			t.Errorf("%q without a change log: %q", in, got)
		}
	}
	g := newFixtureWith(t, func(d *commands.Deps, st *store.Store) { d.ChangeLog = st })
	if got := g.run(admin, "changelog export").Text; !strings.Contains(got, "File uploads are not configured") {
		t.Errorf("export without uploads: %q", got)
	}
	if got := g.run(admin, "changelog").Text; !strings.HasPrefix(got, "No change requests finished in") {
		t.Errorf("list without uploads: %q", got)
	}
}

func TestChangelogLongMonthPaginated(t *testing.T) {
	f, up := newChangelogFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		id := fmt.Sprintf("CR-%d", i+1)
		cr, err := store.NewChangeRequest(id, "acme", strings.Repeat("x", 140)+fmt.Sprintf(" %03d", i), "slow", "", clRequester, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := cr.Cancel(clRequester, strings.Repeat("reason <y> ", 15), at.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := f.st.AppendChangeLog(ctx, *cr, "", at.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	r := f.run(admin, "changelog 2026-11")
	checkLimits(t, r)
	got := text(r)
	if !strings.Contains(got, "300 changes: 300 cancelled · net $0.00/month") {
		t.Errorf("summary missing:\n%s", got)
	}
	if !regexp.MustCompile("… and \\d+ more\\. `/ops changelog export 2026-11` has every entry").MatchString(got) {
		t.Errorf("no \"and N more\" line:\n%s", got)
	}
	if got := f.run(admin, "changelog export 2026-11").Text; !strings.Contains(got, "(300 entries)") {
		t.Errorf("export: %q", got)
	}
	if files := up.all(); len(files) != 1 || bytes.Count(files[0].content, []byte("\n")) != 301 {
		t.Errorf("export of 300 entries: %d files", len(files))
	}
}
