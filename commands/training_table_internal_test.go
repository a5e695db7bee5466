package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// The team table keeps within Slack's table: 100 rows with the header,
// the people left out counted above it; every cell filled.
func TestTrainingTableWithinSlacksLimits(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var team []store.TrainingStatus
	for i := range 150 {
		s := store.TrainingStatus{User: fmt.Sprintf("U%09d", i), State: store.TrainingOverdue}
		if i%2 == 0 {
			s.State, s.Last, s.Course, s.Source, s.Expires = store.TrainingCurrent, now.AddDate(0, -2, 0), "Secure Coding", "udemy", now.AddDate(0, 10, 0)
		}
		team = append(team, s)
	}
	blocks := trainingTable(team)
	if err := slacktest.CheckMessage("training", blocks); err != nil {
		t.Fatalf("Slack would refuse the table: %v", err)
	}
	tbl, ok := blocks[len(blocks)-1].(*slack.TableBlock)
	if !ok || len(tbl.Rows) != 100 || len(tbl.Rows[0]) != 5 {
		t.Fatalf("last block %T with %d rows", blocks[len(blocks)-1], len(tbl.Rows))
	}
	if ctx, ok := blocks[0].(*slack.ContextBlock); !ok || !strings.Contains(ctx.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "The first 99 of 150 people") {
		t.Fatalf("no count of the people left out above the table: %#v", blocks[0])
	}
	if got := trainingTable(team[:3]); len(got) != 1 {
		t.Fatalf("a small team: %d blocks, want the table alone", len(got))
	}
}
