package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// describe copies what people are told about subj onto its alert, so
// every later transition (a person's, a timer's) can announce it alone.
func describe(a *store.Alert, subj Subject) {
	a.Monitor, a.Client, a.ClientName, a.Subject = subj.Monitor, subj.Client, subj.ClientName, subj.Name
	a.Site, a.URL, a.PagerRef, a.Home = subj.Site, subj.URL, subj.PagerRef, subj.Channel
	a.Severity = string(cmp.Or(subj.Severity, integrations.SeverityCritical))
	if subj.Fields != nil {
		a.Fields = subj.Fields
	}
	a.PageSummary, a.PageDetails = subj.Summary, subj.Details
}

// apply runs op on subj's alert and queues what its transition announces.
func (al *Alerter) apply(ctx context.Context, subj Subject, at time.Time, what string, op func(a *store.Alert) store.Transition) error {
	var tr store.Transition
	_, err := al.store.UpdateAlert(ctx, subj.Key, at, func(a *store.Alert) ([]store.OutboxItem, error) {
		describe(a, subj)
		tr = op(a)
		return announce(a, tr, "", at)
	})
	if err != nil {
		return fmt.Errorf("jobs: %s %s: %w", what, subj.Key, err)
	}
	if tr != store.NoChange && al.nudge != nil {
		al.nudge()
	}
	return nil
}
