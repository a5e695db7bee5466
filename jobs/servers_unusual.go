package jobs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// How long event markers are kept: long enough that no later round can
// announce the same event again.
const (
	inventoryEventTTL = 30 * 24 * time.Hour
	spikeEventTTL     = 7 * 24 * time.Hour
	deniedEventTTL    = 25 * time.Hour
)

// minBaseline is the fewest earlier points a spike is measured against.
const minBaseline = 3

// announceInventory posts, once per event, each resource that appeared,
// vanished or changed type since the previous snapshot. Event markers name
// the previous snapshot, so a retried round never posts twice.
func (s *Servers) announceInventory(ctx context.Context, c ServerClient, prev, cur store.ServerRecord, now time.Time) error {
	before, after := map[string]store.ServerResource{}, map[string]store.ServerResource{}
	for _, r := range prev.Resources {
		if present(r) {
			before[r.ID] = r
		}
	}
	for _, r := range cur.Resources {
		if present(r) {
			after[r.ID] = r
		}
	}
	since := strconv.FormatInt(prev.TakenAt.Unix(), 10)
	for _, r := range cur.Resources {
		old, had := before[r.ID]
		switch _, has := after[r.ID]; {
		case has && !had:
			text := fmt.Sprintf(":new: *Unusual activity* on %s: %s %s appeared (%s, %s) since %s.",
				chat.Escape(c.Name), kindWord(r), label(r), chat.Escape(r.Type), chat.Escape(r.Region), date(prev.TakenAt))
			summary := fmt.Sprintf("%s — unusual activity: %s %s appeared (%s, %s)", c.Name, kindWord(r), resourceLabel(r), r.Type, r.Region)
			if err := s.unusual(ctx, c, "appeared", "appeared:"+r.ID+":"+since, inventoryEventTTL, text, summary, now); err != nil {
				return err
			}
		case has && old.Type != "" && r.Type != old.Type:
			text := fmt.Sprintf(":twisted_rightwards_arrows: *Unusual activity* on %s: %s %s changed type from %s to %s since %s.",
				chat.Escape(c.Name), kindWord(r), label(r), chat.Escape(old.Type), chat.Escape(r.Type), date(prev.TakenAt))
			summary := fmt.Sprintf("%s — unusual activity: %s %s changed type from %s to %s", c.Name, kindWord(r), resourceLabel(r), old.Type, r.Type)
			if err := s.unusual(ctx, c, "type_changed", "type:"+r.ID+":"+old.Type+":"+r.Type+":"+since, inventoryEventTTL, text, summary, now); err != nil {
				return err
			}
		}
	}
	for _, r := range prev.Resources {
		if _, had := before[r.ID]; !had {
			continue
		}
		if _, has := after[r.ID]; has {
			continue
		}
		state := "is gone"
		for _, n := range cur.Resources {
			if n.ID == r.ID {
				state = "is " + chat.Escape(n.State)
			}
		}
		text := fmt.Sprintf(":ghost: *Unusual activity* on %s: %s %s (%s, %s) %s; it was %s at %s.",
			chat.Escape(c.Name), kindWord(r), label(r), chat.Escape(r.Type), chat.Escape(r.Region), state, chat.Escape(r.State), date(prev.TakenAt))
		summary := fmt.Sprintf("%s — unusual activity: %s %s (%s, %s) %s", c.Name, kindWord(r), resourceLabel(r), r.Type, r.Region, strings.TrimPrefix(state, "is "))
		if err := s.unusual(ctx, c, "vanished", "vanished:"+r.ID+":"+since, inventoryEventTTL, text, summary, now); err != nil {
			return err
		}
	}
	return nil
}

// announceSpikes posts each CPU or NetworkOut spike once: the newest point
// at least factor times the trailing average before the spike began and
// above the metric's floor. The spike is keyed by the period it began in,
// so a spike lasting several rounds is one event.
func (s *Servers) announceSpikes(ctx context.Context, c ServerClient, snap integrations.ServerSnapshot, cur store.ServerRecord, factor float64, now time.Time) error {
	res := map[string]store.ServerResource{}
	for _, r := range cur.Resources {
		res[r.ID] = r
	}
	for _, m := range snap.Metrics {
		floor, what := s.o.SpikeFloorCPU, "CPU"
		switch m.Metric {
		case integrations.MetricCPU:
		case integrations.MetricNetworkOut:
			floor, what = s.o.SpikeFloorNetworkOut, "NetworkOut"
		default:
			continue
		}
		start, baseline, ok := spikeStart(m.Points, factor, floor)
		if !ok {
			continue
		}
		r, known := res[m.Resource]
		if !known {
			r = store.ServerResource{ID: m.Resource}
		}
		last := m.Points[len(m.Points)-1]
		ratio := "far above"
		if baseline > 0 {
			ratio = num(last.Value/baseline) + "×"
		}
		text := fmt.Sprintf(":chart_with_upwards_trend: *Unusual activity* on %s: %s spike on %s — %s in the period from %s, %s the trailing average of %s over the %d periods before it began at %s (unusual at %s× and at least %s).",
			chat.Escape(c.Name), what, label(r), metricText(m.Metric, last.Value), date(last.At), ratio,
			metricText(m.Metric, baseline), start, date(m.Points[start].At), num(factor), metricText(m.Metric, floor))
		marker := "spike:" + m.Resource + ":" + m.Metric + ":" + strconv.FormatInt(m.Points[start].At.Unix(), 10)
		summary := fmt.Sprintf("%s — unusual activity: %s spike on %s, %s", c.Name, what, resourceLabel(r), metricText(m.Metric, last.Value))
		if err := s.unusual(ctx, c, "spike", marker, spikeEventTTL, text, summary, now); err != nil {
			return err
		}
	}
	return nil
}

// spikeStart finds the run of newest points that are all at least factor
// times the average of the points before the run and at least floor. It
// returns the run's first index and that average; ok is false when the
// newest point is no spike or there is too little history to judge.
func spikeStart(pts []integrations.MetricPoint, factor, floor float64) (start int, baseline float64, ok bool) {
	start = -1
	for j := len(pts) - 1; j >= minBaseline; j-- {
		sum := 0.0
		for _, p := range pts[:j] {
			sum += p.Value
		}
		avg := sum / float64(j)
		limit := max(floor, factor*avg)
		spike := true
		for _, p := range pts[j:] {
			spike = spike && p.Value >= limit
		}
		if !spike {
			break
		}
		start, baseline = j, avg
	}
	return start, baseline, start >= 0
}

// announceDenied tells the support channel, once per client per day, which
// IAM permission opsbot lacks.
func (s *Servers) announceDenied(ctx context.Context, c ServerClient, err error, now time.Time) error {
	text := fmt.Sprintf(":no_entry: I can't read the servers of %s: AWS denied %s. Add it to opsbot's IAM role in that account (deploy/iam-policy.json lists every permission opsbot needs); until then `/ops servers` shows the last data I had.",
		chat.Escape(c.Name), chat.Escape(deniedAction(err)))
	return s.post(ctx, c, "denied:"+now.UTC().Format("2006-01-02"), deniedEventTTL, text, now)
}

// deniedAction is the IAM action an error names, in backticks, or a
// generic phrase when it names none.
func deniedAction(err error) string {
	if action, ok := integrations.MissingPermission(err); ok {
		return "`" + action + "`"
	}
	return "a read permission (" + truncate(err.Error(), 200) + ")"
}

// post queues one message to the client's support channel, once per marker.
func (s *Servers) post(ctx context.Context, c ServerClient, event string, ttl time.Duration, text string, now time.Time) error {
	return s.unusual(ctx, c, "", event, ttl, text, "", now)
}

// unusual announces one event of unusual activity of kind (vanished,
// appeared, type_changed, spike) once per marker: a post to the support
// channel and, when the client's config pages on kind, a PagerDuty
// incident (one per event; there is nothing to recover from, a person
// resolves it).
func (s *Servers) unusual(ctx context.Context, c ServerClient, kind, event string, ttl time.Duration, text, summary string, now time.Time) error {
	marker := "servers:" + c.Key + ":" + event
	item, err := store.NewOutboxItem(kindSlackPost, "servers/"+c.Key, postPayload{Channel: c.Channel, Text: text}, now)
	if err != nil {
		return err
	}
	items := []store.OutboxItem{item}
	if kind != "" && c.PagerRef != "" && slices.Contains(c.PageOn, kind) {
		ev := integrations.Alert{DedupKey: "opsbot/unusual/" + c.Key + "/" + event, Action: "trigger", At: now,
			Summary: summary, Source: "opsbot servers " + c.Key, Severity: cmp.Or(c.Severity, integrations.SeverityError),
			Group: c.Key, Class: "unusual", Component: kind, Details: map[string]any{"client": c.Key, "client_name": c.Name, "event": kind}}
		page, err := store.NewOutboxItem(kindPager, "servers/"+c.Key, pagerPayload{Ref: c.PagerRef, Event: ev}, now)
		if err != nil {
			return err
		}
		items = append(items, page)
	}
	queued, err := s.st.EnqueueOnce(ctx, marker, ttl, now, items...)
	if err != nil {
		return fmt.Errorf("jobs: servers %s: announce %s: %w", c.Key, event, err)
	}
	if queued && s.o.Nudge != nil {
		s.o.Nudge()
	}
	return nil
}

func kindWord(r store.ServerResource) string {
	if r.Kind == store.ResourceDatabase {
		return "database"
	}
	return "instance"
}

// label is the resource for Slack: "*web-1* (`i-0abc`)".
func label(r store.ServerResource) string {
	if r.Name != "" && r.Name != r.ID {
		return "*" + chat.Escape(r.Name) + "* (`" + chat.Escape(r.ID) + "`)"
	}
	return "`" + chat.Escape(r.ID) + "`"
}

// metricText renders a value of metric with its unit.
func metricText(metric string, v float64) string {
	if metric == integrations.MetricNetworkOut {
		return num(v/1e6) + " MB"
	}
	return num(v) + " %"
}
