package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// Attested items that need evidence open a form when ticked, validated at
// submission: the pentest's Zoonu report (reference and date), and the
// hosting quote's re-review, which shows the quote and opsbot's measured
// forecast for the person to confirm (figures measured, never typed).
const (
	callbackChecklistEvidence = "checklist.evidence"
	blockPentestRef           = "cl_pentest_ref"
	blockPentestDate          = "cl_pentest_date"
	blockQuoteConfirm         = "cl_quote_confirm"
	blockEvidenceNote         = "cl_note"

	// PentestMaxAge is how old a pentest report may be. The creation policy
	// names Zoonu for pentests but no age; a report older than a year says
	// little of the site being launched (PCI DSS asks for a yearly one).
	PentestMaxAge = 365 * 24 * time.Hour
)

// evidenceItems are the item keys whose Tick opens an evidence form.
var evidenceItems = []string{"pentest", "quote"}

var rePentestRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._/#-]{0,79}$`)

// ParsePentestEvidence checks a pentest report's reference and date (as the
// date picker sends it, YYYY-MM-DD) at now: errors are keyed by the form's
// blocks; otherwise the evidence in words.
func ParsePentestEvidence(ref, date string, now time.Time) (string, map[string]string) {
	errs := map[string]string{}
	ref = strings.TrimSpace(ref)
	if !rePentestRef.MatchString(ref) {
		errs[blockPentestRef] = "Type the report's reference as Zoonu gave it, e.g. ZN-2026-0142 (letters, digits, spaces and - _ . / #, up to 80)."
	}
	d, err := time.Parse(time.DateOnly, date)
	// The date is a calendar day wherever the person is: a day ahead of
	// UTC (Pacific time zones) is today for someone.
	today := now.UTC().Add(14 * time.Hour).Truncate(24 * time.Hour)
	switch {
	case err != nil:
		errs[blockPentestDate] = "Pick the date on the report (e.g. " + now.UTC().AddDate(0, 0, -7).Format(time.DateOnly) + ")."
	case d.After(today):
		errs[blockPentestDate] = "The report is dated " + date + ", in the future: pick the date on the report."
	case now.Sub(d) > PentestMaxAge+24*time.Hour:
		errs[blockPentestDate] = fmt.Sprintf("The report is from %s, more than %d days ago: an older pentest does not count. Ask Zoonu for a new one, or ask a waiver.",
			date, int(PentestMaxAge.Hours()/24))
	}
	if len(errs) > 0 {
		return "", errs
	}
	return "Zoonu report " + ref + " dated " + date, nil
}

// checklistEvidenceForm opens the form of an item that needs evidence,
// once the tick would be allowed (role, state): a refusal comes at once.
func (c *Call) checklistEvidenceForm(ctx context.Context, cl store.Checklist, key string) (Reply, error) {
	probe := cl
	probe.Items = slices.Clone(cl.Items)
	if err := probe.Attest(key, c.Principal, "", c.Now); err != nil {
		return Reply{}, checklistError(err)
	}
	it, _ := cl.Item(key)
	head := slack.NewContextBlock("", mrkdwn("*"+cl.ID+"* · "+c.clientName(cl.Client)+" · "+Escape(it.Title)))
	note := input(blockEvidenceNote, "Note (optional)", "", "", "Kept with the tick in the thread and the audit log", true, true, 1000)
	if key == "pentest" {
		date := slack.NewDatePickerBlockElement(elemValue)
		return Reply{Modal: modal(callbackChecklistEvidence, "Pentest done", "Tick", cl.ID+"|"+key, head,
			input(blockPentestRef, "Zoonu report reference", "", "ZN-2026-0142", "As on the report Zoonu sent", false, false, 80),
			slack.NewInputBlock(blockPentestDate, plain("Report date"), plain(fmt.Sprintf("Not in the future, at most %d days ago", int(PentestMaxAge.Hours()/24))), date),
			note)}, nil
	}
	q, m, err := c.quoteFigures(ctx, cl.Client)
	if err != nil {
		return Reply{}, err
	}
	figures := fmt.Sprintf("*Hosting quote:* %s a month\n*Forecast this month:* %s, measured by opsbot from Cost Explorer %s: %s against the quote",
		q, m.Monthly, slackDate(m.At), store.FormatDelta(q, m.Monthly))
	confirm := slack.NewCheckboxGroupsBlockElement(elemValue,
		slack.NewOptionBlockObject("reviewed", plain("I re-reviewed the quote against the forecast"), nil))
	return Reply{Modal: modal(callbackChecklistEvidence, "Hosting quote", "Tick", cl.ID+"|"+key, head,
		slack.NewSectionBlock(mrkdwn(figures), nil, nil),
		slack.NewInputBlock(blockQuoteConfirm, plain("Confirm"), plain("The infrastructure suggested still meets the project's requirements"), confirm),
		note)}, nil
}

// quoteFigures are the client's hosting quote and opsbot's own forecast;
// a user error when either is missing.
func (c *Call) quoteFigures(ctx context.Context, client string) (store.Money, store.CostMeasure, error) {
	quote := c.r.deps.CostQuotes[client]
	if quote <= 0 {
		return 0, store.CostMeasure{}, userErrorf("", "%s has no hosting_quote in opsbot's configuration: add it, so the quote can be re-reviewed against the forecast.", c.clientName(client))
	}
	m, err := c.measuredCost(ctx, client)
	if err != nil {
		return 0, store.CostMeasure{}, err
	}
	if m == nil {
		return 0, store.CostMeasure{}, userErrorf("/ops cost "+client+" --refresh", "opsbot has no measured cost forecast for %s yet: measure one, then press Tick again.", c.clientName(client))
	}
	return store.Money(math.Round(quote * 100)), *m, nil
}

// submitChecklistEvidence validates the evidence and ticks the item; the
// figures of a quote are measured again now, whatever the form showed.
func submitChecklistEvidence(ctx context.Context, c *Call, s Submission) (SubmitResult, error) {
	id, key, _ := strings.Cut(s.PrivateMetadata, "|")
	if !slices.Contains(evidenceItems, key) {
		return SubmitResult{}, userErrorf("/ops checklist", "That form does not name an item to tick. Run `/ops checklist show %s` for a fresh message.", Escape(truncate(id, 20)))
	}
	cl, _, err := c.checklistTarget(ctx, id+"|"+key)
	if err != nil {
		return SubmitResult{}, err
	}
	var evidence string
	if key == "pentest" {
		var errs map[string]string
		evidence, errs = ParsePentestEvidence(value(s, blockPentestRef), s.Values[blockPentestDate][elemValue].SelectedDate, c.Now)
		if len(errs) > 0 {
			return SubmitResult{Errors: errs}, nil
		}
	} else {
		if len(s.Values[blockQuoteConfirm][elemValue].SelectedOptions) == 0 {
			return SubmitResult{Errors: map[string]string{blockQuoteConfirm: "Tick the box once you have re-reviewed the quote against the forecast."}}, nil
		}
		q, m, err := c.quoteFigures(ctx, cl.Client)
		var ue *UserError
		if errors.As(err, &ue) {
			return SubmitResult{Errors: map[string]string{blockQuoteConfirm: ue.Msg}}, nil
		}
		if err != nil {
			return SubmitResult{}, err
		}
		evidence = fmt.Sprintf("quote %s a month re-reviewed against the forecast %s measured %s (%s)",
			q, m.Monthly, m.At.UTC().Format("2006-01-02 15:04 MST"), store.FormatDelta(q, m.Monthly))
	}
	if n := strings.TrimSpace(value(s, blockEvidenceNote)); n != "" {
		evidence += " — " + n
	}
	cl, err = c.updateChecklist(ctx, id, func(cl *store.Checklist) error { return cl.Attest(key, c.Principal, evidence, c.Now) })
	var ue *UserError
	if errors.As(err, &ue) {
		block := blockPentestRef
		if key != "pentest" {
			block = blockQuoteConfirm
		}
		return SubmitResult{Errors: map[string]string{block: ue.Msg}}, nil
	}
	if err != nil {
		return SubmitResult{}, err
	}
	it, _ := cl.Item(key)
	return notice(Reply{Text: "✅ " + Escape(it.Title) + " ticked on " + cl.ID + " with its evidence; the checklist's message shows it."}), nil
}
