package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
)

// A holder that lost its lock to another does not delete the new holder's
// note on its way out: a third asker is still told who holds the lock.
func TestClaimLostKeepsTheNewHoldersNote(t *testing.T) {
	srv := redistest.Start(t)
	a := store.New(srv.Client(t), "opsbot:")
	b := store.New(srv.Client(t), "opsbot:")
	ctx := context.Background()
	bHolds, bDone := make(chan struct{}), make(chan struct{})
	_, _, err := a.Claim(ctx, "loaderio", 300*time.Millisecond, "test A", func(wctx context.Context) error {
		if _, err := srv.Do("del", "opsbot:lock:loaderio"); err != nil { // A's lock is lost
			return err
		}
		go func() {
			_, _, _ = b.Claim(ctx, "loaderio", time.Minute, "test B", func(context.Context) error {
				close(bHolds)
				<-bDone
				return nil
			})
		}()
		<-bHolds
		<-wctx.Done() // A finds out it lost the lock
		return nil
	})
	defer close(bDone)
	if err != nil {
		t.Fatal(err)
	}
	held, holder, err := store.New(srv.Client(t), "opsbot:").Claim(ctx, "loaderio", time.Minute, "test C", func(context.Context) error { return nil })
	if err != nil || held || holder != "test B" {
		t.Fatalf("a third asker: held %v, holder %q, %v; want told test B holds it", held, holder, err)
	}
}
