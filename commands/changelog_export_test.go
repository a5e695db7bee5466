package commands_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
)

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
