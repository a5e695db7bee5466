package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// posted are the standalone posts queued to channel (a user ID for a DM).
func (f *fixture) posted(t *testing.T, channel string) []string {
	t.Helper()
	var out []string
	for _, it := range f.queuedItems(t) {
		if it.Kind != store.KindSlackPost {
			continue
		}
		var p store.PostPayload
		if err := json.Unmarshal(it.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Channel == channel {
			out = append(out, p.Text)
		}
	}
	return out
}

// moveTo puts a stored request in state (test set-up, past the steps the
// test is not about).
func (f *fixture) moveTo(t *testing.T, id string, state store.ChangeState) {
	t.Helper()
	if _, err := f.st.UpdateChange(context.Background(), id, changeNow(), func(cr *store.ChangeRequest) ([]store.OutboxItem, error) {
		cr.State = state
		cr.SmokeWaiver = &store.Waiver{By: admin, Reason: "checked by hand", At: changeT0}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// The requester hears of a rejection, with the reason.
func TestRequesterToldOfRejection(t *testing.T) {
	f := newChangeFixture(t)
	createChange(t, f, "CR-1", "beta", "Bigger shop", requester, store.ChangeAwaitingApproval)
	m := f.click(financeOne, "change_reject", "CR-1|1").Modal
	if m == nil {
		t.Fatal("no reject form")
	}
	res := f.submit(financeOne, "change_reject", m.PrivateMetadata, map[string]map[string]slack.BlockAction{"cr_comment": {"value": {Value: "Too expensive this quarter"}}})
	if len(res.Errors) > 0 {
		t.Fatalf("reject: %+v", res)
	}
	dms := f.posted(t, requester)
	if len(dms) != 1 || !strings.Contains(dms[0], "Your change request *CR-1*") || !strings.Contains(dms[0], "*rejected* by <@UFINANCE01>") ||
		!strings.Contains(dms[0], "Reason: Too expensive this quarter") {
		t.Fatalf("requester's DMs = %q", dms)
	}
}

// Cut-over: finance and the client's stakeholders are told. Roll-back: the
// stakeholders and the requester are told (finance by the change log).
func TestCutOverAndRollBackAreTold(t *testing.T) {
	f := newChangeFixture(t)
	f.grant(t, "UACMESTAKE", store.Grant{Role: store.Stakeholder, Client: "acme"})
	createChange(t, f, "CR-2", "beta", "New shop cluster", requester, store.ChangeScheduled)
	f.moveTo(t, "CR-2", store.ChangeSmokeTesting)
	if got := f.click(crSupport, "change_cutover", "CR-2").Text; !strings.Contains(got, "recorded as cut over") {
		t.Fatalf("cut over: %q", got)
	}
	if fin := f.posted(t, "C0FINANCE"); !contains(fin, "*CR-2* · Beta &amp; Co · New shop cluster is *cut over* (by <@USUPPORT01>)") {
		t.Fatalf("finance posts = %q", fin)
	}
	if dms := f.posted(t, betaHolder); len(dms) != 1 || !strings.Contains(dms[0], "is *cut over*") {
		t.Fatalf("stakeholder DMs = %q", dms)
	}
	if dms := f.posted(t, requester); len(dms) != 0 {
		t.Fatalf("requester told of the cut-over by DM: %q", dms)
	}
	if got := f.click(crSupport, "change_rollback", "CR-2").Text; !strings.Contains(got, "rolled back") {
		t.Fatalf("roll back: %q", got)
	}
	if dms := f.posted(t, betaHolder); len(dms) != 2 || !strings.Contains(dms[1], "is *rolled back* (by <@USUPPORT01>)") {
		t.Fatalf("stakeholder DMs = %q", dms)
	}
	if dms := f.posted(t, requester); len(dms) != 1 || !strings.Contains(dms[0], "Your change request *CR-2*") || !strings.Contains(dms[0], "*rolled back*") {
		t.Fatalf("requester DMs = %q", dms)
	}
	if fin := f.posted(t, "C0FINANCE"); !contains(fin, "Change log:* CR-2") || !contains(fin, "rolled back") {
		t.Fatalf("finance posts = %q", fin)
	}
	if dms := f.posted(t, "UACMESTAKE"); len(dms) != 0 {
		t.Fatalf("another client's stakeholder told: %q", dms)
	}
}

// Closing tells the requester, unless they closed it themselves.
func TestRequesterToldOfClosing(t *testing.T) {
	f := newChangeFixture(t)
	createChange(t, f, "CR-3", "beta", "Shop cache", requester, store.ChangeScheduled)
	f.moveTo(t, "CR-3", store.ChangeRetired)
	if got := f.click(crSupport, "change_step", "CR-3|retired|close").Text; !strings.Contains(got, "closed") {
		t.Fatalf("close: %q", got)
	}
	dms := f.posted(t, requester)
	if len(dms) != 1 || !strings.Contains(dms[0], "Your change request *CR-3*") || !strings.Contains(dms[0], "is *closed* (done, by <@USUPPORT01>)") {
		t.Fatalf("requester DMs = %q", dms)
	}
	if dms := f.posted(t, betaHolder); len(dms) != 0 {
		t.Fatalf("stakeholder told of a close: %q", dms)
	}
}
