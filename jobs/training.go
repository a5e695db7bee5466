package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// TrainingSource reads course completions (integrations/udemy's *Client).
type TrainingSource interface {
	CourseActivity(ctx context.Context, courseIDs []string) ([]integrations.CourseActivity, error)
}

// Emails finds a person's e-mail (Slack users.info; bot's *Bot).
type Emails interface {
	UserEmail(ctx context.Context, userID string) (string, error)
}

// TrainingStore is what the training jobs keep and read (*store.Store).
type TrainingStore interface {
	AllGrants(ctx context.Context) (map[string][]store.Grant, error)
	SaveTrainingSync(ctx context.Context, ts store.TrainingSync) error
	LoadTrainingSync(ctx context.Context) (store.TrainingSync, bool, error)
	TrainingRecords(ctx context.Context) (map[string][]store.TrainingRecord, error)
	EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
}

// TrainingOptions configure the training jobs.
type TrainingOptions struct {
	Courses   []string     // Udemy course IDs; a completion of any counts
	Who       []store.Role // roles whose holders must be trained
	Rules     store.TrainingRules
	Channel   string              // the security channel, for the weekly summary ("" none)
	CourseURL func(string) string // link to take a course; nil: no links
	Location  *time.Location      // the reminder week's time zone; nil UTC
	Now       func() time.Time
	Nudge     func()
	Logger    *slog.Logger
}

// Training syncs Udemy's reports daily (Run) and sends the weekly
// reminders (Reminders): one DM a week to each person overdue or due soon,
// never a channel blast, and one summary line to the security channel.
type Training struct {
	src    TrainingSource // nil: Udemy not configured (only recorded trainings count)
	emails Emails         // nil: nobody can be matched
	st     TrainingStore
	o      TrainingOptions
	log    *slog.Logger
}

// NewTraining builds the jobs.
func NewTraining(src TrainingSource, emails Emails, st TrainingStore, o TrainingOptions) *Training {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Location = cmp.Or(o.Location, time.UTC)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return &Training{src: src, emails: emails, st: st, o: o, log: o.Logger.With("job", "training")}
}

// Name implements Job.
func (t *Training) Name() string { return "training-sync" }

// CatchUpWindow implements CatchUp.
func (t *Training) CatchUpWindow() time.Duration { return 23 * time.Hour }

// Run reads every team member's Slack e-mail and Udemy's activity of the
// courses into the store. Deactivated Udemy accounts are left out.
func (t *Training) Run(ctx context.Context) error {
	grants, err := t.st.AllGrants(ctx)
	if err != nil {
		return fmt.Errorf("training sync: %w", err)
	}
	ts := store.TrainingSync{At: t.o.Now(), People: map[string]store.UdemyPerson{}, Courses: map[string]string{}, Emails: map[string]string{}}
	if prev, ok, err := t.st.LoadTrainingSync(ctx); err == nil && ok && prev.Emails != nil {
		ts.Emails = prev.Emails // keep known e-mails if Slack fails for someone
	}
	if t.emails != nil {
		for _, u := range store.TrainingTeam(grants, t.o.Who) {
			email, err := t.emails.UserEmail(ctx, u)
			if err != nil || email == "" {
				t.log.Warn("training: no e-mail for a team member", "user_id", u, "err", err)
				continue
			}
			ts.Emails[u] = strings.ToLower(email)
		}
	}
	if t.src != nil && len(t.o.Courses) > 0 {
		rows, err := t.src.CourseActivity(ctx, t.o.Courses)
		if err != nil {
			return fmt.Errorf("training sync: %w", err)
		}
		for _, r := range rows {
			if r.CourseTitle != "" {
				ts.Courses[r.CourseID] = r.CourseTitle
			}
			if r.Deactivated || r.Email == "" {
				continue
			}
			p := ts.People[r.Email]
			p.Name = cmp.Or(p.Name, r.Name)
			if !r.FirstCompleted.IsZero() {
				if p.Completions == nil {
					p.Completions = map[string]time.Time{}
				}
				p.Completions[r.CourseID] = r.FirstCompleted
			}
			ts.People[r.Email] = p
		}
	}
	t.log.Info("training synced", "people", len(ts.People), "team_emails", len(ts.Emails))
	return t.st.SaveTrainingSync(ctx, ts)
}

// Reminders is the weekly reminder job.
func (t *Training) Reminders() Job { return trainingReminders{t} }

type trainingReminders struct{ t *Training }

func (r trainingReminders) Name() string { return "training-remind" }

// Run DMs each person overdue or due soon once this week, then posts the
// week's summary line once.
func (r trainingReminders) Run(ctx context.Context) error {
	t := r.t
	now := t.o.Now()
	grants, err := t.st.AllGrants(ctx)
	if err != nil {
		return fmt.Errorf("training reminders: %w", err)
	}
	ts, synced, err := t.st.LoadTrainingSync(ctx)
	if err != nil {
		return fmt.Errorf("training reminders: %w", err)
	}
	if !synced {
		// Before the first sync nobody is matched: reminding (or
		// summing up the week) now would be wrong, and once only.
		t.log.Warn("training reminders skipped: Udemy has not been synced yet")
		return nil
	}
	recs, err := t.st.TrainingRecords(ctx)
	if err != nil {
		return fmt.Errorf("training reminders: %w", err)
	}
	y, w := now.In(t.o.Location).ISOWeek()
	week := fmt.Sprintf("%d-W%02d", y, w)
	counts := map[store.TrainingState]int{}
	reminded := 0
	for _, s := range t.o.Rules.TrainingStatuses(store.TrainingTeam(grants, t.o.Who), ts, recs, now) {
		counts[s.State]++
		if !s.NeedsReminder() {
			continue
		}
		it, err := store.NewOutboxItem(kindSlackPost, "training/"+s.User, postPayload{Channel: s.User, Text: t.reminderText(s, now)}, now)
		if err != nil {
			return err
		}
		sent, err := t.st.EnqueueOnce(ctx, "training/remind/"+s.User+"/"+week, 8*24*time.Hour, now, it)
		if err != nil {
			return fmt.Errorf("training reminder for %s: %w", s.User, err)
		}
		if sent {
			reminded++
		}
	}
	if t.o.Channel != "" {
		text := fmt.Sprintf(":mortar_board: Security training, week %s: %d current, %d due soon, %d overdue, %d not matched to a Udemy account. "+
			"%d reminded by DM. `/ops training` shows the table.", week, counts[store.TrainingCurrent], counts[store.TrainingDueSoon],
			counts[store.TrainingOverdue], counts[store.TrainingUnmatched], reminded)
		it, err := store.NewOutboxItem(kindSlackPost, "training/summary", postPayload{Channel: t.o.Channel, Text: text}, now)
		if err != nil {
			return err
		}
		if _, err := t.st.EnqueueOnce(ctx, "training/summary/"+week, 8*24*time.Hour, now, it); err != nil {
			return fmt.Errorf("training summary: %w", err)
		}
	}
	if t.o.Nudge != nil {
		t.o.Nudge()
	}
	return nil
}

// reminderText is the DM: the state, the deadline and what to take.
func (t *Training) reminderText(s store.TrainingStatus, now time.Time) string {
	var b strings.Builder
	switch {
	case s.State == store.TrainingDueSoon:
		fmt.Fprintf(&b, ":hourglass_flowing_sand: Your security training expires in %d days (on %s).", int(s.Expires.Sub(now).Hours()/24)+1, s.Expires.In(t.o.Location).Format("2 Jan 2006"))
	case s.Last.IsZero():
		b.WriteString(":red_circle: You have no security training on record: it is *overdue*.")
	default:
		fmt.Fprintf(&b, ":red_circle: Your security training expired on %s: it is *overdue*.", s.Expires.In(t.o.Location).Format("2 Jan 2006"))
	}
	b.WriteString(" " + TrainingTake(t.o.Courses, t.o.CourseURL))
	return b.String()
}

// TrainingTake says what to take, with links when they can be built.
func TrainingTake(courses []string, courseURL func(string) string) string {
	if len(courses) == 0 {
		return "Ask the security team which course to take."
	}
	links := make([]string, 0, len(courses))
	for _, id := range courses {
		l := "course " + chat.Escape(id)
		if courseURL != nil {
			if u := chat.SafeURL(courseURL(id)); u != "" {
				l = "<" + u + "|course " + chat.Escape(id) + ">"
			}
		}
		links = append(links, l)
	}
	return "Take one of these on Udemy Business: " + strings.Join(links, ", ") + ". `/ops training` shows your status."
}
