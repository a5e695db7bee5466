package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slack-go/slack"
)

// fatalAuthErrors are auth.test answers no retry can fix.
var fatalAuthErrors = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked"}

// authBackoffMin and authBackoffMax are the first and the longest wait
// between auth.test attempts.
const (
	authBackoffMin = time.Second
	authBackoffMax = 30 * time.Second
)

// authTest checks the bot token, retrying transient failures with backoff
// (1 s doubling to 30 s). It returns an error only when Slack rejects the
// token, and (nil, nil) when ctx ends first.
func (b *Bot) authTest(ctx context.Context) (*slack.AuthTestResponse, error) {
	delay := authBackoffMin
	for {
		auth, err := b.api.AuthTestContext(ctx)
		if err == nil {
			return auth, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && slices.Contains(fatalAuthErrors, se.Err) {
			return nil, fmt.Errorf("slack: auth.test with the bot token: %w", err)
		}
		b.log.Warn("slack auth.test failed; retrying", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		delay = min(delay*2, authBackoffMax)
	}
}
