package commands

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// The request's message is rendered inside the package (the outbox carries
// it as JSON), so these tests call changeMessage directly.

var renderT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func renderRouter(t *testing.T) *Router {
	t.Helper()
	r, err := New(Deps{SigningKey: []byte("0123456789abcdef0123456789abcdef"), Clients: map[string]string{"acme": "Acme Ltd"},
		ChangeSettings: ChangeSettings{Channel: "C0SUPPORT", FinanceChannel: "C0FINANCE"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// requestIn walks a request to state s through the machine's methods; at
// smoke testing the checks are listed but not run.
func requestIn(t *testing.T, s store.ChangeState, title, problem string, p store.Proposal) *store.ChangeRequest {
	t.Helper()
	at := func(h int) time.Time { return renderT0.Add(time.Duration(h) * time.Hour) }
	cr, err := store.NewChangeRequest("CR-1", "acme", title, problem, "acme/web#42", "UREQ", renderT0)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reaching %s from %s: %v", s, cr.State, err)
		}
	}
	steps := []func(){
		func() { must(cr.Investigate("USUP", at(1))) },
		func() { must(cr.Propose(p, nil, "USUP", at(2))) },
		func() {
			_, err := cr.Approve(store.Approval{By: "USTAKE", Role: "stakeholder", ProposalVersion: 1}, 0, at(3))
			must(err)
			_, err = cr.Approve(store.Approval{By: "UFIN", Role: "finance", ProposalVersion: 1}, 0, at(3))
			must(err)
		},
		func() { must(cr.Schedule("USUP", at(4))) },
		func() { must(cr.Provision("USUP", at(5))) },
		func() {
			must(cr.SetSmokeChecks([]store.SmokeCheck{{URL: "https://203.0.113.10/health"}}, "USUP", at(6)))
		},
		func() {
			must(cr.RecordSmoke([]store.SmokeResult{{URL: "https://203.0.113.10/health", OK: true, Status: 200}}, "USUP", at(7)))
			must(cr.KeepDNS([]byte(`[]`), "USUP", at(7)))
			must(cr.CutOverDone("C0CHANGE", "USUP", at(7)))
		},
		func() { must(cr.Verify("USUP", at(8))) },
		func() { must(cr.Retire("USUP", at(9))) },
		func() { must(cr.Close("USUP", at(10))) },
	}
	for _, step := range steps {
		if cr.State == s {
			return cr
		}
		step()
	}
	if cr.State != s {
		t.Fatalf("no path to %s", s)
	}
	return cr
}

func costlier() store.Proposal {
	return store.Proposal{Plan: "Move the web tier to m6i.large", Magnitude: store.MagnitudeMinor, CurrentMonthly: 66000, ProposedMonthly: 78000,
		DNS: &store.DNSPlan{ZoneID: "Z1", Name: "www.acme.example", Type: "A", NewValues: []string{"203.0.113.10"}}}
}

// button is one rendered button: action ID, value, style, confirm dialog.
type button struct {
	action, value, label string
	style                slack.Style
	confirm              bool
}

func buttons(blocks []slack.Block) []button {
	var out []button
	for _, b := range blocks {
		ab, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range ab.Elements.ElementSet {
			if bt, ok := e.(*slack.ButtonBlockElement); ok {
				out = append(out, button{bt.ActionID, bt.Value, bt.Text.Text, bt.Style, bt.Confirm != nil})
			}
		}
	}
	return out
}

func findButton(bs []button, action string) (button, bool) {
	for _, b := range bs {
		if b.action == action {
			return b, true
		}
	}
	return button{}, false
}

func TestChangeMessageButtonsByState(t *testing.T) {
	r := renderRouter(t)
	now := renderT0.Add(100 * time.Hour)
	step := func(state, name string) button {
		return button{action: actionChangeStep, value: "CR-1|" + state + "|" + name}
	}
	tests := []struct {
		state   store.ChangeState
		want    []button // action and value must match; style and confirm when set
		without []string
	}{
		{store.ChangeRequested, []button{step("requested", "investigate"), {action: actionChangeCancel, value: "CR-1", style: slack.StyleDanger, confirm: true}}, []string{actionChangePropose}},
		{store.ChangeInvestigating, []button{{action: actionChangePropose, value: "CR-1"}, {action: actionChangeCancel, value: "CR-1"}}, []string{actionChangeStep}},
		{store.ChangeAwaitingApproval, []button{
			{action: actionChangeApprove, value: "CR-1|1", label: "Approve", style: slack.StylePrimary},
			{action: actionChangeReject, value: "CR-1|1", label: "Reject"},
			{action: actionChangePropose, value: "CR-1"},
		}, []string{actionChangeStep}},
		{store.ChangeApproved, []button{step("approved", "schedule"), {action: actionChangePropose, value: "CR-1"}}, []string{actionChangeApprove}},
		{store.ChangeScheduled, []button{step("scheduled", "provision")}, []string{actionChangePropose}},
		{store.ChangeProvisioning, []button{{action: actionChangeSmoke, value: "CR-1"}}, []string{actionChangeCutOver}},
		{store.ChangeSmokeTesting, []button{{action: actionChangeSmokeRun, value: "CR-1"}, {action: actionChangeWaive, value: "CR-1"}, {action: actionChangeCancel, value: "CR-1"}},
			[]string{actionChangeCutOver, actionChangeRestore}},
		{store.ChangeCutOver, []button{step("cut_over", "verify"), {action: actionChangeRollback, value: "CR-1", label: "Roll back DNS", style: slack.StyleDanger, confirm: true}},
			[]string{actionChangeCancel}},
		{store.ChangeVerified, []button{step("verified", "retire"), {action: actionChangeRollback, value: "CR-1", confirm: true}}, []string{actionChangeCancel}},
		{store.ChangeRetired, []button{step("retired", "close")}, []string{actionChangeRollback, actionChangeCancel}},
	}
	for _, tt := range tests {
		cr := requestIn(t, tt.state, "Site slow at peak", "Pages time out", costlier())
		_, blocks := r.changeMessage(*cr, now)
		got := buttons(blocks)
		for _, w := range tt.want {
			b, ok := findButton(got, w.action)
			if !ok || b.value != w.value || (w.label != "" && b.label != w.label) || (w.style != "" && b.style != w.style) || (w.confirm && !b.confirm) {
				t.Errorf("%s: button %s = %+v (found %v); want %+v", tt.state, w.action, b, ok, w)
			}
		}
		for _, a := range tt.without {
			if _, ok := findButton(got, a); ok {
				t.Errorf("%s: has a %s button: %+v", tt.state, a, got)
			}
		}
	}
	for _, s := range []store.ChangeState{store.ChangeClosed} {
		cr := requestIn(t, s, "Site slow at peak", "Pages time out", costlier())
		_, blocks := r.changeMessage(*cr, now)
		if got := buttons(blocks); len(got) != 0 {
			t.Errorf("%s: buttons %+v on an ended request", s, got)
		}
		if !strings.Contains(sectionTexts(blocks), "Ended: *done*") {
			t.Errorf("%s: no outcome:\n%s", s, sectionTexts(blocks))
		}
	}
}

func TestChangeMessageSmokeTestingButtons(t *testing.T) {
	r := renderRouter(t)
	now := renderT0.Add(100 * time.Hour)
	passed := requestIn(t, store.ChangeSmokeTesting, "Site slow", "Pages time out", costlier())
	if err := passed.RecordSmoke([]store.SmokeResult{{URL: "https://203.0.113.10/health", OK: true}}, "USUP", now); err != nil {
		t.Fatal(err)
	}
	_, blocks := r.changeMessage(*passed, now)
	got := buttons(blocks)
	if b, ok := findButton(got, actionChangeCutOver); !ok || b.label != "Cut over DNS" || !b.confirm || b.style != slack.StyleDanger || b.value != "CR-1" {
		t.Errorf("passed checks: cut-over button %+v (found %v)", b, ok)
	}
	if _, ok := findButton(got, actionChangeWaive); ok {
		t.Errorf("passed checks still offer a waiver: %+v", got)
	}

	noDNS := costlier()
	noDNS.DNS = nil
	waived := requestIn(t, store.ChangeSmokeTesting, "Site slow", "Pages time out", noDNS)
	if err := waived.Waive("UADMIN", "checked by hand", now); err != nil {
		t.Fatal(err)
	}
	_, blocks = r.changeMessage(*waived, now)
	got = buttons(blocks)
	if b, ok := findButton(got, actionChangeCutOver); !ok || b.label != "Mark as cut over" {
		t.Errorf("waived, no DNS plan: cut-over button %+v (found %v)", b, ok)
	}
	if _, ok := findButton(got, actionChangeWaive); ok {
		t.Errorf("waived checks offer another waiver: %+v", got)
	}

	failed := requestIn(t, store.ChangeSmokeTesting, "Site slow", "Pages time out", costlier())
	if err := failed.Waive("UADMIN", "checked by hand", now); err != nil {
		t.Fatal(err)
	}
	if err := failed.KeepDNS([]byte(`[{"v":1}]`), "USUP", now); err != nil {
		t.Fatal(err)
	}
	failed.CutOverFailed("USUP", "Route 53 said <b>no</b>", now)
	_, blocks = r.changeMessage(*failed, now)
	if b, ok := findButton(buttons(blocks), actionChangeRestore); !ok || !b.confirm {
		t.Errorf("failed cut-over: restore button %+v (found %v)", b, ok)
	}
	if txt := sectionTexts(blocks); !strings.Contains(txt, "Cut-over failed:* Route 53 said &lt;b&gt;no&lt;/b&gt;") {
		t.Errorf("failure not shown escaped:\n%s", txt)
	}
}

// sectionTexts joins every mrkdwn text of the blocks (sections, their
// fields, context), the parts Slack parses for links and mentions.
func sectionTexts(blocks []slack.Block) string {
	var parts []string
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				parts = append(parts, b.Text.Text)
			}
			for _, f := range b.Fields {
				parts = append(parts, f.Text)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tx, ok := e.(*slack.TextBlockObject); ok {
					parts = append(parts, tx.Text)
				}
			}
		}
	}
	return strings.Join(parts, "\n")
}

func TestChangeMessageEscapesUserText(t *testing.T) {
	r := renderRouter(t)
	p := costlier()
	p.Plan = "upgrade <!here> & <https://evil.example|click>"
	p.RollbackPlan = "<@U0BOSS> decides"
	cr := requestIn(t, store.ChangeAwaitingApproval, "<script>alert(1)</script> <!channel>", "Down since <!channel> <!everyone> & <script>", p)
	summary, blocks := r.changeMessage(*cr, renderT0)
	txt := sectionTexts(blocks)
	for _, raw := range []string{"<script>", "<!channel>", "<!everyone>", "<!here>", "<https://evil", "<@U0BOSS>"} {
		if strings.Contains(txt, raw) {
			t.Errorf("message shows %q unescaped:\n%s", raw, txt)
		}
	}
	for _, esc := range []string{"&lt;script&gt;", "&lt;!channel&gt;", "&lt;!channel&gt; &lt;!everyone&gt; &amp; &lt;script&gt;", "&lt;!here&gt;", "&lt;@U0BOSS&gt;"} {
		if !strings.Contains(txt, esc) {
			t.Errorf("message lacks %q:\n%s", esc, txt)
		}
	}
	// The title is shown in the header (plain text, never parsed) and in
	// the summary, the message's notification fallback, which Slack parses
	// as mrkdwn: a "<!channel>" there would notify the channel.
	if strings.Contains(summary, "<!channel>") || strings.Contains(summary, "<script>") {
		t.Errorf("render bug (change_render.go changeMessage): the summary shows the title unescaped: %q", summary)
	}
}

// TestChangeMessageLimits fills every field to the most the forms and the
// store accept, with characters that grow when escaped, and checks Slack's
// limits: 50 blocks, 3,000 characters a section text, 2,000 a field, 150 a
// header, 25 buttons... (the message is refused whole otherwise).
func TestChangeMessageLimits(t *testing.T) {
	r := renderRouter(t)
	long := func(n int) string { return strings.Repeat("<&>", n/3+1)[:n] }
	p := costlier()
	p.Plan, p.RollbackPlan = long(3000), long(3000)
	p.DNS = &store.DNSPlan{ZoneID: "Z1", Name: "txt.acme.example", Type: "TXT", NewValues: make([]string, 20)}
	for i := range p.DNS.NewValues {
		p.DNS.NewValues[i] = long(255)
	}
	for _, s := range []store.ChangeState{store.ChangeAwaitingApproval, store.ChangeSmokeTesting, store.ChangeCutOver} {
		cr := requestIn(t, s, long(150), long(3000), p)
		if s == store.ChangeSmokeTesting {
			checks := make([]store.SmokeCheck, store.MaxSmokeChecks)
			res := make([]store.SmokeResult, store.MaxSmokeChecks)
			for i := range checks {
				checks[i] = store.SmokeCheck{URL: fmt.Sprintf("https://203.0.113.10/%d/%s", i, strings.Repeat("p", 1900)),
					Host: strings.Repeat("h", 253), Keyword: long(200), ExpectStatus: 200}
				res[i] = store.SmokeResult{URL: checks[i].URL, Detail: long(500)}
			}
			if err := cr.SetSmokeChecks(checks, "USUP", renderT0); err != nil {
				t.Fatal(err)
			}
			if err := cr.RecordSmoke(res, "USUP", renderT0); err != nil {
				t.Fatal(err)
			}
			if err := cr.Waive("UADMIN", long(3000), renderT0); err != nil {
				t.Fatal(err)
			}
			if err := cr.KeepDNS([]byte(`[]`), "USUP", renderT0); err != nil {
				t.Fatal(err)
			}
			cr.CutOverFailed("USUP", long(3000), renderT0)
		}
		summary, blocks := r.changeMessage(*cr, renderT0)
		checkSlackLimits(t, string(s), summary, blocks)
	}
}

func checkSlackLimits(t *testing.T, name, summary string, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > 50 {
		t.Errorf("%s: %d blocks; Slack allows 50", name, len(blocks))
	}
	if n := utf8.RuneCountInString(summary); n > 4000 {
		t.Errorf("%s: summary of %d characters", name, n)
	}
	for i, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > 150 {
				t.Errorf("%s: header of %d characters; Slack allows 150", name, n)
			}
		case *slack.SectionBlock:
			if b.Text != nil {
				if n := utf8.RuneCountInString(b.Text.Text); n > 3000 {
					t.Errorf("render bug (change_render.go: truncate after Escape): %s: block %d text of %d characters; Slack allows 3,000: %.80q…", name, i, n, b.Text.Text)
				}
			}
			for j, f := range b.Fields {
				if n := utf8.RuneCountInString(f.Text); n > 2000 {
					t.Errorf("render bug (change_render.go: truncate after Escape): %s: block %d field %d of %d characters; Slack allows 2,000: %.80q…", name, i, j, n, f.Text)
				}
			}
		case *slack.ActionBlock:
			if n := len(b.Elements.ElementSet); n > 25 {
				t.Errorf("%s: %d buttons", name, n)
			}
		}
	}
	if _, err := json.Marshal(slack.Blocks{BlockSet: blocks}); err != nil {
		t.Errorf("%s: blocks do not encode: %v", name, err)
	}
}
