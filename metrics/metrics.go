// Package metrics holds opsbot's Prometheus collectors on a private registry,
// so tests can build many instances and /metrics shows only opsbot's series
// plus the Go and process collectors.
package metrics

import (
	"net/http"
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
	m.commands.WithLabelValues(verb, outcome).Inc()
	m.latency.WithLabelValues(kind).Observe(d.Seconds())
}

// Envelope counts a received Socket Mode envelope.
func (m *Metrics) Envelope(typ string) {
	if m != nil {
		m.envelopes.WithLabelValues(typ).Inc()
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
