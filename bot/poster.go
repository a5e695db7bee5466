package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/slack-go/slack"
)

func msgOptions(m commands.Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	if m.DeliveryID != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: deliveryEvent,
			EventPayload: map[string]any{"delivery_id": m.DeliveryID}}))
	}
	return opts
}

// Post implements commands.Poster with chat.postMessage. It returns the
// channel ID Slack answers with, which is what later updates, links and
// mentions need (a #name is resolved first, as Slack's other methods refuse
// names).
func (b *Bot) Post(ctx context.Context, channel string, m commands.Message) (channelID, ts string, err error) {
	err = b.withChannel(ctx, channel, func(id string) error {
		var perr error
		channelID, ts, perr = b.outboxAPI.PostMessageContext(ctx, id, msgOptions(m)...)
		return perr
	})
	if err != nil {
		return "", "", classify("slack: chat.postMessage to "+channel, err)
	}
	return channelID, ts, nil
}

// Update implements commands.Poster with chat.update.
func (b *Bot) Update(ctx context.Context, channel, ts string, m commands.Message) error {
	err := b.withChannel(ctx, channel, func(id string) error {
		_, _, _, uerr := b.outboxAPI.UpdateMessageContext(ctx, id, ts, msgOptions(m)...)
		return uerr
	})
	return classify("slack: chat.update "+channel+"/"+ts, err)
}

// Ephemeral implements commands.Poster with chat.postEphemeral.
func (b *Bot) Ephemeral(ctx context.Context, channel, userID string, m commands.Message) error {
	err := b.withChannel(ctx, channel, func(id string) error {
		_, eerr := b.api.PostEphemeralContext(ctx, id, userID, msgOptions(m)...)
		return eerr
	})
	return classify("slack: chat.postEphemeral to "+userID+" in "+channel, err)
}

// userCache holds the workspace's members for @name look-ups.
type userCache struct {
	mu      sync.Mutex
	byName  map[string]commands.User
	fetched time.Time
}

const userCacheTTL = 5 * time.Minute

// UserByName implements commands.Directory over users.list, matching the
// handle, display name or real name case-insensitively. The list is cached
// and refreshed when stale or when a name is missing (at most every 30 s).
func (b *Bot) UserByName(ctx context.Context, name string) (commands.User, error) {
	key := strings.ToLower(strings.TrimPrefix(name, "@"))
	c := &b.users
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.byName[key]; ok && time.Since(c.fetched) < userCacheTTL {
		return u, nil
	}
	if time.Since(c.fetched) > 30*time.Second || c.byName == nil {
		members, err := b.api.GetUsersContext(ctx, slack.GetUsersOptionLimit(200))
		if err != nil {
			return commands.User{}, fmt.Errorf("slack: users.list: %w", err)
		}
		c.byName = make(map[string]commands.User, len(members)*2)
		for _, m := range members {
			if m.Deleted {
				continue
			}
			u := commands.User{ID: m.ID, Name: m.Name}
			// Handles are unique; display and real names are not, so they
			// never shadow a handle.
			for _, n := range []string{m.Profile.DisplayName, m.RealName} {
				if n = strings.ToLower(n); n != "" {
					if _, taken := c.byName[n]; !taken {
						c.byName[n] = u
					}
				}
			}
			c.byName[strings.ToLower(m.Name)] = u
		}
		c.fetched = time.Now()
	}
	if u, ok := c.byName[key]; ok {
		return u, nil
	}
	return commands.User{}, commands.ErrUnknownUser
}

// slackbotID is Slackbot, whom users.info does not mark as a bot.
const slackbotID = "USLACKBOT"

// IsBot implements commands.Directory: opsbot's own user (from auth.test),
// Slackbot, and every user users.info marks is_bot or is_app_user.
func (b *Bot) IsBot(ctx context.Context, userID string) (bool, error) {
	if userID == b.selfID || userID == slackbotID {
		return true, nil
	}
	u, err := b.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "user_not_visible") {
			return false, commands.ErrUnknownUser
		}
		return false, fmt.Errorf("slack: users.info %s: %w", userID, err)
	}
	return u.IsBot || u.IsAppUser, nil
}

// UserEmail implements commands.Emails with users.info (scope users:read.email).
func (b *Bot) UserEmail(ctx context.Context, userID string) (string, error) {
	u, err := b.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("slack: users.info %s: %w", userID, err)
	}
	return u.Profile.Email, nil
}
