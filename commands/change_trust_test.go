package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// measured is opsbot's cost figure per client (the cost cache's part the
// proposal form reads).
type measured map[string]store.CostMeasure

func (m measured) CurrentMonthly(_ context.Context, client string) (store.CostMeasure, bool, error) {
	v, ok := m[client]
	return v, ok, nil
}

const (
	acmeHolder = "UACMESTAKE"
	financeTwo = "UFINANCE02"
)

func newTrustFixture(t *testing.T, costs measured) *fixture {
	t.Helper()
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) {
		d.Changes, d.Issues, d.CostEstimates = st, issueLinks{}, costs
		d.Now = func() time.Time { return changeT0.Add(time.Hour) }
		d.ChangeSettings = commands.ChangeSettings{Channel: "C0SUPPORT", FinanceChannel: "C0FINANCE",
			ClientRepos: map[string][]string{"acme": {"acme/web"}}}
	})
	f.grant(t, crSupport, store.Grant{Role: store.Support})
	f.grant(t, requester, store.Grant{Role: store.Engineer})
	f.grant(t, financeOne, store.Grant{Role: store.Finance})
	f.grant(t, financeTwo, store.Grant{Role: store.Finance})
	f.grant(t, acmeHolder, store.Grant{Role: store.Stakeholder, Client: "acme"})
	return f
}

func proposalValues(current, proposed, reason string) map[string]map[string]slack.BlockAction {
	v := func(s string) map[string]slack.BlockAction { return map[string]slack.BlockAction{"value": {Value: s}} }
	return map[string]map[string]slack.BlockAction{
		"cr_plan": v("Two bigger instances"), "cr_magnitude": {"value": {SelectedOption: slack.OptionBlockObject{Value: "minor"}}},
		"cr_current": v(current), "cr_proposed": v(proposed), "cr_basis": v(reason),
	}
}

func (f *fixture) submit(user, callback, meta string, values map[string]map[string]slack.BlockAction) commands.SubmitResult {
	return f.r.Submit(context.Background(), commands.Submission{User: commands.User{ID: user}, CallbackID: callback, ViewID: "V1",
		PrivateMetadata: meta, Values: values})
}

// TestProposalTakesTheMeasuredCostBasis: with opsbot's figure at $100, a
// proposal of $5,000 is an increase whatever was typed as current cost;
// another figure needs a reason and brings finance in.
func TestProposalTakesTheMeasuredCostBasis(t *testing.T) {
	f := newTrustFixture(t, measured{"acme": {Monthly: 10000, At: changeT0.Add(-2 * time.Hour)}})
	ctx := context.Background()
	createChange(t, f, "CR-1", "acme", "Site slow", requester, store.ChangeInvestigating)
	form := f.click(crSupport, "change_propose", "CR-1").Modal
	raw, _ := json.Marshal(form)
	if !strings.Contains(string(raw), `"initial_value":"100.00"`) || !strings.Contains(string(raw), "Measured by opsbot (Cost Explorer forecast) 3h ago: $100.00") {
		t.Fatalf("form does not show the measured figure and its age: %s", raw)
	}
	// Typed 99,999 without a reason: refused under the field, nothing saved.
	res := f.submit(crSupport, "change_propose", form.PrivateMetadata, proposalValues("99999", "5000", ""))
	if msg := res.Errors["cr_basis"]; !strings.Contains(msg, "opsbot measured $100.00 a month (3h ago)") {
		t.Fatalf("typed figure without a reason: %+v", res)
	}
	if cr, _ := f.st.GetChange(ctx, "CR-1"); cr.Proposal != nil {
		t.Fatalf("refused proposal saved: %+v", cr.Proposal)
	}
	// With a reason (the same form: a field error leaves it usable): the
	// basis stays the measured $100, so $5,000 is an increase, and finance
	// must approve besides the stakeholder.
	res = f.submit(crSupport, "change_propose", form.PrivateMetadata, proposalValues("99999", "5000", "the forecast misses reserved instances"))
	if res.Notice == nil || !strings.Contains(res.Notice.Text, "$100.00 → $5,000.00, +$4,900.00/month") {
		t.Fatalf("proposal with a reason: %+v", res)
	}
	cr, err := f.st.GetChange(ctx, "CR-1")
	if err != nil {
		t.Fatal(err)
	}
	p := cr.Proposal
	if cr.State != store.ChangeAwaitingApproval || p.CurrentMonthly != 10000 || p.StatedMonthly != 9999900 ||
		!slices.Equal(p.Required, []string{"stakeholder", "finance"}) || p.BasisReason != "the forecast misses reserved instances" {
		t.Fatalf("stored proposal: %s, %+v", cr.State, p)
	}
	// The approval requests go to the stakeholder's and finance people's
	// DMs with buttons; the requester and proposer are not asked.
	asked := map[string]bool{}
	for _, it := range f.outbox(t) {
		if it.Kind != store.KindChangeNotice {
			continue
		}
		var n store.ChangeNotice
		if err := json.Unmarshal(it.Payload, &n); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(n.Blocks), `"action_id":"change_approve","value":"CR-1|1"`) || !strings.Contains(string(n.Blocks), `"action_id":"change_reject"`) {
			t.Fatalf("approval request without buttons: %s", n.Blocks)
		}
		asked[n.Channel] = true
	}
	if !asked[acmeHolder] || !asked[financeOne] || !asked[financeTwo] || asked[crSupport] || asked[requester] || len(asked) != 3 {
		t.Fatalf("approval requests sent to %v", asked)
	}
}

// TestProposalWithoutMeasureNeedsFinance: no figure measured, a typed
// 99,999 → 5,000 waits for finance instead of being approved on the spot.
func TestProposalWithoutMeasureNeedsFinance(t *testing.T) {
	f := newTrustFixture(t, measured{})
	createChange(t, f, "CR-1", "acme", "Site slow", requester, store.ChangeInvestigating)
	form := f.click(crSupport, "change_propose", "CR-1").Modal
	if raw, _ := json.Marshal(form); !strings.Contains(string(raw), "No figure measured by opsbot for this client") {
		t.Fatalf("form does not say the figure is not measured: %s", raw)
	}
	res := f.submit(crSupport, "change_propose", form.PrivateMetadata, proposalValues("99999", "5000", ""))
	if res.Notice == nil || !strings.Contains(res.Notice.Text, "approval is asked of finance") {
		t.Fatalf("proposal: %+v", res)
	}
	cr, _ := f.st.GetChange(context.Background(), "CR-1")
	if cr.State != store.ChangeAwaitingApproval || !slices.Equal(cr.RequiredApprovers(), []string{"finance"}) {
		t.Fatalf("typed decrease: %s, required %v", cr.State, cr.RequiredApprovers())
	}
}

// TestApprovalRepliesNeverClaimWhatDidNotHappen: an approval in a role
// already given answers so, and changes nothing.
func TestApprovalRepliesNeverClaimWhatDidNotHappen(t *testing.T) {
	f := newTrustFixture(t, measured{})
	ctx := context.Background()
	createChange(t, f, "CR-1", "acme", "Site slow", requester, store.ChangeAwaitingApproval)
	approve := func(user string) string {
		t.Helper()
		form := f.click(user, "change_approve", "CR-1|1").Modal
		if form == nil {
			t.Fatalf("%s: no approval form", user)
		}
		return noticeText(f.submit(user, "change_approve", form.PrivateMetadata, nil))
	}
	// Both finance people open the form before either submits.
	first := f.click(financeOne, "change_approve", "CR-1|1").Modal
	second := f.click(financeTwo, "change_approve", "CR-1|1").Modal
	if got := noticeText(f.submit(financeOne, "change_approve", first.PrivateMetadata, nil)); !strings.Contains(got, "is recorded; it still waits for stakeholder") {
		t.Fatalf("first finance approval: %q", got)
	}
	before, _ := f.st.GetChange(ctx, "CR-1")
	got := noticeText(f.submit(financeTwo, "change_approve", second.PrivateMetadata, nil))
	if !strings.Contains(got, "<@"+financeOne+"> already approved *CR-1* as finance, so your approval was not needed and is not recorded") || strings.Contains(got, "✅") {
		t.Fatalf("second finance approval: %q", got)
	}
	if after, _ := f.st.GetChange(ctx, "CR-1"); after.Version != before.Version || len(after.Approvals) != 1 {
		t.Fatalf("an unrecorded approval changed the request: %+v", after.Approvals)
	}
	// A replayed form answers "already submitted".
	if got := noticeText(f.submit(financeOne, "change_approve", first.PrivateMetadata, nil)); !strings.Contains(got, "already submitted") {
		t.Fatalf("replayed approval form: %q", got)
	}
	if got := approve(acmeHolder); !strings.Contains(got, "Every required approval is in") {
		t.Fatalf("stakeholder approval: %q", got)
	}
}

// TestSealedFormsAreSingleUse: any sealed form (here the role grant) is
// accepted once; a form with field errors may be fixed and sent again.
func TestSealedFormsAreSingleUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	modal := f.run(admin, "role grant").Modal
	values := func(role string) map[string]map[string]slack.BlockAction {
		return map[string]map[string]slack.BlockAction{
			"role_user": {"value": {SelectedUser: "UBOB000001"}},
			"role_role": {"value": {SelectedOption: slack.OptionBlockObject{Value: role}}},
		}
	}
	if res := f.submit(admin, "role_grant", modal.PrivateMetadata, values("stakeholder")); res.Errors["role_client"] == "" {
		t.Fatalf("stakeholder without a client: %+v", res)
	}
	if got := noticeText(f.submit(admin, "role_grant", modal.PrivateMetadata, values("finance"))); !strings.Contains(got, "is now *finance*") {
		t.Fatalf("fixed form: %q", got)
	}
	if _, err := f.st.Revoke(ctx, admin, "UBOB000001", store.Grant{Role: store.Finance}, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := noticeText(f.submit(admin, "role_grant", modal.PrivateMetadata, values("finance")))
	if !strings.Contains(got, "already submitted") || !strings.Contains(got, "nothing was changed") {
		t.Fatalf("replayed grant form: %q", got)
	}
	if roles, _ := f.st.Roles(ctx, "UBOB000001"); len(roles) != 0 {
		t.Fatalf("replay granted again: %v", roles)
	}
}

// TestAuditFiltersAndExportsPrivately: /ops audit filters by client,
// person and age; the export goes to the admin's DM.
func TestAuditFiltersAndExportsPrivately(t *testing.T) {
	up := &uploads{}
	now := time.Now()
	f := newFixtureWith(t, func(d *commands.Deps, st *store.Store) { d.Files, d.Now = up, func() time.Time { return now } })
	ctx := context.Background()
	for _, e := range []store.AuditEntry{
		{At: now.Add(-10 * 24 * time.Hour), Actor: "UALICE0001", Action: "change.approve", Target: "CR-1", Client: "acme"},
		{At: now.Add(-time.Hour), Actor: "UALICE0001", Action: "change.reject", Target: "CR-2", Client: "acme", From: "awaiting_approval", To: "rejected", Reason: "too <dear>"},
		{At: now.Add(-time.Hour), Actor: "UBOB000001", Action: "change.open", Target: "CR-3", Client: "beta"},
	} {
		if err := f.st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		in        string
		want, not []string
	}{
		{"audit acme", []string{"Audit log for Acme Ltd (`acme`): newest 2", "CR-1", "CR-2"}, []string{"CR-3"}},
		{"audit @alice --since 7d", []string{"by <@UALICE0001> in the last 7d", "`change.reject` CR-2 (client `acme`) · awaiting approval → rejected — reason: too &lt;dear&gt;"}, []string{"CR-1", "CR-3"}},
		{"audit beta @alice", []string{"No audit entries for Beta &amp; Co (`beta`) by <@UALICE0001>."}, nil},
		{"audit 1", []string{"newest 1"}, nil},
	}
	for _, tt := range tests {
		got := text(f.run(admin, tt.in))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("/ops %s lacks %q:\n%s", tt.in, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("/ops %s shows %q:\n%s", tt.in, n, got)
			}
		}
	}
	got := f.run(admin, "audit export").Text
	files := up.all()
	if len(files) != 1 || files[0].channel != "dm:"+admin || !strings.Contains(got, "to your direct messages") {
		t.Fatalf("export: %q, %+v", got, files)
	}
	if csv := string(files[0].content); !strings.Contains(csv, "stream_id,at,actor,action,object,client,role,from,to,reason,detail") ||
		!strings.Contains(csv, "change.reject,CR-2,acme,,awaiting_approval,rejected,too <dear>") {
		t.Fatalf("csv:\n%s", csv)
	}
	up.err = errors.New("upload refused")
	if got := f.run(admin, "audit export").Text; !strings.Contains(got, "could not send the audit log") {
		t.Fatalf("failed upload: %q", got)
	}
}
