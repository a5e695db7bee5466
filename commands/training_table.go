package commands

import (
	"fmt"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// maxTableRows is Slack's limit of rows in a table block (the header row
// included).
const maxTableRows = 100

// trainingTable is the team as a Block Kit table (a message holds one):
// person, standing, last completion, course and expiry, worst first. Dates
// are Slack date elements, shown in the reader's time zone. Past the
// table's rows a line counts the people left out, above the table (Slack
// shows a table at the foot of its message).
func trainingTable(statuses []store.TrainingStatus) []slack.Block {
	var blocks []slack.Block
	shown := statuses
	if len(shown) > maxTableRows-1 {
		shown = shown[:maxTableRows-1]
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("The first %d of %d people, worst first; `/ops training @person` shows anyone.",
			len(shown), len(statuses)))))
	}
	t := slack.NewTableBlock("training_team").AddRow(rawCell("Person"), rawCell("Status"), rawCell("Completed"), rawCell("Course"), rawCell("Valid until"))
	for _, s := range shown {
		completed, course, until := rawCell("—"), rawCell("—"), rawCell("—")
		if !s.Last.IsZero() {
			completed, course, until = dateCell(s.Last, "{date_short}"), rawCell(s.Course+" ("+plainSource(s.Source)+")"), dateCell(s.Expires, "{date_short}")
		}
		t.AddRow(slack.NewTableRichTextCell(slack.NewRichTextSection(slack.NewRichTextSectionUserElement(s.User, nil))),
			rawCell(trainingEmoji[s.State]+" "+string(s.State)), completed, course, until)
	}
	t.WithColumnSettings(slack.ColumnSetting{Align: slack.ColumnAlignmentLeft}, slack.ColumnSetting{Align: slack.ColumnAlignmentLeft},
		slack.ColumnSetting{Align: slack.ColumnAlignmentLeft}, slack.ColumnSetting{Align: slack.ColumnAlignmentLeft, IsWrapped: true})
	return append(blocks, t)
}

// rawCell is a plain-text cell; Slack refuses an empty one.
func rawCell(s string) slack.TableCell {
	if s == "" {
		s = "—"
	}
	return slack.NewTableRawTextCell(truncate(s, 200))
}

// dateCell is a date in the reader's time zone, with the UTC date as the
// fallback.
func dateCell(t time.Time, format string) slack.TableCell {
	fallback := t.UTC().Format("2 Jan 2006")
	return slack.NewTableRichTextCell(slack.NewRichTextSection(slack.NewRichTextSectionDateElement(t.Unix(), format, nil, &fallback)))
}

// plainSource is a training's source without mention markup: "udemy", or
// "recorded by <@U…>" as "recorded" (a raw_text cell shows no mentions).
func plainSource(src string) string {
	if src == "udemy" {
		return src
	}
	return "recorded"
}
