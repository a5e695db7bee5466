package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
)

func TestFreezeEndpointAndVerbs(t *testing.T) {
	o := start(t, nil)
	st := store.New(o.redis.Connect(t), "opsbot:")
	now := time.Now()
	if err := st.AddFreeze(context.Background(), store.Freeze{ChangeID: "CR-7", Client: "acme", Repos: []string{"acme/website"},
		Start: now.Add(-time.Minute), End: now.Add(2 * time.Hour), Reason: "database migration"}); err != nil {
		t.Fatal(err)
	}
	code, body := o.get(t, "/v1/freeze?repo=Acme/Website")
	var got struct {
		Frozen   bool   `json:"frozen"`
		Until    string `json:"until"`
		ChangeID string `json:"change_id"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 423 || !got.Frozen || got.ChangeID != "CR-7" || got.Until == "" {
		t.Fatalf("frozen repo: %d %s (%v)", code, body, err)
	}
	if code, body := o.get(t, "/v1/freeze?repo=acme/other"); code != 200 || !strings.Contains(body, `"frozen":false`) {
		t.Fatalf("other repo: %d %s", code, body)
	}
	if code, _ := o.get(t, "/v1/freeze?repo=../../etc"); code != 400 {
		t.Fatalf("bad repo: %d", code)
	}
	o.command(t, admin, "role grant @bob engineer")
	if got := o.command(t, "UBOB000001", "freeze"); !strings.Contains(got, "CR-7") || !strings.Contains(got, "database migration") {
		t.Fatalf("/ops freeze:\n%s", got)
	}
	o.command(t, admin, "role grant @alice support")
	if got := o.command(t, "UALICE0001", "changelog export 2026-11"); !strings.Contains(got, ":no_entry:") {
		t.Fatalf("support exported the change log:\n%s", got)
	}
	if got := o.command(t, "UALICE0001", "changelog 2026-11"); !strings.Contains(got, "No change requests finished in November 2026") {
		t.Fatalf("/ops changelog:\n%s", got)
	}
}
