package jobs

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// pageEvent is the PagerDuty event of an alert: whose (the client by its
// name) and why (the last error) in the summary, so the person paged at
// night knows what is down before opening anything.
func pageEvent(a *store.Alert, action string, at time.Time) integrations.Alert {
	ev := integrations.Alert{DedupKey: a.DedupKey(), Action: action, At: at,
		Summary: cmp.Or(a.PageSummary, pageSummary(a)), Source: cmp.Or(a.URL, a.Subject),
		Severity: cmp.Or(integrations.Severity(a.Severity), integrations.SeverityCritical), Group: a.Client, Class: a.Monitor,
		Component: a.Subject, Details: a.PageDetails}
	if ev.Details == nil {
		ev.Details = map[string]any{"client": a.Client, "client_name": a.Who(), "error": a.LastError, "since": a.FailingSince}
	}
	if u := chat.SafeURL(a.URL); u != "" {
		ev.Links = []integrations.Link{{Href: a.URL, Text: a.Subject}}
	}
	return ev
}

// pageSummary is "ACME Ltd — api down: HTTP 503".
func pageSummary(a *store.Alert) string {
	s := a.Who() + " — " + a.Subject + " " + wordsFor(a.Monitor).still
	if a.LastError != "" {
		s += ": " + a.LastError
	}
	if len(a.Children) > 0 {
		names := make([]string, 0, len(a.Children))
		for _, c := range a.Children {
			names = append(names, c.Name)
		}
		s += "; sites affected: " + strings.Join(names, ", ")
	}
	return s
}

// ChannelResolver turns a configured channel (an ID or a #name) into its ID
// (the Slack transport satisfies it; the console need not).
type ChannelResolver interface {
	ChannelID(ctx context.Context, channel string) (string, error)
}

var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

// linkBack points a trigger back at Slack: the alert's message when it is
// already posted (client_url and a link), else its channel. The two lanes
// deliver independently, so a page never waits for Slack.
func (ob *Outbox) linkBack(ctx context.Context, key string, ev *integrations.Alert) {
	if ev.Action != "trigger" {
		return
	}
	a, ok, err := ob.st.GetAlert(ctx, key)
	if err != nil || !ok {
		return
	}
	if a.MessageTS != "" {
		u := chat.MessageURL(a.Channel, a.MessageTS)
		ev.ClientURL = u
		ev.Links = append(ev.Links, integrations.Link{Href: u, Text: "Alert in Slack"})
		return
	}
	ch := cmp.Or(a.Channel, a.Home)
	if !channelID.MatchString(ch) {
		r, ok := ob.poster.(ChannelResolver)
		if !ok {
			return
		}
		if ch, err = r.ChannelID(ctx, ch); err != nil || !channelID.MatchString(ch) {
			return
		}
	}
	ev.ClientURL = fmt.Sprintf("https://slack.com/app_redirect?channel=%s", ch)
}
