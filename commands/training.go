package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// TrainingStore is what /ops training reads and records (*store.Store).
type TrainingStore interface {
	LoadTrainingSync(ctx context.Context) (store.TrainingSync, bool, error)
	TrainingRecords(ctx context.Context) (map[string][]store.TrainingRecord, error)
	RecordTraining(ctx context.Context, rec store.TrainingRecord) (store.TrainingRecord, error)
}

// TrainingSettings are the compliance settings from config.
type TrainingSettings struct {
	Courses   []string
	Who       []store.Role
	Rules     store.TrainingRules
	CourseURL func(id string) string // nil: no links
	Location  *time.Location
	// Take words what to take, with links (jobs.TrainingTake, shared with the reminders).
	Take func() string
}

const trainingExample = "/ops training"

var errNoTraining = Reply{Text: ":warning: Security training is not configured on this opsbot. Ask an admin to list the Udemy course IDs under `training: courses:` in opsbot.yaml."}

var trainingEmoji = map[store.TrainingState]string{store.TrainingOverdue: "🔴", store.TrainingDueSoon: "🟠",
	store.TrainingUnmatched: "⚪", store.TrainingCurrent: "🟢"}

var trainingOrder = []store.TrainingState{store.TrainingOverdue, store.TrainingDueSoon, store.TrainingUnmatched, store.TrainingCurrent}

// runTraining is `training [@user]` and `training record @user <course> <YYYY-MM-DD> <evidence>`.
func runTraining(ctx context.Context, c *Call) (Reply, error) {
	d := c.r.deps
	if d.Training == nil {
		return errNoTraining, nil
	}
	if len(c.Args) > 0 && strings.EqualFold(c.Args[0], "record") {
		return c.trainingRecord(ctx)
	}
	if len(c.Args) > 1 {
		return Reply{}, userErrorf("/ops training @alice", "`/ops training` takes at most one person.")
	}
	ts, _, err := d.Training.LoadTrainingSync(ctx)
	if err != nil {
		return Reply{}, err
	}
	recs, err := d.Training.TrainingRecords(ctx)
	if err != nil {
		return Reply{}, err
	}
	if len(c.Args) == 1 {
		user, err := c.resolveUser(ctx, c.Args[0], "/ops training @alice")
		if err != nil {
			return Reply{}, err
		}
		if user != c.User.ID {
			if err := c.Require(store.PermTrainingTeam, "see someone else's training"); err != nil {
				return Reply{}, err
			}
		}
		return c.trainingOne(ctx, user, ts, recs), nil
	}
	if c.Principal.Can(store.PermTrainingTeam) {
		return c.trainingTeam(ctx, ts, recs)
	}
	return c.trainingOne(ctx, c.User.ID, ts, recs), nil
}

// statusOf judges one person; their e-mail is looked up now when the
// last sync did not have it (someone who just got a role).
func (c *Call) statusOf(ctx context.Context, user string, ts store.TrainingSync, recs map[string][]store.TrainingRecord) store.TrainingStatus {
	if _, ok := ts.Emails[user]; !ok && c.r.deps.Emails != nil {
		if email, err := c.r.deps.Emails.UserEmail(ctx, user); err == nil && email != "" {
			ts.Emails = mapsWith(ts.Emails, user, strings.ToLower(email))
		}
	}
	return c.r.deps.TrainingSettings.Rules.TrainingStatuses([]string{user}, ts, recs, c.Now)[0]
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// trainingOne is one person's status with what to do.
func (c *Call) trainingOne(ctx context.Context, user string, ts store.TrainingSync, recs map[string][]store.TrainingRecord) Reply {
	s := c.statusOf(ctx, user, ts, recs)
	set := c.r.deps.TrainingSettings
	who := "Your"
	if user != c.User.ID {
		who = mention(user) + "'s"
	}
	line := trainingLine(s)
	var todo string
	switch s.State {
	case store.TrainingCurrent:
		todo = "Nothing to do until " + slackDate(s.Expires.Add(-set.Rules.DueSoon)) + "."
	case store.TrainingUnmatched:
		todo = "No Udemy Business account uses this Slack e-mail (" + Escape(orUnknown(s.Email)) + "), and nothing is recorded. " +
			"Use the same e-mail on Udemy, or ask security to record training done elsewhere. " + set.Take()
	default:
		todo = set.Take()
	}
	text := fmt.Sprintf("%s security training: %s\n%s", who, line, todo)
	if !ts.At.IsZero() {
		text += "\n_Udemy data from " + slackDate(ts.At) + "._"
	}
	return Reply{Text: text}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// trainingLine is "🟢 current — Secure Coding on 2 Mar 2026 (udemy), valid until …".
func trainingLine(s store.TrainingStatus) string {
	line := trainingEmoji[s.State] + " *" + string(s.State) + "*"
	if !s.Last.IsZero() {
		line += " — " + Escape(s.Course) + " completed " + s.Last.UTC().Format("2 Jan 2006") + " (" + s.Source + ")"
		if s.State == store.TrainingOverdue {
			line += ", expired " + slackDate(s.Expires)
		} else {
			line += ", valid until " + slackDate(s.Expires)
		}
	}
	return line
}

// trainingTeam is the table security and admin see: worst first.
func (c *Call) trainingTeam(ctx context.Context, ts store.TrainingSync, recs map[string][]store.TrainingRecord) (Reply, error) {
	grants, err := c.r.deps.Roles.AllGrants(ctx)
	if err != nil {
		return Reply{}, err
	}
	team := store.TrainingTeam(grants, c.r.deps.TrainingSettings.Who)
	statuses := c.r.deps.TrainingSettings.Rules.TrainingStatuses(team, ts, recs, c.Now)
	slices.SortStableFunc(statuses, func(a, b store.TrainingStatus) int {
		return slices.Index(trainingOrder, a.State) - slices.Index(trainingOrder, b.State)
	})
	counts := map[store.TrainingState]int{}
	for _, s := range statuses {
		counts[s.State]++
	}
	title := "Security training — the team"
	summary := fmt.Sprintf("%d people: %d current, %d due soon, %d overdue, %d unmatched.", len(statuses),
		counts[store.TrainingCurrent], counts[store.TrainingDueSoon], counts[store.TrainingOverdue], counts[store.TrainingUnmatched])
	if len(statuses) == 0 {
		summary = "Nobody holds the roles that must be trained yet."
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	note := "Udemy not synced yet."
	if !ts.At.IsZero() {
		note = "Udemy data from " + slackDate(ts.At) + "."
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(note+" `/ops training record @person <course> <YYYY-MM-DD> <evidence>` records training done elsewhere.")))
	if len(statuses) > 0 {
		blocks = append(blocks, trainingTable(statuses)...)
	}
	return Reply{Text: title + ": " + summary, Blocks: blocks}, nil
}

// trainingRecord is `training record @user <course> <YYYY-MM-DD> <evidence>`.
func (c *Call) trainingRecord(ctx context.Context) (Reply, error) {
	if err := c.Require(store.PermTrainingTeam, "record training"); err != nil {
		return Reply{}, err
	}
	a, err := ParseTrainingRecord(c.Args[1:], c.Now, c.r.deps.TrainingSettings.Location)
	if err != nil {
		return Reply{}, err
	}
	user, err := c.resolveUser(ctx, a.User, trainingRecordExample)
	if err != nil {
		return Reply{}, err
	}
	// An unconfirmed write (store.ErrNotReplicated) is worded by the router.
	if _, err := c.r.deps.Training.RecordTraining(ctx, store.TrainingRecord{User: user, Course: a.Course, Date: a.Date,
		Evidence: a.Evidence, By: c.User.ID, At: c.Now}); err != nil {
		return Reply{}, err
	}
	c.r.nudge() // App Home lists who is overdue: refresh it
	return Reply{Text: fmt.Sprintf(":white_check_mark: Recorded: %s completed %s on %s (evidence: %s). It is in the audit log.",
		mention(user), Escape(a.Course), a.Date.Format("2 Jan 2006"), Escape(chat.Truncate(a.Evidence, 200)))}, nil
}
