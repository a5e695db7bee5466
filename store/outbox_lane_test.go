package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/redis/go-redis/v9"
)

// Each lane claims only its own kinds; the catch-all lane takes what no
// other lane names; a lane with no free workers claims nothing.
func TestClaimLaneTakesOnlyItsKinds(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	items := []store.OutboxItem{
		item(t, "slack.alert", "uptime/acme/www", "post"), item(t, "change.message", "CR-1", "msg"),
		item(t, "pagerduty", "uptime/acme/www", "trigger"), item(t, "github.comment", "CR-1", "comment"),
		item(t, "mail.digest", "weekly", "other"),
	}
	if err := s.Enqueue(ctx, t0, items...); err != nil {
		t.Fatal(err)
	}
	kinds := func(cs []store.Claimed) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Item.Kind)
		}
		slices.Sort(out)
		return out
	}
	lanes := map[string]store.OutboxLane{}
	for _, l := range store.OutboxLanes() {
		lanes[l.Name] = l
	}
	if got, _ := s.ClaimLane(ctx, lanes["pagerduty"], t0, time.Minute, 0); len(got) != 0 {
		t.Fatalf("n=0 claimed %v", kinds(got))
	}
	for _, tc := range []struct {
		lane store.OutboxLane
		want []string
	}{
		{lanes["pagerduty"], []string{"pagerduty"}},
		{lanes["slack"], []string{"change.message", "slack.alert"}},
		{store.OutboxLane{Name: "other"}, []string{"mail.digest"}},
		{lanes["github"], []string{"github.comment"}},
	} {
		got, err := s.ClaimLane(ctx, tc.lane, t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(kinds(got), tc.want) {
			t.Errorf("lane %+v claimed %v, want %v", tc.lane, kinds(got), tc.want)
		}
	}
}

// A page queued behind 600 due Slack posts (Slack unreachable, every
// worker waiting out its timeout) is still claimed by the PagerDuty lane.
func TestClaimLaneFindsItsItemBehindABacklog(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	var items []store.OutboxItem
	for i := range 600 {
		items = append(items, item(t, "slack.post", fmt.Sprintf("post/%d", i), "x"))
	}
	if err := s.Enqueue(ctx, t0, items...); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0.Add(time.Second), item(t, "pagerduty", "uptime/acme/www", "resolve")); err != nil {
		t.Fatal(err)
	}
	lanes := map[string]store.OutboxLane{}
	for _, l := range store.OutboxLanes() {
		lanes[l.Name] = l
	}
	got, err := s.ClaimLane(ctx, lanes["pagerduty"], t0.Add(2*time.Second), time.Minute, 4)
	if err != nil || len(got) != 1 || got[0].Item.Kind != "pagerduty" {
		t.Fatalf("claimed %d (%v), want the page", len(got), err)
	}
	slack, _ := s.ClaimLane(ctx, lanes["slack"], t0.Add(2*time.Second), time.Minute, 16)
	if len(slack) != 16 {
		t.Fatalf("slack lane claimed %d, want 16", len(slack))
	}
}

// A queue that was waiting in the shared set before lanes existed stays
// there until it drains, so one queue is never in two sets (two lanes would
// deliver its head at once); the catch-all lane delivers it.
func TestQueueFromBeforeLanesStaysInTheSharedSet(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	old := item(t, "slack.alert", "uptime/acme/www", "post")
	if err := rdb.RPush(ctx, "opsbot:outbox:q:"+old.Queue(), mustJSON(t, old)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, "opsbot:outbox:due", redis.Z{Score: float64(t0.UnixMilli()), Member: old.Queue()}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, item(t, "slack.alert", "uptime/acme/www", "update")); err != nil {
		t.Fatal(err)
	}
	lanes := map[string]store.OutboxLane{}
	for _, l := range store.OutboxLanes() {
		lanes[l.Name] = l
	}
	if got, _ := s.ClaimLane(ctx, lanes["slack"], t0, time.Minute, 10); len(got) != 0 {
		t.Fatalf("the slack lane claimed a queue still in the shared set: %d", len(got))
	}
	got, _ := s.ClaimLane(ctx, store.OutboxLane{Name: "other"}, t0, time.Minute, 10)
	if len(got) != 1 || got[0].Item.ID != old.ID {
		t.Fatalf("catch-all claimed %d, want the old head", len(got))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
