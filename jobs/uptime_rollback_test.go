package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/pagerduty/pagerdutytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

// snapshot copies every key of srv (DUMP); rollBack puts that copy back
// in place of everything (as a restore from an older copy, or a failover to
// a replica that missed the last writes, would).
func snapshot(t *testing.T, srv *redistest.Server) map[string]string {
	t.Helper()
	c := srv.Client(t)
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := c.Dump(ctx, k).Result()
		if errors.Is(err, redis.Nil) {
			continue // gone meanwhile (a lease, say)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func rollBack(t *testing.T, srv *redistest.Server, snap map[string]string) {
	t.Helper()
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for k, v := range snap {
		if err := c.Restore(ctx, k, 0, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func alertStatus(t *testing.T, st *store.Store, key string) string {
	t.Helper()
	a, _, err := st.GetAlert(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(a.Status)
}

// startWriteBehind runs u's write-behind (and with it the probe fence)
// until the test ends.
func startWriteBehind(t *testing.T, u *jobs.Uptime) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.WriteBehind(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// Redis goes back to a copy taken while the site was down and its alert
// firing, older than the last flush: the probe fence finds Redis not
// where this process left it, and the next checks write the site and the
// alert in full again, so the alert recovers. Before, every later healthy
// check was skipped and the alert stayed firing for good.
func TestFenceSeesRedisRolledBackWhileDown(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	startWriteBehind(t, u)
	observeAll(t, u, site.Key, 0, true, true, false, false)
	time.Sleep(1200 * time.Millisecond) // a flush stores the fence
	snap := snapshot(t, srv)
	observeAll(t, u, site.Key, 4, true, true, true)
	if got := alertStatus(t, r.st, site.Key); got == string(store.AlertFiring) {
		t.Fatal("the alert did not recover before the roll-back")
	}
	time.Sleep(1200 * time.Millisecond) // the next flush stores a newer fence
	rollBack(t, srv, snap)
	time.Sleep(1200 * time.Millisecond) // and the one after finds the old one
	observeAll(t, u, site.Key, 7, true, true)
	if got := alertStatus(t, r.st, site.Key); got == string(store.AlertFiring) {
		t.Fatal("the alert stayed firing after Redis went back to an older copy")
	}
	if all, _ := r.st.SiteStatuses(context.Background()); len(all) != 1 || all[0].State != "up" {
		t.Fatalf("status = %+v", all)
	}
}

// The same with a copy in which the site was already up again but its
// alert (RecoverAfter 2) still firing: the site's state matches, only the
// fence can tell.
func TestFenceSeesRedisRolledBackWhileRecovering(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	site.Thresholds.RecoverAfter = 2
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	startWriteBehind(t, u)
	observeAll(t, u, site.Key, 0, true, false, false, true)
	time.Sleep(1200 * time.Millisecond)
	snap := snapshot(t, srv)
	observeAll(t, u, site.Key, 4, true, true, true) // recovered, then settled
	if got := alertStatus(t, r.st, site.Key); got == string(store.AlertFiring) {
		t.Fatal("the alert did not recover before the roll-back")
	}
	time.Sleep(1200 * time.Millisecond)
	rollBack(t, srv, snap)
	time.Sleep(1200 * time.Millisecond)
	observeAll(t, u, site.Key, 7, true, true)
	if got := alertStatus(t, r.st, site.Key); got == string(store.AlertFiring) {
		t.Fatal("the alert stayed firing after Redis went back to an older copy")
	}
}

// A roll-back within the second, before any flush: the writes lost were
// newer than the fence, so nothing they settled was skipped yet; the
// read-back after the next fence finds Redis holding the alert firing and
// the site down, and the checks go on being written in full.
func TestRollBackWithinTheSecondHidesNothing(t *testing.T) {
	srv := redistest.Start(t)
	r := newRig(t, srv, slacktest.New(t), pagerdutytest.New(t))
	site := uptimeSite("uptime/acme/www", "www", "")
	u := jobs.NewUptime([]jobs.UptimeSite{site}, r.al, r.st, nil, nil)
	startWriteBehind(t, u)
	observeAll(t, u, site.Key, 0, true, true, false, false)
	time.Sleep(1200 * time.Millisecond)
	snap := snapshot(t, srv)
	observeAll(t, u, site.Key, 4, true, true)
	rollBack(t, srv, snap)
	time.Sleep(1200 * time.Millisecond) // a flush: the fence is in place
	observeAll(t, u, site.Key, 6, true, true, true)
	if got := alertStatus(t, r.st, site.Key); got == string(store.AlertFiring) {
		t.Fatal("the alert stayed firing after Redis lost the last second's writes")
	}
	if all, _ := r.st.SiteStatuses(context.Background()); len(all) != 1 || all[0].State != "up" {
		t.Fatalf("status = %+v", all)
	}
}
