package jobs

import (
	"context"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
)

// PostFinder finds a message the outbox posted earlier by its delivery ID
// (the Slack transport satisfies it; the console need not).
type PostFinder interface {
	FindPost(ctx context.Context, channel, threadTS, deliveryID string) (channelID, ts string, found bool, err error)
}

// postOnce posts msg for the claimed item c, marked with c's ID, unless an
// earlier claim of c already posted it: Slack processed the post but the
// reply was lost (a timeout, a 500 after the fact) or the replica died
// before recording it. Then the earlier message is returned, not a second.
func (ob *Outbox) postOnce(ctx context.Context, c store.Claimed, channel string, msg chat.Message) (string, string, error) {
	msg.DeliveryID = c.Item.ID
	if f, ok := ob.poster.(PostFinder); ok && c.Claims > 1 {
		ch, ts, found, err := f.FindPost(ctx, channel, msg.ThreadTS, c.Item.ID)
		if err != nil {
			return "", "", err
		}
		if found {
			ob.o.Logger.Info("delivery was posted by an earlier attempt; not posting again",
				"queue", c.Queue, "item_id", c.Item.ID, "ts", ts)
			return ch, ts, nil
		}
	}
	return ob.poster.Post(ctx, channel, msg)
}
