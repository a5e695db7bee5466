package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

var evidenceTemplate = []store.ItemSpec{
	{Key: "quote", Title: "Hosting quote re-reviewed", Kind: store.ItemKindAttested, Role: store.Admin},
	{Key: "pentest", Title: "Pentest done", Kind: store.ItemKindAttested, Role: store.Security},
}

func pentestValues(ref, date string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"cl_pentest_ref": {"value": {Value: ref}}, "cl_pentest_date": {"value": {SelectedDate: date}}, "cl_note": {"value": {}}}
}

func item(t *testing.T, f *fixture, id, key string) store.ChecklistItem {
	t.Helper()
	cl, err := f.st.GetChecklist(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	it, err := cl.Item(key)
	if err != nil {
		t.Fatal(err)
	}
	return *it
}

// Tick on the pentest opens a form for security: the Zoonu report's
// reference and date, checked at submission (not in the future, not older
// than a year); a bad form changes nothing, a good one ticks the item with
// the evidence, audited.
func TestChecklistPentestEvidenceForm(t *testing.T) {
	t.Parallel()
	f, _ := checklistFixtureWith(t, evidenceTemplate, nil, nil)
	const alice, bob = "UALICE0001", "UBOB000001"
	f.grant(t, alice, store.Grant{Role: store.Support})
	f.grant(t, bob, store.Grant{Role: store.Security})
	if r := f.click(alice, "checklist.attest", "L-1|pentest"); r.Modal != nil || !strings.Contains(r.Text, "security role") {
		t.Fatalf("support ticking the pentest: %s (modal %v)", r.Text, r.Modal != nil)
	}
	form := f.click(bob, "checklist.attest", "L-1|pentest").Modal
	if form == nil || form.CallbackID != "checklist.evidence" {
		t.Fatalf("no evidence form: %+v", form)
	}
	now := time.Now().UTC()
	day := func(days int) string { return now.AddDate(0, 0, days).Format(time.DateOnly) }
	for _, tc := range []struct {
		ref, date, block, want string
	}{
		{"<script>", "", "cl_pentest_ref", "ZN-2026-0142"},
		{"ZN-2026-0142", "", "cl_pentest_date", "Pick the date on the report"},
		{"ZN-2026-0142", "30/11/2026", "cl_pentest_date", "Pick the date on the report"},
		{"ZN-2026-0142", day(3), "cl_pentest_date", "in the future"},
		{"ZN-2026-0142", day(-400), "cl_pentest_date", "more than 365 days ago"},
	} {
		res := f.submit(bob, "checklist.evidence", form.PrivateMetadata, pentestValues(tc.ref, tc.date))
		if !strings.Contains(res.Errors[tc.block], tc.want) {
			t.Errorf("%q %q: %+v", tc.ref, tc.date, res.Errors)
		}
	}
	if it := item(t, f, "L-1", "pentest"); it.State != store.ItemUnchecked {
		t.Fatalf("refused forms ticked it: %+v", it)
	}
	res := f.submit(bob, "checklist.evidence", form.PrivateMetadata, pentestValues(" ZN-2026-0142 ", day(-10)))
	if len(res.Errors) > 0 || res.Notice == nil || !strings.Contains(res.Notice.Text, "Pentest done ticked on L-1") {
		t.Fatalf("good form: %+v", res)
	}
	it := item(t, f, "L-1", "pentest")
	if want := "Zoonu report ZN-2026-0142 dated " + day(-10); it.State != store.ItemAttested || it.By != bob || it.Detail != want {
		t.Fatalf("after the form: %+v, want detail %q", it, want)
	}
	entries, err := f.st.RecentAudit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if e := entries[0]; e.Action != "checklist.attest" || e.Actor != bob || e.Reason != it.Detail {
		t.Fatalf("audit: %+v", e)
	}
	// Ticked: Tick again is refused at once, no form.
	if r := f.click(bob, "checklist.attest", "L-1|pentest"); r.Modal != nil || !strings.Contains(r.Text, "already ticked") {
		t.Fatalf("second tick: %s", r.Text)
	}
}

// The hosting quote's form shows the quote and opsbot's measured forecast
// for the admin to confirm; nothing is typed, and the figures recorded are
// measured again at submission.
func TestChecklistQuoteFormShowsMeasuredFigures(t *testing.T) {
	t.Parallel()
	costs := measured{"acme": {Monthly: 105000, At: time.Now().Add(-2 * time.Hour)}}
	f, _ := checklistFixtureWith(t, evidenceTemplate, nil, func(d *commands.Deps) {
		d.CostQuotes = map[string]float64{"acme": 1000, "beta": 500}
		d.CostEstimates = costs
	})
	form := f.click(admin, "checklist.attest", "L-1|quote").Modal
	if form == nil {
		t.Fatal("no quote form")
	}
	raw, _ := json.Marshal(form)
	if s := string(raw); !strings.Contains(s, "*Hosting quote:* $1,000.00 a month") || !strings.Contains(s, "*Forecast this month:* $1,050.00") ||
		!strings.Contains(s, "+$50.00/month (+5") || strings.Contains(s, "plain_text_input\",\"action_id\":\"value\",\"initial_value\":\"1") {
		t.Fatalf("form: %s", s)
	}
	for _, b := range form.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID != "cl_quote_confirm" && in.BlockID != "cl_note" {
			t.Errorf("the form asks for %s: figures are measured, not typed", in.BlockID)
		}
	}
	none := map[string]map[string]slack.BlockAction{"cl_quote_confirm": {"value": {}}, "cl_note": {"value": {}}}
	if res := f.submit(admin, "checklist.evidence", form.PrivateMetadata, none); !strings.Contains(res.Errors["cl_quote_confirm"], "Tick the box") {
		t.Fatalf("unconfirmed: %+v", res)
	}
	costs["acme"] = store.CostMeasure{Monthly: 110000, At: time.Now()}
	confirmed := map[string]map[string]slack.BlockAction{"cl_quote_confirm": {"value": {SelectedOptions: []slack.OptionBlockObject{{Value: "reviewed"}}}},
		"cl_note": {"value": {Value: "still two web servers and one db"}}}
	if res := f.submit(admin, "checklist.evidence", form.PrivateMetadata, confirmed); len(res.Errors) > 0 {
		t.Fatalf("confirmed: %+v", res)
	}
	it := item(t, f, "L-1", "quote")
	if it.State != store.ItemAttested || !strings.Contains(it.Detail, "quote $1,000.00 a month re-reviewed against the forecast $1,100.00") ||
		!strings.Contains(it.Detail, "+$100.00/month (+10") || !strings.HasSuffix(it.Detail, " — still two web servers and one db") {
		t.Fatalf("after the form: %+v", it)
	}

	// No forecast measured for beta: refused at once, saying how to get one.
	if got := text(f.run(admin, "checklist new beta")); !strings.Contains(got, "L-2 opened") {
		t.Fatal(got)
	}
	if r := f.click(admin, "checklist.attest", "L-2|quote"); r.Modal != nil || !strings.Contains(r.Text, "no measured cost forecast for") || !strings.Contains(r.Text, "/ops cost beta --refresh") {
		t.Fatalf("no forecast: %s", r.Text)
	}
}
