package bot

import (
	"errors"
	"fmt"
	"slices"

	"github.com/383project/opsbot/integrations"
	"github.com/slack-go/slack"
)

// transientSlackErrors are Web API error codes that a later try may fix.
var transientSlackErrors = []string{"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}

// classify marks Slack failures worth retrying (429, 5xx, network, Slack's
// transient codes) as integrations.RetryableError, so the outbox retries them
// and dead-letters the rest (channel_not_found, not_in_channel, invalid_blocks).
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrUnknownChannel) {
		return fmt.Errorf("%s: %w", op, err) // a config fix, not a retry, makes it work
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &integrations.RetryableError{Op: op, StatusCode: 429, RetryAfter: rl.RetryAfter, Err: err}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 || sc.Code == 429 {
			return &integrations.RetryableError{Op: op, StatusCode: sc.Code, Err: err}
		}
		return err
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if slices.Contains(transientSlackErrors, se.Err) {
			return &integrations.RetryableError{Op: op, Err: err}
		}
		return err
	}
	// Anything else happened on the way (refused, reset, timeout): retry.
	return &integrations.RetryableError{Op: op, Err: err}
}
