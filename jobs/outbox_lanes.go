package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/383project/opsbot/store"
)

// outboxLane is one destination's share of the outbox and its wake-up call.
type outboxLane struct {
	store.OutboxLane
	wake chan struct{}
}

// destinations are the outbox lanes: one per destination, and the
// catch-all for the rest (and for items queued before lanes existed).
func destinations() []store.OutboxLane {
	return append(store.OutboxLanes(), store.OutboxLane{Name: "other"})
}

// Nudge wakes the workers now (called after enqueueing in this process).
func (ob *Outbox) Nudge() {
	for _, l := range ob.lanes {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run drains the outbox until ctx ends, one loop per lane. Deliveries in
// progress finish.
func (ob *Outbox) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range ob.lanes {
		wg.Go(func() { ob.runLane(ctx, l) })
	}
	wg.Wait()
	return nil
}

// deliveryTimeout bounds one delivery; the lease must outlast it.
const deliveryTimeout = 20 * time.Second

// runLane keeps up to Workers deliveries of one lane in flight: it claims
// only as many items as it has free workers, so every claimed item starts
// at once and finishes well inside its lease, and it claims again once a
// quarter of its workers are free rather than waiting for a whole round.
func (ob *Outbox) runLane(ctx context.Context, l *outboxLane) {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{}, ob.o.Workers)
	// Claim once a quarter of the workers are free (or on a wake-up), not
	// after every delivery: in a burst, one claim per delivery costs more
	// Redis round trips than the deliveries themselves.
	batch := max(1, ob.o.Workers/4)
	inFlight, claimNow := 0, true
	for {
		claimed := 0
		if free := ob.o.Workers - inFlight; free > 0 && claimNow && ctx.Err() == nil {
			items, err := ob.st.ClaimLane(ctx, l.OutboxLane, ob.o.Now(), ob.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				ob.o.Logger.Warn("outbox claim failed", "lane", l.Name, "err", err)
			}
			for _, c := range items {
				inFlight++
				wg.Go(func() {
					defer func() { done <- struct{}{} }()
					ob.process(ctx, c)
				})
			}
			claimed = len(items)
		}
		if claimed > 0 && inFlight < ob.o.Workers {
			continue // more may be due right away
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			inFlight--
			for drained := false; !drained; {
				select {
				case <-done:
					inFlight--
				default:
					drained = true
				}
			}
			claimNow = ob.o.Workers-inFlight >= batch || inFlight == 0
		case <-l.wake:
			claimNow = true
		case <-time.After(ob.o.Poll):
			claimNow = true
		}
	}
}
