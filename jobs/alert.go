// Package jobs runs opsbot's background work: the scheduler, the monitors
// and the delivery of what they announce. The alert state machine of store
// is driven from here, once, for every monitor.
package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// AlertStore is the part of the store alerts need.
type AlertStore interface {
	UpdateAlert(ctx context.Context, key string, now time.Time, fn func(a *store.Alert) ([]store.OutboxItem, error)) (store.Alert, error)
	UpdateAlerts(ctx context.Context, keys []string, now time.Time, fn func(as []*store.Alert) ([]store.OutboxItem, error)) ([]store.Alert, error)
	GetAlert(ctx context.Context, key string) (store.Alert, bool, error)
	Alerts(ctx context.Context) ([]store.Alert, error)
	AlertGroup(ctx context.Context, client string) (string, error)
}

// Subject is one monitored thing and where its alerts go.
type Subject struct {
	Key        string // unique and stable: "uptime/acme/www"
	Monitor    string // "uptime", "server", "cost", ...
	Client     string
	ClientName string // the client as people know it ("ACME Ltd"); "" = Client
	Name       string // shown to people
	Site       string // what a silence names besides the client (site, resource)
	URL        string // optional link
	Channel    string // the client's (or team's) alert channel
	PagerRef   string // names the PagerDuty routing key (e.g. the client key); never the key itself
	Severity   integrations.Severity
	Thresholds store.Thresholds
	// Gathers: while this alert is open, its client's site alerts that fail
	// within the group window gather under it (an EC2 instance's status
	// checks: the sites on it go down with it).
	Gathers bool
	// Fields are shown in the alert's message (plain text, escaped there).
	Fields []store.AlertField
	// Summary is the incident's one line; default "<client name> — <Name>
	// down: <error>" (see pageSummary).
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
	store  AlertStore    // raw, behind quietStore: its writes forget quiet marks
	raw    AlertStore    // the store itself, for Observe's own bookkeeping of quiet
	quiet  quietAlerts   // alerts settled healthy: a passing check needs no write
	nudge  func()        // wakes the outbox worker; may be nil
	window time.Duration // site alerts within this of a gathering alert gather under it; 0: never
}

// NewAlerter returns an Alerter; nudge (optional) is called after each
// transition so delivery starts at once instead of at the next poll.
func NewAlerter(s AlertStore, nudge func()) *Alerter {
	al := &Alerter{raw: s, nudge: nudge}
	al.store = quietStore{AlertStore: s, q: &al.quiet}
	return al
}

// GroupWithin makes a client's site alerts that fire within window of one
// of its gathering alerts (Subject.Gathers) gather under it; 0 turns
// grouping off (the default). Call it before the Alerter is used.
func (al *Alerter) GroupWithin(window time.Duration) *Alerter {
	al.window = window
	return al
}

// Observe records one check of subj. It returns the transition it caused.
func (al *Alerter) Observe(ctx context.Context, subj Subject, ok bool, errText string, at time.Time, silenced bool) (store.Transition, error) {
	return al.observe(ctx, subj, ok, errText, at, silenced, false)
}

// observe is Observe; sole (see ObserveSole) lets it skip the write of a
// passing check of an alert saved settled, and mark the alerts it saves so.
func (al *Alerter) observe(ctx context.Context, subj Subject, ok bool, errText string, at time.Time, silenced, sole bool) (store.Transition, error) {
	if sole && ok && al.quiet.settled(subj) {
		return store.NoChange, nil
	}
	obs := func(a *store.Alert) store.Transition {
		describe(a, subj)
		// A muted alert whose silence has ended fires on its next failing
		// observation: Observe sees it still failing and no silence.
		return a.Observe(ok, errText, at, subj.Thresholds, silenced)
	}
	var (
		tr  store.Transition
		cur store.Alert
		err error
	)
	switch {
	case al.window > 0 && subj.Gathers && !ok:
		tr, err = al.observeGathering(ctx, subj, at, obs)
	case al.window > 0 && subj.Monitor == "uptime" && !ok:
		tr, err = al.observeUnderGroup(ctx, subj, at, obs)
	default:
		g := al.quiet.begin(subj.Key)
		cur, err = al.raw.UpdateAlert(ctx, subj.Key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
			tr = obs(a)
			return announce(a, tr, "", at)
		})
		var saved *store.Alert
		if err == nil && sole {
			saved = &cur
		}
		al.quiet.end(g, &subj, saved, subj.Key)
		if err == nil {
			err = al.afterTransition(ctx, cur, tr, at)
		}
	}
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

// Silence records that person by silenced the alert until until from its
// message (acknowledging it if nobody had) and updates the message.
func (al *Alerter) Silence(ctx context.Context, key, by string, until, at time.Time) (store.Alert, error) {
	return al.byPerson(ctx, key, by, at, func(a *store.Alert) (store.Transition, error) { return a.SilenceBy(by, until, at) })
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
	var tr store.Transition
	a, err := al.store.UpdateAlert(ctx, key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
		var err error
		tr, err = op(a)
		if err != nil {
			return nil, err
		}
		// The Events v2 acknowledge/resolve joins the alert's PagerDuty queue,
		// behind its trigger, so it can never overtake it (the person's REST
		// call, made before, is for attribution and may find no incident yet).
		return announce(a, tr, by, at)
	})
	if err != nil {
		return store.Alert{}, err
	}
	if err := al.afterTransition(ctx, a, tr, at); err != nil {
		return a, err
	}
	if al.nudge != nil {
		al.nudge()
	}
	return a, nil
}

// announce lists the deliveries a transition needs. A suppressed alert
// (gathered under its parent when it fired) has no message or page of its
// own: its parent's message tells of it.
func announce(a *store.Alert, tr store.Transition, by string, at time.Time) ([]store.OutboxItem, error) {
	if tr == store.NoChange || a.Suppressed {
		return nil, nil
	}
	if tr == store.Fired {
		a.Channel = cmp.Or(a.Home, a.Channel)
	}
	var items []store.OutboxItem
	add := func(kind string, payload any) error {
		it, err := store.NewOutboxItem(kind, a.Key, payload, at)
		items = append(items, it)
		return err
	}
	if err := add(kindSlackAlert, messagePayload(a, at)); err != nil {
		return nil, err
	}
	if line := threadLine(a, tr, by, at); line != "" {
		if err := add(kindSlackThread, threadPayload{Text: line, FiredAt: a.FiredAt}); err != nil {
			return nil, err
		}
	}
	action := map[store.Transition]string{store.Fired: "trigger", store.Recovered: "resolve",
		store.Resolve: "resolve", store.Acknowledge: "acknowledge", store.Silenced: "acknowledge", store.Stale: "resolve"}[tr]
	if a.PagerRef != "" && action != "" {
		if err := add(kindPager, pagerPayload{Ref: a.PagerRef, Event: pageEvent(a, action, at)}); err != nil {
			return nil, err
		}
	}
	if action == "resolve" {
		for _, p := range resolveEscalations(a, at) {
			if err := add(kindPager, p); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// messagePayload is a's message as it is now, for its slack.alert delivery.
func messagePayload(a *store.Alert, at time.Time) alertPayload {
	p := alertPayload{Name: a.Subject, URL: a.URL, Channel: a.Channel, FiredAt: a.FiredAt}
	snapshot := alertMessage(*a, p, at)
	p.Text, p.Blocks = snapshot.Text, slack.Blocks{BlockSet: snapshot.Blocks}
	return p
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
		if a.ResolvedFailing {
			return fmt.Sprintf(":large_green_circle: Resolved by <@%s> while it was still failing (%s). It alerts again if it still fails once its failure is confirmed anew.", by, chat.Escape(truncate(a.LastError, 200)))
		}
		return fmt.Sprintf(":large_green_circle: Resolved by <@%s>.", by)
	case store.Stale:
		return ":white_circle: No data: CloudWatch stopped sending this metric, so the breach can't be judged any more. Closed; the resource's *no data* alert tells when data is back."
	case store.Silenced:
		return fmt.Sprintf(":double_vertical_bar: Silenced by <@%s> until %s.", by, date(a.SilencedUntil))
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
