package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// ErrUnknownChannel is a #name that no channel opsbot can see carries: it
// does not exist, is archived, or is private without opsbot in it.
var ErrUnknownChannel = errors.New("slack: channel not found")

// reChannelID is a conversation ID: public (C), private (G) or DM (D), or a
// user ID (U, W), which chat.postMessage takes for the user's DM with opsbot.
// Channel names are lower case, so the two never meet.
var reChannelID = regexp.MustCompile(`^[CGDUW][A-Z0-9]+$`)

// reUserID is a user ID (a post to it lands in the user's DM with opsbot).
var reUserID = regexp.MustCompile(`^[UW][A-Z0-9]+$`)

// channelRefreshEvery bounds conversations.list calls (Slack Tier 2, about
// 20 a minute) when a name is missing from the cache.
const channelRefreshEvery = 30 * time.Second

// channelDirectory maps channel names to IDs from conversations.list.
// Slack takes a #name only in chat.postMessage; chat.update, permalinks,
// files and mentions need the ID, so every call resolves names here first.
type channelDirectory struct {
	mu      sync.Mutex
	byName  map[string]string // name without '#', lower case -> ID
	nameOf  map[string]string // ID -> the configured name it was resolved from
	fetched time.Time         // last conversations.list walk, successful or not
}

// ChannelID returns the ID for ch: an ID as it is, a #name (or bare name)
// through the cache, refreshed from conversations.list when the name is
// missing and the cache is older than channelRefreshEvery.
func (b *Bot) ChannelID(ctx context.Context, ch string) (string, error) {
	return b.channelID(ctx, ch, false)
}

func (b *Bot) channelID(ctx context.Context, ch string, force bool) (string, error) {
	if ch == "" || reChannelID.MatchString(ch) {
		return ch, nil
	}
	name := strings.ToLower(strings.TrimPrefix(ch, "#"))
	d := &b.channels
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.byName[name]; ok && !force {
		return id, nil
	}
	// At most one walk per channelRefreshEvery, failed ones included: a
	// 429 or an outage must not turn every post into another walk.
	if d.fetched.IsZero() || time.Since(d.fetched) >= channelRefreshEvery || force {
		d.fetched = time.Now()
		byName, err := b.listChannels(ctx)
		if err != nil {
			return "", fmt.Errorf("slack: resolve #%s: %w", name, err)
		}
		d.byName = byName
	}
	if id, ok := d.byName[name]; ok {
		if d.nameOf == nil {
			d.nameOf = map[string]string{}
		}
		d.nameOf[id] = name
		return id, nil
	}
	return "", fmt.Errorf("%w: #%s (check the name; invite opsbot to a private channel)", ErrUnknownChannel, name)
}

// forgetChannel drops a cached name whose ID Slack no longer knows (the
// channel was archived or deleted and the name may now be another's), and
// returns that name: ch itself, or the name an ID was resolved from.
func (b *Bot) forgetChannel(ch string) string {
	b.channels.mu.Lock()
	defer b.channels.mu.Unlock()
	name := strings.ToLower(strings.TrimPrefix(ch, "#"))
	if reChannelID.MatchString(ch) {
		name = b.channels.nameOf[ch]
		if name == "" {
			return ""
		}
	}
	delete(b.channels.byName, name)
	b.channels.fetched = time.Time{}
	return "#" + name
}

// listChannels pages through conversations.list, public and private
// channels opsbot can see, archived ones left out.
func (b *Bot) listChannels(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"},
		ExcludeArchived: true, Limit: 500}
	for page := 0; ; page++ {
		if page == 200 {
			return nil, errors.New("conversations.list: more than 200 pages")
		}
		chans, next, err := b.outboxAPI.GetConversationsContext(ctx, params) // no in-library sleep on 429
		if err != nil {
			return nil, classify("slack: conversations.list", err)
		}
		for _, c := range chans {
			out[strings.ToLower(c.Name)] = c.ID
		}
		if next == "" {
			return out, nil
		}
		params.Cursor = next
	}
}

// withChannel runs call with ch resolved to its ID. When Slack answers
// channel_not_found for an ID that came from a configured name (ch is that
// name, or the ID resolved from it at start), the name is looked up afresh
// once: the channel may have been deleted and re-created under that name.
func (b *Bot) withChannel(ctx context.Context, ch string, call func(id string) error) error {
	id, err := b.ChannelID(ctx, ch)
	if err != nil {
		b.log.Warn("not posting: channel name does not resolve", "channel", ch, "err", err)
		return err
	}
	err = call(id)
	if !isSlackError(err, "channel_not_found") {
		return err
	}
	name := b.forgetChannel(id)
	if name == "" {
		return err // an ID nobody configured by name: nothing to look up
	}
	fresh, rerr := b.channelID(ctx, name, true)
	if rerr != nil || fresh == id {
		return err
	}
	b.log.Warn("channel re-resolved: its old ID is gone", "channel", name, "old_id", id, "id", fresh)
	return call(fresh)
}

func isSlackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

// ResolveChannels looks up each configured name once at start (one
// conversations.list walk) and returns the IDs found by name, and the
// names that did not resolve. IDs pass through untouched.
func (b *Bot) ResolveChannels(ctx context.Context, names []string) (map[string]string, error) {
	ids := map[string]string{}
	var missing []string
	for _, n := range names {
		id, err := b.ChannelID(ctx, n)
		switch {
		case errors.Is(err, ErrUnknownChannel):
			missing = append(missing, n)
		case err != nil:
			return ids, err
		default:
			ids[n] = id
		}
	}
	if len(missing) > 0 {
		return ids, fmt.Errorf("%w: %s", ErrUnknownChannel, strings.Join(missing, ", "))
	}
	return ids, nil
}
