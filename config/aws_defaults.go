package config

import (
	"strings"
	"time"
)

// applyAWSDefaults fills the server and cost settings left empty: the
// servers block (interval, period, every threshold), the cost block (the
// weekly report's time zone is the config's) and each client's AWS regions
// (integrations.aws.region when that is a valid region; an invalid one is
// reported once, at its own key). Client thresholds are left as written:
// zero means "inherit", resolved by EffectiveThresholds.
func applyAWSDefaults(cfg *Config) {
	s := &cfg.Servers
	defDuration(&s.Interval, DefaultServerInterval)
	defDuration(&s.Period, DefaultServerPeriod)
	s.Thresholds = s.Thresholds.Or(defaultThresholds())

	co := &cfg.Cost
	defString(&co.Currency, DefaultCurrency)
	defString(&co.RefreshAt, DefaultCostRefreshAt)
	defDuration(&co.MaxAge, DefaultCostMaxAge)
	defFloat(&co.AnomalyFactor, DefaultAnomalyFactor)
	defFloat(&co.AnomalyMinimum, DefaultAnomalyMinimum)
	defFloat(&co.QuoteStep, DefaultQuoteStep)
	wr := &co.WeeklyReport
	if wr.Enabled == nil {
		wr.Enabled = boolPtr(cfg.Channels.Finance != "")
	}
	defString(&wr.Day, DefaultReportDay)
	wr.Day = strings.ToLower(wr.Day)
	defString(&wr.Time, DefaultReportTime)
	defString(&wr.TimeZone, cfg.TimeZone)

	region := cfg.Integrations.AWS.Region
	for key, cl := range cfg.Clients {
		if cl.AWS == nil || len(cl.AWS.Regions) > 0 || !reAWSRegion.MatchString(region) {
			continue
		}
		a := *cl.AWS // the pointer may be shared by YAML aliases: never write through it
		a.Regions = []string{region}
		cl.AWS = &a
		cfg.Clients[key] = cl
	}
}

// defaultThresholds are the Default* constants as Thresholds.
func defaultThresholds() Thresholds {
	return Thresholds{
		CPU:           DefaultCPU,
		FreeStorageGB: DefaultFreeStorageGB,
		Periods:       DefaultPeriods,
		SpikeFactor:   DefaultSpikeFactor,
		StatusChecks:  boolPtr(true),
	}
}

// Or returns t with each zero field (nil StatusChecks) taken from fallback.
// It never aliases t's or fallback's StatusChecks: the result has its own
// copy, so callers may change it freely. Use it to layer overrides, e.g.
// thresholds stored by /ops threshold over Config.EffectiveThresholds.
func (t Thresholds) Or(fallback Thresholds) Thresholds {
	out := t
	if out.CPU == 0 {
		out.CPU = fallback.CPU
	}
	if out.FreeStorageGB == 0 {
		out.FreeStorageGB = fallback.FreeStorageGB
	}
	if out.Periods == 0 {
		out.Periods = fallback.Periods
	}
	if out.SpikeFactor == 0 {
		out.SpikeFactor = fallback.SpikeFactor
	}
	switch {
	case t.StatusChecks != nil:
		out.StatusChecks = boolPtr(*t.StatusChecks)
	case fallback.StatusChecks != nil:
		out.StatusChecks = boolPtr(*fallback.StatusChecks)
	}
	return out
}

// EffectiveThresholds returns the thresholds that apply to the client with
// this key: each field from the client's own thresholds when set (non-zero),
// else from servers.thresholds, else the Default* constant. Every field of
// the result is set and StatusChecks is non-nil (a fresh pointer). An unknown
// key gets the servers-level values.
func (c *Config) EffectiveThresholds(client string) Thresholds {
	return c.Clients[client].Thresholds.Or(c.Servers.Thresholds).Or(defaultThresholds())
}

// SelectsCosts reports whether the client's costs can be selected in Cost
// Explorer: it has an account_id or a cost_tag. A client without either is
// valid only when it has resources to watch; its cost monitoring is then off
// (no /ops cost figures, anomaly or quote alerts). Nil-safe.
func (a *ClientAWS) SelectsCosts() bool {
	return a != nil && (a.AccountID != "" || a.CostTag != nil)
}

// WatchesServers reports whether the client names resources for the server
// monitor: instances, databases or a resource_tag. Nil-safe.
func (a *ClientAWS) WatchesServers() bool {
	return a != nil && (len(a.Instances) > 0 || len(a.Databases) > 0 || a.ResourceTag != nil)
}

func defString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func defFloat(f *float64, v float64) {
	if *f == 0 {
		*f = v
	}
}

func defDuration(d *Duration, v time.Duration) {
	if *d == 0 {
		*d = Duration(v)
	}
}

func boolPtr(b bool) *bool { return &b }
