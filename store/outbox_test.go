package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func item(t *testing.T, kind, subject, text string) store.OutboxItem {
	t.Helper()
	it, err := store.NewOutboxItem(kind, subject, map[string]string{"text": text}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestOutboxFIFOLeaseRetryDead(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a1, a2 := item(t, "pagerduty", "uptime/acme/www", "trigger"), item(t, "pagerduty", "uptime/acme/www", "resolve")
	b1 := item(t, "slack.alert", "uptime/acme/www", "post")
	if err := s.Enqueue(ctx, t0, a1, a2, b1); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimOutbox(ctx, t0, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	// One head per queue: the resolve waits behind its trigger.
	if len(got) != 2 {
		t.Fatalf("claimed %d items, want 2 (one per queue): %+v", len(got), got)
	}
	var pd store.Claimed
	for _, c := range got {
		if c.Item.Kind == "pagerduty" {
			pd = c
		}
	}
	if pd.Item.ID != a1.ID {
		t.Fatalf("pagerduty head = %s, want the trigger %s", pd.Item.ID, a1.ID)
	}
	// Leased: nothing is due again until the lease ends.
	if again, _ := s.ClaimOutbox(ctx, t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed leased items again: %+v", again)
	}
	// A failed attempt is counted and rescheduled; the trigger is still first.
	if err := s.RetryOutbox(ctx, pd, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	later, _ := s.ClaimOutbox(ctx, t0.Add(2*time.Minute), time.Minute, 10)
	var retried store.Claimed
	for _, c := range later {
		if c.Item.Kind == "pagerduty" {
			retried = c
		}
	}
	if retried.Item.ID != a1.ID || retried.Attempts != 1 {
		t.Fatalf("after retry: %+v", later)
	}
	if err := s.AckOutbox(ctx, retried, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	next, _ := s.ClaimOutbox(ctx, t0.Add(2*time.Minute), time.Minute, 10)
	if len(next) != 1 || next[0].Item.ID != a2.ID || next[0].Attempts != 0 {
		t.Fatalf("after ack the resolve should be due with no attempts: %+v", next)
	}
	if err := s.DeadLetter(ctx, next[0], t0, "400 invalid event"); err != nil {
		t.Fatal(err)
	}
	// The slack item's lease (from t0) has ended: it is handed out again, as
	// after a crash of the worker that held it.
	if re, _ := s.ClaimOutbox(ctx, t0.Add(5*time.Minute), time.Minute, 10); len(re) != 1 || re[0].Item.ID != b1.ID {
		t.Fatalf("expired lease not re-claimed: %+v", re)
	}
	queues, dead, err := s.OutboxBacklog(ctx)
	if err != nil || queues != 1 || dead != 1 {
		t.Fatalf("backlog = %d queues, %d dead, %v", queues, dead, err)
	}
}

func TestUpdateAlertAnnouncesOnce(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	th := store.Thresholds{FailAfter: 1, RecoverAfter: 1}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s.UpdateAlert(ctx, "uptime/acme/www", t0, func(a *store.Alert) ([]store.OutboxItem, error) {
				if a.Observe(false, "status 503", t0, th, false) == store.Fired {
					return []store.OutboxItem{item(t, "slack.alert", a.Key, "fired")}, nil
				}
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := rdb.LLen(ctx, "opsbot:outbox:q:slack.alert|uptime/acme/www").Val(); n != 1 {
		t.Fatalf("%d deliveries queued for one transition, want 1", n)
	}
	a, ok, err := s.GetAlert(ctx, "uptime/acme/www")
	if err != nil || !ok || a.Status != store.AlertFiring || a.Failures != 20 || a.Version != 20 {
		t.Fatalf("alert = %+v, %v, %v", a, ok, err)
	}
	all, err := s.Alerts(ctx)
	if err != nil || len(all) != 1 || all[0].Key != "uptime/acme/www" {
		t.Fatalf("Alerts = %+v, %v", all, err)
	}
}

func TestStaleLeaseCannotFinishOrReschedule(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	it := item(t, "pagerduty", "uptime/acme/www", "trigger")
	if err := s.Enqueue(ctx, t0, it); err != nil {
		t.Fatal(err)
	}
	slow, _ := s.ClaimOutbox(ctx, t0, time.Minute, 1)
	// The lease lapses; another worker claims the same queue.
	fresh, _ := s.ClaimOutbox(ctx, t0.Add(2*time.Minute), time.Minute, 1)
	if len(slow) != 1 || len(fresh) != 1 {
		t.Fatalf("claims: %d, %d", len(slow), len(fresh))
	}
	// The slow worker finishes late: nothing happens to the queue.
	if err := s.AckOutbox(ctx, slow[0], t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryOutbox(ctx, slow[0], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	q := "opsbot:outbox:q:pagerduty|uptime/acme/www"
	if n := rdb.LLen(ctx, q).Val(); n != 1 {
		t.Fatalf("stale ack popped the item: %d left", n)
	}
	if att := rdb.HGet(ctx, "opsbot:outbox:attempts", "pagerduty|uptime/acme/www").Val(); att != "" {
		t.Fatalf("stale retry counted an attempt: %q", att)
	}
	// The current holder's ack works.
	if err := s.AckOutbox(ctx, fresh[0], t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := rdb.LLen(ctx, q).Val(); n != 0 {
		t.Fatalf("holder's ack did not pop: %d left", n)
	}
}
