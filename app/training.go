package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/udemy"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// trainingCheck is security-training compliance: the daily Udemy sync, the
// weekly reminders, and what /ops training reads.
type trainingCheck struct {
	job      *jobs.Training // nil: training.courses is empty
	settings commands.TrainingSettings
	st       *store.Store
}

// newTrainingCheck builds the jobs and registers them on training.sync and
// training.remind. People are matched by their Slack e-mail, which only
// the Slack transport can read (poster implements jobs.Emails there).
func newTrainingCheck(cfg *config.Config, st *store.Store, poster chat.Poster, bg *background, log *slog.Logger) (*trainingCheck, error) {
	t := &trainingCheck{st: st}
	if !cfg.TrainingEnabled() {
		return t, nil
	}
	tr := cfg.Training
	who := make([]store.Role, len(tr.Who))
	for i, r := range tr.Who {
		who[i] = store.Role(r)
	}
	var src jobs.TrainingSource
	var courseURL func(string) string
	if u := cfg.Integrations.Udemy; u.APIURL != "" {
		c, err := udemy.New(udemy.Config{APIURL: u.APIURL, OrganizationID: u.OrganizationID,
			ClientID: cfg.Secrets.UdemyClientID.Reveal(), ClientSecret: cfg.Secrets.UdemyClientSecret.Reveal()},
			&http.Client{Timeout: 30 * time.Second}, log.With("component", "udemy"))
		if err != nil {
			return nil, err
		}
		src, courseURL = c, c.CourseURL
	}
	emails, _ := poster.(jobs.Emails)
	rules := store.TrainingRules{ValidFor: tr.ValidFor.Std(), DueSoon: tr.DueSoon.Std()}
	t.job = jobs.NewTraining(src, emails, st, jobs.TrainingOptions{Courses: tr.Courses, Who: who, Rules: rules,
		Channel: cfg.Channels.Security, CourseURL: courseURL, Location: cfg.Location, Nudge: bg.changed,
		Logger: log.With("component", "training")})
	t.settings = commands.TrainingSettings{Courses: tr.Courses, Who: who, Rules: rules, CourseURL: courseURL, Location: cfg.Location,
		Take: func() string { return jobs.TrainingTake(tr.Courses, courseURL) }}
	if err := bg.sched.Add(tr.Sync, t.job); err != nil {
		return nil, fmt.Errorf("training.sync %q: %w", tr.Sync, err)
	}
	if err := bg.sched.Add(tr.Remind, t.job.Reminders()); err != nil {
		return nil, fmt.Errorf("training.remind %q: %w", tr.Remind, err)
	}
	return t, nil
}

// wire hands /ops training its store and settings.
func (t *trainingCheck) wire(d *commands.Deps) {
	if t.job == nil {
		return
	}
	d.Training, d.TrainingSettings = t.st, t.settings
}
