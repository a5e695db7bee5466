package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

func escape(s string) string { return chat.Escape(s) }

// message is the run's one message as it reads now, as the outbox item that
// posts it the first time and updates it in place afterwards.
func (s *Scans) message(cl ScanClient, r store.ScanRun, now time.Time) (store.OutboxItem, error) {
	text, blocks := scanMessage(cl, r, now)
	raw, err := json.Marshal(blocks)
	if err != nil {
		return store.OutboxItem{}, fmt.Errorf("scan message blocks: %w", err)
	}
	return store.NewKeptMessage(store.KeptMessage{Key: r.MessageKey(), Channel: r.Channel, Text: text, Blocks: raw}, now)
}

// scanMessage renders a scan: its state as an emoji and a word, who started
// it, each profile's progress, and at the end what it found.
func scanMessage(cl ScanClient, r store.ScanRun, now time.Time) (string, []slack.Block) {
	name := escape(cl.Name)
	var head string
	switch {
	case r.Status == store.ScanDone:
		head = fmt.Sprintf(":large_green_circle: Detectify scan of *%s* finished", name)
	case r.Status == store.ScanFailed:
		head = fmt.Sprintf(":red_circle: Detectify scan of *%s* failed", name)
	default:
		head = fmt.Sprintf(":hourglass_flowing_sand: Detectify scan of *%s* running", name)
	}
	who := "the schedule"
	if r.By != "" {
		who = "<@" + r.By + ">"
	}
	ctx := fmt.Sprintf("Started by %s %s", who, date(r.Started))
	switch {
	case !r.Ended.IsZero():
		ctx += fmt.Sprintf(" · took %s", human(r.Ended.Sub(r.Started)))
	default:
		ctx += fmt.Sprintf(" · running for %s", human(now.Sub(r.Started)))
	}
	blocks := []slack.Block{slack.NewSectionBlock(md(head), nil, nil), slack.NewContextBlock("", md(ctx))}
	lines := make([]string, 0, len(r.Profiles))
	for _, p := range r.Profiles {
		lines = append(lines, profileLine(p))
	}
	blocks = append(blocks, slack.NewSectionBlock(md(truncate(strings.Join(lines, "\n"), 2900)), nil, nil))
	if r.Summary != nil {
		blocks = append(blocks, slack.NewSectionBlock(md(summaryLine(*r.Summary)), nil, nil))
	}
	if r.Error != "" {
		blocks = append(blocks, slack.NewContextBlock("", md(":warning: "+escape(truncate(r.Error, 500)))))
	}
	fallback := fmt.Sprintf("Detectify scan of %s: %s", escape(cl.Name), r.Status)
	if r.Summary != nil {
		fallback += " — " + summaryText(*r.Summary)
	}
	return fallback, blocks
}

// profileLine is one profile's progress: "⏳ shop.acme.example — scanning (running)".
func profileLine(p store.ScanProfileRun) string {
	name := escape(firstNonEmpty(p.Endpoint, p.Name, p.Token))
	var line string
	switch {
	case !p.Done && p.Phase == "" && p.State == "":
		line = ":hourglass_flowing_sand: " + name + " — started, waiting for Detectify"
	case !p.Done:
		line = ":hourglass_flowing_sand: " + name + " — " + escape(firstNonEmpty(p.Phase, p.State))
		if p.State != "" && p.Phase != "" && p.State != p.Phase {
			line += " (" + escape(p.State) + ")"
		}
	case p.Outcome == "completed":
		line = ":white_check_mark: " + name + " — completed"
	default:
		line = ":warning: " + name + " — " + escape(firstNonEmpty(p.Outcome, "ended")) + " (findings it no longer lists are not taken as fixed)"
	}
	if p.Note != "" {
		line += " · " + escape(p.Note)
	}
	return line
}

// summaryLine is what the scan found: new, reopened, still open, fixed, and
// the open findings by severity.
func summaryLine(s store.FindingSummary) string {
	line := fmt.Sprintf("*New* %d · *Reopened* %d · *Still open* %d · *Fixed* %d", s.New, s.Reopened, s.StillOpen, s.Fixed)
	if open := openBySeverity(s.Open); open != "" {
		line += "\nOpen now: " + open
	}
	return line
}

func summaryText(s store.FindingSummary) string {
	return fmt.Sprintf("%d new, %d reopened, %d still open, %d fixed", s.New, s.Reopened, s.StillOpen, s.Fixed)
}

// openBySeverity is "1 critical, 3 high, 12 medium", worst first.
func openBySeverity(open map[string]int) string {
	sevs := make([]string, 0, len(open))
	for sev, n := range open {
		if n > 0 {
			sevs = append(sevs, sev)
		}
	}
	slices.SortFunc(sevs, func(a, b string) int { return severityRank(a) - severityRank(b) })
	parts := make([]string, len(sevs))
	for i, sev := range sevs {
		parts[i] = fmt.Sprintf("%d %s", open[sev], escape(sev))
	}
	return strings.Join(parts, ", ")
}

// refusalLines lists why each profile was refused.
func refusalLines(e *integrations.ScanRefusedError) string {
	toks := make([]string, 0, len(e.Reasons))
	for tok := range e.Reasons {
		toks = append(toks, tok)
	}
	slices.Sort(toks)
	lines := make([]string, len(toks))
	for i, tok := range toks {
		lines[i] = "• `" + escape(tok) + "`: " + escape(e.Reasons[tok])
	}
	return strings.Join(lines, "\n")
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
