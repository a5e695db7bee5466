package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/383project/opsbot/bot"
	"github.com/383project/opsbot/config"
)

// channelResolver is the part of the Slack transport that maps names to IDs.
type channelResolver interface {
	ChannelID(ctx context.Context, ch string) (string, error)
}

// resolveChannels replaces every #name in cfg with its channel ID before
// anything is built from it: Slack refuses names for chat.update, links and
// mentions, and slash commands carry IDs, so comparisons need IDs too.
// A name that does not resolve stays a name (the transport retries it on
// use) and is returned, with a warning naming its key.
func resolveChannels(ctx context.Context, cfg *config.Config, r channelResolver, log *slog.Logger) []config.ChannelRef {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var missing []config.ChannelRef
	for _, ref := range cfg.ChannelRefs() {
		if !config.IsChannelName(ref.Value) {
			continue
		}
		id, err := r.ChannelID(ctx, ref.Value)
		if err != nil {
			missing = append(missing, ref)
			if errors.Is(err, bot.ErrUnknownChannel) {
				log.Warn("configured channel not found: posts to it are refused until it exists and opsbot can see it",
					"key", ref.Path, "channel", ref.Value)
			} else {
				log.Warn("could not resolve a configured channel at start; will retry on use",
					"key", ref.Path, "channel", ref.Value, "err", err)
			}
			continue
		}
		ref.Set(id)
		log.Debug("channel resolved", "key", ref.Path, "channel", ref.Value, "id", id)
	}
	return missing
}

// channelsCheck is the /readyz check for configured channels that did not
// resolve at start: it names each (key and name, never an address) until
// it resolves.
func channelsCheck(r channelResolver, missing []config.ChannelRef) func(context.Context) error {
	return func(ctx context.Context) error {
		var bad []string
		for _, ref := range missing {
			if _, err := r.ChannelID(ctx, ref.Value); err != nil {
				bad = append(bad, fmt.Sprintf("%s %s", ref.Path, ref.Value))
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("channels not found in Slack: %s", strings.Join(bad, ", "))
		}
		return nil
	}
}
