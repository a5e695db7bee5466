package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// TestChecklistWaiversExpire: at its expiry a waiver ends by itself, the
// item fails again (it holds the launch back) and the launch's message and
// thread are told; before it, nothing changes.
func TestChecklistWaiversExpire(t *testing.T) {
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client(t), "opsbot:")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	specs := []store.ItemSpec{{Key: "backups", Title: "Backups and recovery", Kind: store.ItemKindVerified, Check: "backups"}}
	cl, err := store.NewChecklist("L-1", "acme", "default", specs, nil, "USUPP", t0)
	if err != nil {
		t.Fatal(err)
	}
	supp := store.Principal{UserID: "USUPP", Grants: []store.Grant{{Role: store.Support}}}
	sec := store.Principal{UserID: "USEC", Grants: []store.Grant{{Role: store.Security}}}
	expires := t0.Add(3 * 24 * time.Hour)
	if err := cl.AskWaiver("backups", supp, "other", "restores tested by hand", expires, t0); err != nil {
		t.Fatal(err)
	}
	if err := cl.ApproveWaiver("backups", sec, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateChecklist(ctx, cl); err != nil {
		t.Fatal(err)
	}
	var told []string
	now := expires.Add(-time.Minute)
	job := &jobs.ChecklistWaivers{St: st, Now: func() time.Time { return now },
		Render: func(cl store.Checklist, events []store.ChecklistEvent, _ time.Time) ([]store.OutboxItem, error) {
			for _, e := range events {
				told = append(told, e.Text)
			}
			return nil, nil
		}}
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetChecklist(ctx, "L-1"); got.Version != 1 || len(told) != 0 || len(got.Blockers(now)) != 0 {
		t.Fatalf("before the expiry: version %d, told %q, blockers %d", got.Version, told, len(got.Blockers(now)))
	}
	now = expires
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetChecklist(ctx, "L-1")
	if b := got.Blockers(now); len(b) != 1 || b[0].State != store.ItemFailing || b[0].Waiver != nil || !strings.Contains(b[0].Detail, "waiver expired") {
		t.Fatalf("after the expiry: %+v", got.Items)
	}
	if len(told) != 1 || !strings.Contains(told[0], "expired") {
		t.Fatalf("the launch was told %q", told)
	}
	audit, _ := st.RecentAudit(ctx, 1)
	if len(audit) != 1 || audit[0].Action != "checklist.waiver_expire" || audit[0].Target != "L-1/backups" {
		t.Fatalf("audit %+v", audit)
	}
	if err := job.Run(ctx); err != nil || len(told) != 1 {
		t.Fatalf("a second run told again: %v %q", err, told)
	}
}
