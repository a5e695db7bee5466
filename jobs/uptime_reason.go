package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/383project/opsbot/integrations"
)

// StatusCakeDetail reads why a StatusCake test failed: its newest check's
// status code or error (integrations/statuscake satisfies it).
type StatusCakeDetail interface {
	LastCheck(ctx context.Context, id string) (integrations.CheckResult, error)
}

// reasonTTL is how long a down test's reason is reused before it is read
// again: StatusCake's list says only "down", and its API allows few calls.
const reasonTTL = 5 * time.Minute

// reasons remembers why each down StatusCake test failed.
type reasons struct {
	mu   sync.Mutex
	byID map[string]reason
}

type reason struct {
	res integrations.CheckResult
	at  time.Time
}

// explain fills r's status code and error from StatusCake's newest check
// when r is down, reading it at most once per reasonTTL per test. A failed
// read leaves r as it is ("down" with no reason): the alert matters more.
func (rs *reasons) explain(ctx context.Context, d StatusCakeDetail, r *integrations.CheckResult, now time.Time) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.byID == nil {
		rs.byID = map[string]reason{}
	}
	if r.State != integrations.StateDown || d == nil {
		delete(rs.byID, r.ID)
		return
	}
	got, ok := rs.byID[r.ID]
	if !ok || now.Sub(got.at) >= reasonTTL {
		res, err := d.LastCheck(ctx, r.ID)
		if err != nil {
			return
		}
		got = reason{res: res, at: now}
		rs.byID[r.ID] = got
	}
	r.StatusCode, r.Error = got.res.StatusCode, got.res.Error+" (StatusCake)"
}
