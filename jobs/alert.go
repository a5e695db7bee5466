// Package jobs runs opsbot's background work: the scheduler, the monitors
// and the delivery of what they announce. The alert state machine of store
// is driven from here, once, for every monitor.
package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// AlertStore is the part of the store alerts need.
type AlertStore interface {
	UpdateAlert(ctx context.Context, key string, now time.Time, fn func(a *store.Alert) ([]store.OutboxItem, error)) (store.Alert, error)
	GetAlert(ctx context.Context, key string) (store.Alert, bool, error)
}

// Subject is one monitored thing and where its alerts go.
type Subject struct {
	Key        string // unique and stable: "uptime/acme/www"
	Monitor    string // "uptime", "server", "cost", ...
	Client     string
	Name       string // shown to people
	URL        string // optional link
	Channel    string // the client's (or team's) alert channel
	PagerRef   string // names the PagerDuty routing key (e.g. the client key); never the key itself
	Severity   integrations.Severity
	Thresholds store.Thresholds
	// Fields are shown in the alert's message (plain text, escaped there).
	Fields []store.AlertField
	// Summary is the incident's one line; default "<Name> is down: <error>".
	Summary string
	// Details are the incident's custom details; default the error and since when.
	Details map[string]any
}

// Outbox kinds.
const (
	kindSlackAlert  = "slack.alert"       // post or update the alert's one message
	kindSlackThread = "slack.thread"      // a line in the alert message's thread
	kindPager       = "pagerduty"         // an Events v2 event
	kindSlackPost   = store.KindSlackPost // a standalone message
)

// postPayload is a standalone message to a channel.
type postPayload = store.PostPayload

// alertPayload is a slack.alert delivery: the message as it was at the
// transition, and the firing it belongs to (its message is found by it).
type alertPayload struct {
	Name    string       `json:"name"`
	URL     string       `json:"url,omitempty"`
	Channel string       `json:"channel"`
	FiredAt time.Time    `json:"fired_at"`
	Text    string       `json:"text"`
	Blocks  slack.Blocks `json:"blocks"`
}

type threadPayload struct {
	Text    string    `json:"text"`
	FiredAt time.Time `json:"fired_at"`
}

// pagerPayload is an event whose routing key is looked up at delivery, so
// no secret is stored in Redis.
type pagerPayload struct {
	Ref   string             `json:"ref"`
	Event integrations.Alert `json:"event"`
}

// Alerter turns observations and people's actions into alert transitions and
// the deliveries that announce them (queued in the same transaction).
type Alerter struct {
	store AlertStore
	nudge func() // wakes the outbox worker; may be nil
}

// NewAlerter returns an Alerter; nudge (optional) is called after each
// transition so delivery starts at once instead of at the next poll.
func NewAlerter(s AlertStore, nudge func()) *Alerter { return &Alerter{store: s, nudge: nudge} }

// Observe records one check of subj. It returns the transition it caused.
func (al *Alerter) Observe(ctx context.Context, subj Subject, ok bool, errText string, at time.Time, silenced bool) (store.Transition, error) {
	var tr store.Transition
	_, err := al.store.UpdateAlert(ctx, subj.Key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
		a.Monitor, a.Client, a.Subject, a.URL, a.PagerRef = subj.Monitor, subj.Client, subj.Name, subj.URL, subj.PagerRef
		if subj.Fields != nil {
			a.Fields = subj.Fields
		}
		// A muted alert whose silence has ended fires on its next failing
		// observation: Observe sees it still failing and no silence.
		tr = a.Observe(ok, errText, at, subj.Thresholds, silenced)
		return announce(subj, a, tr, "", at)
	})
	if err != nil {
		return store.NoChange, fmt.Errorf("jobs: observe %s: %w", subj.Key, err)
	}
	if tr != store.NoChange && al.nudge != nil {
		al.nudge()
	}
	return tr, nil
}

// Acknowledge records that person by took the alert on, and updates its
// message. The incident tool is told by the caller (as that person).
func (al *Alerter) Acknowledge(ctx context.Context, key, by string, at time.Time) (store.Alert, error) {
	return al.byPerson(ctx, key, by, at, func(a *store.Alert) (store.Transition, error) { return a.Ack(by, at) })
}

// Resolve closes the alert by hand and updates its message.
func (al *Alerter) Resolve(ctx context.Context, key, by string, at time.Time) (store.Alert, error) {
	return al.byPerson(ctx, key, by, at, func(a *store.Alert) (store.Transition, error) { return a.ResolveBy(by, at) })
}

// Alert returns the stored alert under key.
func (al *Alerter) Alert(ctx context.Context, key string) (store.Alert, bool, error) {
	return al.store.GetAlert(ctx, key)
}

func (al *Alerter) byPerson(ctx context.Context, key, by string, at time.Time, op func(*store.Alert) (store.Transition, error)) (store.Alert, error) {
	a, err := al.store.UpdateAlert(ctx, key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
		tr, err := op(a)
		if err != nil {
			return nil, err
		}
		// The Events v2 acknowledge/resolve joins the alert's PagerDuty queue,
		// behind its trigger, so it can never overtake it (the person's REST
		// call, made before, is for attribution and may find no incident yet).
		subj := Subject{Key: a.Key, Monitor: a.Monitor, Client: a.Client, Name: a.Subject, URL: a.URL, Channel: a.Channel, PagerRef: a.PagerRef}
		return announce(subj, a, tr, by, at)
	})
	if err != nil {
		return store.Alert{}, err
	}
	if al.nudge != nil {
		al.nudge()
	}
	return a, nil
}

// announce lists the deliveries a transition needs.
func announce(subj Subject, a *store.Alert, tr store.Transition, by string, at time.Time) ([]store.OutboxItem, error) {
	if tr == store.NoChange {
		return nil, nil
	}
	if tr == store.Fired {
		a.Channel = subj.Channel
	}
	var items []store.OutboxItem
	add := func(kind string, payload any) error {
		it, err := store.NewOutboxItem(kind, subj.Key, payload, at)
		items = append(items, it)
		return err
	}
	p := alertPayload{Name: subj.Name, URL: subj.URL, Channel: subj.Channel, FiredAt: a.FiredAt}
	snapshot := alertMessage(*a, p, at)
	p.Text, p.Blocks = snapshot.Text, slack.Blocks{BlockSet: snapshot.Blocks}
	if err := add(kindSlackAlert, p); err != nil {
		return nil, err
	}
	if line := threadLine(a, tr, by, at); line != "" {
		if err := add(kindSlackThread, threadPayload{Text: line, FiredAt: a.FiredAt}); err != nil {
			return nil, err
		}
	}
	action := map[store.Transition]string{store.Fired: "trigger", store.Recovered: "resolve",
		store.Resolve: "resolve", store.Acknowledge: "acknowledge"}[tr]
	if subj.PagerRef != "" && action != "" {
		ev := integrations.Alert{DedupKey: a.DedupKey(), Action: action, At: at,
			Summary: cmp.Or(subj.Summary, fmt.Sprintf("%s is down: %s", subj.Name, a.LastError)), Source: cmp.Or(subj.URL, subj.Name),
			Severity: cmp.Or(subj.Severity, integrations.SeverityCritical), Group: subj.Client, Class: subj.Monitor,
			Component: subj.Name, Details: subj.Details}
		if ev.Details == nil {
			ev.Details = map[string]any{"error": a.LastError, "since": a.FailingSince}
		}
		if subj.URL != "" {
			ev.Links = []integrations.Link{{Href: subj.URL, Text: subj.Name}}
		}
		if err := add(kindPager, pagerPayload{Ref: subj.PagerRef, Event: ev}); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// threadLine is the history line posted under the alert message.
func threadLine(a *store.Alert, tr store.Transition, by string, at time.Time) string {
	switch tr {
	case store.Recovered:
		w := wordsFor(a.Monitor)
		return fmt.Sprintf(":large_green_circle: %s after %s %s.", w.recoveredAfter, human(a.Downtime(at)), w.downFor)
	case store.Acknowledge:
		return fmt.Sprintf(":large_orange_circle: Acknowledged by <@%s>.", by)
	case store.Resolve:
		return fmt.Sprintf(":large_green_circle: Resolved by <@%s>.", by)
	}
	return ""
}

// human renders a duration the way people say it: "2h 14m", "45s".
func human(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
