// Package metrics holds opsbot's Prometheus collectors on a private registry,
// so tests can build many instances and /metrics shows only opsbot's series
// plus the Go and process collectors.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is safe for concurrent use. A nil *Metrics records nothing.
type Metrics struct {
	reg        *prometheus.Registry
	commands   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	envelopes  *prometheus.CounterVec
	duplicates prometheus.Counter
	reconnects prometheus.Counter

	// The children recorded on every command, cached by label values.
	commandOf  children[[2]string, prometheus.Counter]
	latencyOf  children[string, prometheus.Observer]
	envelopeOf children[string, prometheus.Counter]
}

// children caches a vector's children by their label values, which are
// few (verbs of the route table, outcomes, kinds, envelope types):
// WithLabelValues hashes the values and looks the child up on every call.
type children[K comparable, V any] struct {
	mu       sync.RWMutex
	m        map[K]V
	newChild func(K) V
}

func (c *children[K, V]) get(k K) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok = c.m[k]; !ok {
		v = c.newChild(k)
		c.m[k] = v
	}
	return v
}

func newChildren[K comparable, V any](newChild func(K) V) children[K, V] {
	return children[K, V]{m: map[K]V{}, newChild: newChild}
}

// New registers every collector on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_commands_total",
			Help: "Commands, buttons and modal submissions handled, by verb (or action/callback ID) and outcome.",
		}, []string{"verb", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "opsbot_handler_duration_seconds",
			Help:    "Time from receipt to reply, by kind (command, action, submission).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "opsbot_slack_envelopes_total",
			Help: "Socket Mode envelopes received, by type.",
		}, []string{"type"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_slack_duplicate_envelopes_total",
			Help: "Envelopes dropped because the same envelope or event was already handled.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "opsbot_slack_reconnects_total",
			Help: "Socket Mode reconnections after the first connection.",
		}),
	}
	m.commandOf = newChildren(func(l [2]string) prometheus.Counter { return m.commands.WithLabelValues(l[0], l[1]) })
	m.latencyOf = newChildren(func(kind string) prometheus.Observer { return m.latency.WithLabelValues(kind) })
	m.envelopeOf = newChildren(func(typ string) prometheus.Counter { return m.envelopes.WithLabelValues(typ) })
	m.reg.MustRegister(m.commands, m.latency, m.envelopes, m.duplicates, m.reconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Command records one handled command, action or submission.
func (m *Metrics) Command(kind, verb, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.commandOf.get([2]string{verb, outcome}).Inc()
	m.latencyOf.get(kind).Observe(d.Seconds())
}

// Envelope counts a received Socket Mode envelope.
func (m *Metrics) Envelope(typ string) {
	if m != nil {
		m.envelopeOf.get(typ).Inc()
	}
}

// Duplicate counts a dropped redelivery.
func (m *Metrics) Duplicate() {
	if m != nil {
		m.duplicates.Inc()
	}
}

// Reconnect counts a Socket Mode reconnection.
func (m *Metrics) Reconnect() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// GaugeFunc registers a gauge whose value is read at scrape time (a backlog,
// a count held elsewhere). fn must be quick and bounded in time.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	if m != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
	}
}

// CounterFunc registers a counter whose value is read at scrape time.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	if m != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
	}
}
