package commands

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// bigSection is a section of n long lines with buttons and a hint.
func bigSection(name string, n, buttons int) homeSection {
	s := homeSection{title: name, more: "`/ops " + name + "`", hint: "`/ops " + name + "` lists them all"}
	for i := range n {
		s.lines = append(s.lines, fmt.Sprintf("%s line %d %s", name, i, strings.Repeat("x", 900)))
	}
	for i := range buttons {
		s.blocks = append(s.blocks, slack.NewActionBlock(fmt.Sprintf("%s_%d", name, i),
			slack.NewButtonBlockElement("a", "v", plain("Act"))))
	}
	return s
}

// A section never takes more than its budget, however short: its lines
// first, then its hint, then its buttons.
func TestHomeSectionRenderWithinBudget(t *testing.T) {
	for budget := homeSectionMin; budget <= homeSectionBlocks; budget++ {
		for _, s := range []homeSection{bigSection("findings", 40, 5), bigSection("shield", 1, 5), bigSection("training", 2, 0)} {
			got := s.render(budget)
			if len(got) > budget {
				t.Errorf("%s in %d blocks took %d", s.title, budget, len(got))
			}
			raw, _ := json.Marshal(got)
			if !strings.Contains(string(raw), s.title+" line 0") {
				t.Errorf("%s in %d blocks lost its first line", s.title, budget)
			}
		}
	}
}

// A Home fuller than Slack's 100 blocks stops within them and names the
// verbs of the sections it could not show.
func TestHomeLayoutWithin100Blocks(t *testing.T) {
	head := []slack.Block{header("Home"), slack.NewContextBlock("", mrkdwn("updated"))}
	var sections []homeSection
	for _, name := range []string{"status", "servers", "changes", "silences", "findings", "shield", "training", "checklist"} {
		sections = append(sections, bigSection(name, 40, 3))
	}
	got := layoutHome(head, sections)
	if len(got) > maxHomeBlocks {
		t.Fatalf("%d blocks; a Home view holds %d", len(got), maxHomeBlocks)
	}
	last, _ := json.Marshal(got[len(got)-1])
	if !strings.Contains(string(last), "More than Home can show") || !strings.Contains(string(last), "`/ops checklist`") ||
		strings.Contains(string(last), "`/ops status`") {
		t.Fatalf("last block: %s", last)
	}
}
