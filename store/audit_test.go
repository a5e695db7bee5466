package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

// auditActions lists the audit actions newest first, with their objects.
func auditActions(t *testing.T, s *store.Store) []string {
	t.Helper()
	entries, err := s.RecentAudit(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action + " " + e.Target
	}
	return out
}

// TestChangeStepsAuditedInTheirTransaction: every event a transition adds
// becomes an audit entry (actor, client, object, action, from → to,
// reason) written with it; a request that ends closes its freeze, audited.
func TestChangeStepsAuditedInTheirTransaction(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	id := createProposed(t, ctx, s, t0)
	if err := s.AddFreeze(ctx, store.Freeze{ChangeID: id, Client: "acme", Repos: []string{"acme/web"},
		Start: t0, End: t0.Add(time.Hour), Reason: "window", OpenedBy: crSupport, OpenedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateChange(ctx, id, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		return nil, c.Reject(store.Approval{By: crFinance, Role: "finance", ProposalVersion: 1, Comment: "over budget"}, t0.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	got := auditActions(t, s)
	want := []string{"freeze.close " + id, "change.reject " + id, "freeze.open " + id, "change.await_approval " + id,
		"change.propose " + id, "change.investigate " + id, "change.open " + id}
	if !slices.Equal(got, want) {
		t.Fatalf("audit = %q\nwant    %q", got, want)
	}
	entries, _ := s.RecentAudit(ctx, 2)
	fz, rej := entries[0], entries[1]
	if rej.Actor != crFinance || rej.Client != "acme" || rej.From != "awaiting_approval" || rej.To != "rejected" || rej.Reason != "over budget" || !rej.At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("rejection entry = %+v", rej)
	}
	if fz.Actor != crFinance || fz.Client != "acme" || fz.Detail != "the change ended (rejected)" {
		t.Fatalf("freeze close entry = %+v", fz)
	}
	if frozen, err := s.ActiveFreezes(ctx, t0.Add(2*time.Minute)); err != nil || len(frozen) != 0 {
		t.Fatalf("freeze still active after the request ended: %+v, %v", frozen, err)
	}
	// The outbox worker saving a message ts adds no event: no entry.
	if _, err := s.UpdateChange(ctx, id, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		c.MessageTS = "1.2"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(auditActions(t, s)); n != len(want) {
		t.Fatalf("a save without events wrote %d audit entries", n-len(want))
	}
}

// TestChangeFailsClosedWhenAuditUnwritable: with the audit stream
// unwritable, neither a new request nor a step is saved or announced.
func TestChangeFailsClosedWhenAuditUnwritable(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	id := createProposed(t, ctx, s, t0)
	before, _ := s.GetChange(ctx, id)
	if err := rdb.Del(ctx, "opsbot:audit").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "opsbot:audit", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.UpdateChange(ctx, id, t0, func(c *store.ChangeRequest) ([]store.OutboxItem, error) {
		_, err := c.Approve(approval(crFinance, "finance", 1, t0), 0, t0)
		return []store.OutboxItem{item(t, "slack.post", "notify/"+id, "approved")}, err
	})
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("UpdateChange with the audit unwritable = %v, want a refusal (not 'unavailable')", err)
	}
	after, _ := s.GetChange(ctx, id)
	if after.Version != before.Version || len(after.Approvals) != 0 {
		t.Fatalf("approval saved unaudited: %+v", after.Approvals)
	}
	cr, _ := store.NewChangeRequest("CR-99", "acme", "t", "p", "", crRequester, t0)
	if err := s.CreateChange(ctx, cr); err == nil {
		t.Fatal("CreateChange succeeded with the audit unwritable")
	}
	if _, err := s.GetChange(ctx, "CR-99"); !errors.Is(err, store.ErrChangeNotFound) {
		t.Fatalf("request created unaudited: %v", err)
	}
	claimed, _ := s.ClaimOutbox(ctx, t0.Add(time.Hour), time.Minute, 10)
	for _, c := range claimed {
		if c.Item.Subject == "notify/"+id {
			t.Fatalf("delivery queued for an unaudited step: %+v", c.Item)
		}
	}
	if err := s.AddFreeze(ctx, store.Freeze{ChangeID: id, Start: t0, End: t0.Add(time.Hour)}); err == nil {
		t.Fatal("AddFreeze succeeded with the audit unwritable")
	}
}

// TestAlertAckResolveAudited: a person's acknowledge and resolve are
// audited with the alert's transition; observations are not.
func TestAlertAckResolveAudited(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	key := "uptime/acme/www"
	th := store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	update := func(fn func(a *store.Alert) error) {
		t.Helper()
		if _, err := s.UpdateAlert(ctx, key, t0, func(a *store.Alert) ([]store.OutboxItem, error) {
			a.Client, a.Subject = "acme", "www.acme.example"
			return nil, fn(a)
		}); err != nil {
			t.Fatal(err)
		}
	}
	update(func(a *store.Alert) error { a.Observe(false, "503", t0, th, false); return nil })
	update(func(a *store.Alert) error { _, err := a.Ack("UALICE", t0.Add(time.Minute)); return err })
	update(func(a *store.Alert) error { a.Observe(false, "503", t0.Add(2*time.Minute), th, false); return nil })
	update(func(a *store.Alert) error { _, err := a.ResolveBy("UBOB", t0.Add(3*time.Minute)); return err })
	entries, err := s.RecentAudit(ctx, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	res, ack := entries[0], entries[1]
	if ack.Action != "alert.acknowledge" || ack.Actor != "UALICE" || ack.Client != "acme" || ack.Target != key || ack.From != "firing" || ack.To != "acknowledged" {
		t.Fatalf("ack entry = %+v", ack)
	}
	if res.Action != "alert.resolve" || res.Actor != "UBOB" || res.From != "acknowledged" || res.To != "resolved" || !res.At.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("resolve entry = %+v", res)
	}
}

func TestFindAuditFilters(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	now := time.Now()
	for i, e := range []store.AuditEntry{
		{At: now.Add(-10 * 24 * time.Hour), Actor: "UA", Action: "role.grant", Client: "acme"},
		{At: now.Add(-2 * 24 * time.Hour), Actor: "UA", Action: "change.approve", Client: "acme"},
		{At: now.Add(-24 * time.Hour), Actor: "UB", Action: "change.approve", Client: "beta"},
		{At: now.Add(-time.Hour), Actor: "UB", Action: "silence.add", Client: "acme"},
	} {
		e.Target = string(rune('a' + i))
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	targets := func(f store.AuditFilter, limit int) string {
		t.Helper()
		got, err := s.FindAudit(ctx, f, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, e := range got {
			out += e.Target
		}
		return out
	}
	week := now.Add(-7 * 24 * time.Hour)
	for _, tc := range []struct {
		name  string
		f     store.AuditFilter
		limit int
		want  string
	}{
		{"all, newest first", store.AuditFilter{}, 10, "dcba"},
		{"limit", store.AuditFilter{}, 2, "dc"},
		{"client", store.AuditFilter{Client: "acme"}, 10, "dba"},
		{"actor", store.AuditFilter{Actor: "UB"}, 10, "dc"},
		{"since a week", store.AuditFilter{Since: week}, 10, "dcb"},
		{"client, actor and since", store.AuditFilter{Client: "acme", Actor: "UA", Since: week}, 10, "b"},
		{"until", store.AuditFilter{Until: now.Add(-12 * time.Hour)}, 10, "cba"},
	} {
		if got := targets(tc.f, tc.limit); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	between, err := s.AuditBetween(ctx, now.Add(-3*24*time.Hour), now.Add(-12*time.Hour))
	if err != nil || len(between) != 2 || between[0].Target != "b" || between[1].Target != "c" {
		t.Fatalf("AuditBetween = %+v, %v", between, err)
	}
}

func TestNonceSingleUse(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	first, err := s.ClaimNonce(ctx, "n1", time.Hour)
	if err != nil || !first {
		t.Fatalf("first claim = %v, %v", first, err)
	}
	if again, err := s.ClaimNonce(ctx, "n1", time.Hour); err != nil || again {
		t.Fatalf("replay = %v, %v", again, err)
	}
	if ttl := rdb.PTTL(ctx, "opsbot:nonce:n1").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("nonce TTL %v, want about the seal's lifetime", ttl)
	}
	if err := s.ReleaseNonce(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if again, err := s.ClaimNonce(ctx, "n1", time.Hour); err != nil || !again {
		t.Fatalf("claim after release = %v, %v", again, err)
	}
	if id, err := s.IssueCommentID(ctx, "CR-1"); err != nil || id != 0 {
		t.Fatalf("unknown comment = %d, %v", id, err)
	}
	if err := s.SetIssueCommentID(ctx, "CR-1", 1234567891); err != nil {
		t.Fatal(err)
	}
	if id, err := s.IssueCommentID(ctx, "CR-1"); err != nil || id != 1234567891 {
		t.Fatalf("comment = %d, %v", id, err)
	}
}
