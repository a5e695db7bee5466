package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// digestLines is how many new findings a client lists in the digest.
const digestLines = 10

// Digest is the weekly job that posts the findings routed to the digest
// (medium and below by default) to the security channel: per client what is
// new, still open and fixed this week, and the new ones by name.
func (s *Scans) Digest() Job { return findingsDigest{s} }

type findingsDigest struct{ s *Scans }

func (findingsDigest) Name() string { return "findings-digest" }

// Run posts the digest once per fire: its message is keyed by the fire's
// date, so a second run of the same fire updates it instead of posting again.
func (d findingsDigest) Run(ctx context.Context) error {
	s := d.s
	now, ok := FireTime(ctx)
	if !ok {
		now = s.o.Now()
	}
	ov, err := s.st.FindingsOf(ctx, s.order)
	if err != nil {
		return fmt.Errorf("findings digest: %w", err)
	}
	text, blocks := digestMessage(s, ov, now)
	raw, err := json.Marshal(blocks)
	if err != nil {
		return fmt.Errorf("findings digest: %w", err)
	}
	it, err := store.NewKeptMessage(store.KeptMessage{Key: "digest/" + now.UTC().Format("2006-01-02T15"), Channel: s.o.Channel,
		Text: text, Blocks: raw}, s.o.Now())
	if err != nil {
		return err
	}
	if err := s.st.Enqueue(ctx, s.o.Now(), it); err != nil {
		return fmt.Errorf("findings digest: %w", err)
	}
	if s.o.Nudge != nil {
		s.o.Nudge()
	}
	return nil
}

// digestMessage renders the week to now.
func digestMessage(s *Scans, ov store.FindingsOverview, now time.Time) (string, []slack.Block) {
	since := now.Add(-7 * 24 * time.Hour)
	title := "Weekly findings digest (findings not paged)"
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title)),
		slack.NewContextBlock("", md("The week to "+date(now)+". Medium and below by default; each client's `detectify.routing` decides."))}
	total := 0
	for i, key := range s.order {
		if len(blocks) >= 48 {
			blocks = append(blocks, slack.NewContextBlock("", md(fmt.Sprintf("… and %d more clients.", len(s.order)-i))))
			break
		}
		cl := s.clients[key]
		var fresh []store.Finding
		var open, fixed, quiet int
		for _, f := range ov.Findings[key] {
			if cl.route(f.Severity) != routeDigest {
				continue
			}
			acc, accepted := ov.Acceptances[key][f.ID]
			switch {
			case f.State.Open() && (f.AcceptedAtVendor() || accepted && acc.Active(now)):
				quiet++
			case f.State.Open():
				open++
				if !f.FirstSeen.Before(since) || !f.ReopenedAt.Before(since) {
					fresh = append(fresh, f)
				}
			case !f.FixedAt.Before(since):
				fixed++
			}
		}
		total += open
		line := fmt.Sprintf("*%s*: %d new, %d open, %d fixed this week", escape(cl.Name), len(fresh), open, fixed)
		if quiet > 0 {
			line += fmt.Sprintf(", %d accepted", quiet)
		}
		sortFindings(fresh)
		for j, f := range fresh {
			if j == digestLines {
				line += fmt.Sprintf("\n… and %d more new: `/ops findings %s --all`", len(fresh)-j, key)
				break
			}
			line += fmt.Sprintf("\n• %s · %s — %s · `%s`", severityWord(f.Severity), escape(truncate(f.Title, 120)),
				escape(truncate(orDash(f.Host), 80)), escape(shortID(f.ID)))
		}
		blocks = append(blocks, slack.NewSectionBlock(md(truncate(line, 2900)), nil, nil))
	}
	if len(s.order) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(md("No client has Detectify scans."), nil, nil))
	}
	return fmt.Sprintf("%s: %d open across %d clients", title, total, len(s.order)), blocks
}

// shortID is how a finding is named to people (unique prefixes work in
// /ops findings accept).
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return strings.ToLower(id)
}
