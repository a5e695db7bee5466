package commands

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"

	"github.com/383project/opsbot/store"
)

const auditExportExample = "/ops audit export 2026-11"

// auditColumns are the CSV header: one column per AuditEntry field.
var auditColumns = []string{"stream_id", "at", "actor", "action", "object", "client", "role", "from", "to", "reason", "detail"}

// exportAudit uploads a month's audit entries as CSV to the caller's
// direct messages: the log is private to admins, whatever channel the
// command was typed in.
func exportAudit(ctx context.Context, c *Call, args []string) (Reply, error) {
	month, err := changelogMonth(args, c.Now, auditExportExample)
	if err != nil {
		return Reply{}, err
	}
	if c.r.deps.Files == nil {
		return Reply{Text: ":warning: File uploads are not configured on this opsbot, so I can't export the audit log. `/ops audit` still lists it."}, nil
	}
	entries, err := c.r.deps.Audit.AuditBetween(ctx, month, month.AddDate(0, 1, 0))
	if err != nil {
		return Reply{}, err
	}
	if len(entries) == 0 {
		return Reply{Text: fmt.Sprintf("No audit entries in %s, so there is nothing to export.", monthName(month))}, nil
	}
	data, err := auditCSV(entries)
	if err != nil {
		return Reply{}, err
	}
	filename := "audit-" + month.Format(monthLayout) + ".csv"
	if _, err := c.r.deps.Files.UploadDM(ctx, c.User.ID, filename, "Audit log — "+monthName(month), data); err != nil {
		ref := newRef()
		c.r.log.Error("audit export: upload failed", "ref", ref, "month", month.Format(monthLayout), "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not send the audit log for %s (ref %s). Try again in a minute; if it keeps happening, tell the support team.", monthName(month), ref)}, nil
	}
	return Reply{Text: fmt.Sprintf("Sent the audit log for %s (%d entries) to your direct messages as `%s`.", monthName(month), len(entries), filename)}, nil
}

// auditCSV renders entries as CSV, text cells guarded against formula
// injection, times RFC 3339 in UTC.
func auditCSV(entries []store.AuditEntry) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(auditColumns); err != nil {
		return nil, err
	}
	for _, e := range entries {
		row := []string{csvText(e.ID), csvTime(e.At), csvText(e.Actor), csvText(e.Action), csvText(e.Target), csvText(e.Client),
			csvText(e.Role), csvText(e.From), csvText(e.To), csvText(e.Reason), csvText(e.Detail)}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("audit csv: %w", err)
	}
	return buf.Bytes(), nil
}
