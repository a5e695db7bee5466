package app

import (
	"log/slog"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// addAlertTimers registers the job that escalates open alerts along their
// client's ladder and fires muted ones whose silence or change window has
// ended, every minute (once across replicas).
func addAlertTimers(cfg *config.Config, st *store.Store, bg *background, log *slog.Logger) error {
	ladders := map[string][]jobs.EscalationStep{}
	for _, key := range cfg.ClientKeys() {
		ladders[key] = ladderOf(cfg.Escalation(key))
	}
	def := ladderOf(cfg.Alerts.Escalation)
	timers := jobs.AlertTimers{Alerter: bg.alerter, Store: st, Log: log.With("component", "alert-timers"),
		Ladder: func(client string) []jobs.EscalationStep {
			if l, ok := ladders[client]; ok {
				return l
			}
			return def
		}}
	return bg.sched.Add("@every 1m", timers)
}

func ladderOf(steps []config.EscalationStep) []jobs.EscalationStep {
	out := make([]jobs.EscalationStep, 0, len(steps))
	for _, s := range steps {
		out = append(out, jobs.EscalationStep{After: s.After.Std(), Channel: s.Channel, Severity: integrations.Severity(s.Severity)})
	}
	return out
}
