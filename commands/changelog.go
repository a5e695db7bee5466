package commands

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
	"github.com/slack-go/slack"
)

// ChangeLogReader reads the change log, one month at a time.
// *store.Store satisfies it.
type ChangeLogReader interface {
	ChangeLog(ctx context.Context, month string) ([]store.ChangeLogEntry, error)
}

// Uploader delivers files (the Slack transport with files upload v2, the
// console by writing them to disk). Both return the file's ID (Slack) or
// path (console).
type Uploader interface {
	// Upload shares a file in a channel, for everyone in it.
	Upload(ctx context.Context, channel, filename, title string, content []byte) (string, error)
	// UploadDM sends a file to one person, in their direct messages with the bot.
	UploadDM(ctx context.Context, userID, filename, title string, content []byte) (string, error)
}

const (
	changelogExample       = "/ops changelog 2026-11"
	changelogExportExample = "/ops changelog export 2026-11"
	monthLayout            = "2006-01"
	maxChangelogReason     = 200 // characters of a reason shown in a list line
)

var (
	errNoChangeLog = Reply{Text: ":warning: The change log is not configured on this opsbot (no change log store is wired), so there is nothing to show yet. Ask an admin to set it up."}
	errNoUploads   = Reply{Text: ":warning: File uploads are not configured on this opsbot, so I can't export the change log. `/ops changelog` still lists it."}
)

// outcomeOrder is the order outcomes are counted and shown in.
var outcomeOrder = []string{"done", "rolled back", "rejected", "cancelled"}

// outcomeWord is an outcome with its emoji (never colour alone, UX.md).
func outcomeWord(o string) string {
	switch o {
	case "done":
		return "✅ *done*"
	case "rolled back":
		return "↩️ *rolled back*"
	case "rejected":
		return "❌ *rejected*"
	case "cancelled":
		return "🚫 *cancelled*"
	}
	return "❔ *" + Escape(o) + "*"
}

// runChangelog is `changelog [YYYY-MM]` and `changelog export [YYYY-MM] [--here]`.
func runChangelog(ctx context.Context, c *Call) (Reply, error) {
	args, here := takeHere(c.Args)
	export := len(args) > 0 && strings.EqualFold(args[0], "export")
	example := changelogExample
	if here && !export {
		return Reply{}, userErrorf(changelogExportExample+" "+hereFlag, "`%s` shares the exported file in this channel; it goes with `export`.", hereFlag)
	}
	if export {
		args, example = args[1:], changelogExportExample
		if err := c.Require(store.PermChangelogExport, "export the change log"); err != nil {
			return Reply{}, err
		}
	}
	if c.r.deps.ChangeLog == nil {
		return errNoChangeLog, nil
	}
	if export && c.r.deps.Files == nil {
		return errNoUploads, nil
	}
	month, err := changelogMonth(args, c.Now, example)
	if err != nil {
		return Reply{}, err
	}
	entries, err := c.r.deps.ChangeLog.ChangeLog(ctx, month.Format(monthLayout))
	if err != nil {
		return Reply{}, err
	}
	if export {
		return exportChangelog(ctx, c, month, entries, here)
	}
	return listChangelog(c, month, entries), nil
}

// changelogMonth reads the optional YYYY-MM argument; the default is the
// current month (UTC) of now.
func changelogMonth(args []string, now time.Time, example string) (time.Time, error) {
	switch len(args) {
	case 0:
		t := now.UTC()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	case 1:
		t, err := time.Parse(monthLayout, args[0])
		if err != nil || t.Format(monthLayout) != args[0] || t.Year() < 2000 {
			return time.Time{}, userErrorf(example, "%q is not a month I can read: write it as YYYY-MM, e.g. `2026-11`.", Escape(truncate(args[0], 30)))
		}
		return t, nil
	}
	return time.Time{}, userErrorf(example, "Give at most one month (YYYY-MM), after `export` to download it.")
}

func monthName(m time.Time) string { return m.Format("January 2006") }

// listChangelog shows a summary, then one line per entry, paginated within
// Slack's limits.
func listChangelog(c *Call, month time.Time, entries []store.ChangeLogEntry) Reply {
	title := "Change log — " + monthName(month)
	if len(entries) == 0 {
		return Reply{Text: fmt.Sprintf("No change requests finished in %s.", monthName(month))}
	}
	summary := changelogSummary(entries)
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		lines = append(lines, changelogLine(c, e))
	}
	blocks := []slack.Block{header(title), slack.NewSectionBlock(mrkdwn(summary), nil, nil)}
	body, used := packLines(lines, maxBlocks-len(blocks)-1)
	blocks = append(blocks, body...)
	if used < len(lines) {
		more := fmt.Sprintf("… and %d more.", len(lines)-used)
		if c.Principal.Can(store.PermChangelogExport) {
			more += fmt.Sprintf(" `/ops changelog export %s` has every entry.", month.Format(monthLayout))
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(more)))
	}
	return Reply{Text: title + "\n" + summary, Blocks: blocks}
}

// changelogSummary is "4 changes: 2 done, 1 rolled back, 1 rejected · net
// +$180.00/month"; the net counts only changes that were done (the others
// left the cost as it was).
func changelogSummary(entries []store.ChangeLogEntry) string {
	counts := map[string]int{}
	var net store.Money
	for _, e := range entries {
		counts[e.Outcome]++
		if e.Outcome == "done" {
			net += e.ProposedMonthly - e.CurrentMonthly
		}
	}
	var parts []string
	for _, o := range outcomeOrder {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
			delete(counts, o)
		}
	}
	if len(counts) > 0 {
		other := 0
		for _, n := range counts {
			other += n
		}
		parts = append(parts, fmt.Sprintf("%d other", other))
	}
	noun := "changes"
	if len(entries) == 1 {
		noun = "change"
	}
	return fmt.Sprintf("%d %s: %s · net %s/month", len(entries), noun, strings.Join(parts, ", "), signedMoney(net))
}

// signedMoney is "+$180.00", "−$40.00" (the minus of FormatDelta) or "$0.00".
func signedMoney(m store.Money) string {
	switch {
	case m > 0:
		return "+" + m.String()
	case m < 0:
		return "−" + strings.TrimPrefix(m.String(), "-")
	}
	return m.String()
}

// changelogLine is one entry: ID, client, title, outcome, delta, approvers, end.
func changelogLine(c *Call, e store.ChangeLogEntry) string {
	delta := "no proposal"
	if e.Proposer != "" || e.Delta != "" {
		delta = store.FormatDelta(e.CurrentMonthly, e.ProposedMonthly)
	}
	parts := []string{
		"`" + Escape(e.ID) + "`", c.clientName(e.Client), Escape(e.Title), outcomeWord(e.Outcome), delta,
	}
	if len(e.Approvers) > 0 {
		names := make([]string, len(e.Approvers))
		for i, a := range e.Approvers {
			names[i] = personRef(a.By) + " (" + Escape(a.Role) + ")"
		}
		parts = append(parts, "approved by "+strings.Join(names, ", "))
	}
	if e.RejectedBy != "" {
		parts = append(parts, "rejected by "+personRef(e.RejectedBy))
	}
	if e.Reason != "" {
		parts = append(parts, "_"+Escape(truncate(e.Reason, maxChangelogReason))+"_")
	}
	parts = append(parts, "finished "+slackDate(e.FinishedAt))
	return strings.Join(parts, " · ")
}

// personRef mentions a Slack user ID and shows anything else as text.
func personRef(id string) string {
	if slackUserID.MatchString(id) {
		return mention(id)
	}
	return Escape(id)
}

// exportChangelog sends the month's entries as CSV to the person who asked
// (with here, shares them in the channel when it is one of the team's).
func exportChangelog(ctx context.Context, c *Call, month time.Time, entries []store.ChangeLogEntry, here bool) (Reply, error) {
	if len(entries) == 0 {
		return Reply{Text: fmt.Sprintf("No change requests finished in %s, so there is nothing to export.", monthName(month))}, nil
	}
	data, err := changelogCSV(entries)
	if err != nil {
		return Reply{}, err
	}
	noun := "entries"
	if len(entries) == 1 {
		noun = "entry"
	}
	line, err := c.sendFile(ctx, privateFile{name: "changelog-" + month.Format(monthLayout) + ".csv", title: "Change log — " + monthName(month),
		content: data, noun: fmt.Sprintf("The change log for %s (%d %s)", monthName(month), len(entries), noun), here: here,
		channelExplains: "one of the team's channels"})
	if err != nil {
		ref := newRef()
		c.r.log.Error("change log export: upload failed", "ref", ref, "month", month.Format(monthLayout), "user_id", c.User.ID, "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not upload the change log for %s (ref %s). Try again in a minute; if it keeps happening, tell the support team.", monthName(month), ref)}, nil
	}
	return Reply{Text: line}, nil
}

// changelogColumns are the CSV header: one column per ChangeLogEntry field.
var changelogColumns = []string{
	"stream_id", "id", "client", "title", "issue", "requester", "proposer", "approvers",
	"rejected_by", "magnitude", "current_monthly_usd", "proposed_monthly_usd", "delta_monthly_usd",
	"plan", "requested_at", "proposed_at", "approved_at", "window_start", "window_end",
	"cut_over_at", "finished_at", "outcome", "reason",
}

// changelogCSV renders entries as CSV: dates RFC 3339 in UTC, money as
// decimal dollars ("120.00"), approvers joined. Text cells are guarded
// against formula injection.
func changelogCSV(entries []store.ChangeLogEntry) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(changelogColumns); err != nil {
		return nil, err
	}
	for _, e := range entries {
		delta := ""
		if e.Proposer != "" || e.Delta != "" {
			delta = dollars(e.ProposedMonthly - e.CurrentMonthly)
		}
		row := []string{
			csvText(e.StreamID), csvText(e.ID), csvText(e.Client), csvText(e.Title), csvText(e.Issue),
			csvText(e.Requester), csvText(e.Proposer), csvText(e.ApproverNames()), csvText(e.RejectedBy),
			csvText(string(e.Magnitude)), dollars(e.CurrentMonthly), dollars(e.ProposedMonthly), delta,
			csvText(e.Plan), csvTime(e.RequestedAt), csvTime(e.ProposedAt), csvTime(e.ApprovedAt),
			csvTime(e.WindowStart), csvTime(e.WindowEnd), csvTime(e.CutOverAt), csvTime(e.FinishedAt),
			csvText(e.Outcome), csvText(e.Reason),
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("change log csv: %w", err)
	}
	return buf.Bytes(), nil
}

// csvText keeps a spreadsheet from reading text as a formula (CSV
// injection): a cell starting with = + - @ (or a tab or carriage return) is
// prefixed with a single quote. Numbers opsbot formats itself are not text.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// dollars is m as decimal dollars without a currency sign: "120.00", "-40.00".
func dollars(m store.Money) string {
	sign, u := "", uint64(m)
	if m < 0 {
		sign, u = "-", uint64(-m) // -MinInt64 wraps to itself, which is right as uint64
	}
	return sign + strconv.FormatUint(u/100, 10) + "." + fmt.Sprintf("%02d", u%100)
}
