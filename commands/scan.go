package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// ScanStarter starts a Detectify scan of a client's profiles and records it
// ((*jobs.Scans).Start): a run still going comes back with
// store.ErrScanRunExists, profiles all refused as *integrations.ScanRefusedError.
type ScanStarter interface {
	Start(ctx context.Context, client, by string) (store.ScanRun, error)
}

var errNoScans = Reply{Text: ":warning: Detectify scans are not configured on this opsbot. Ask an admin to set `DETECTIFY_API_KEY` and give the clients that pay for scans a `detectify:` block in opsbot.yaml."}

// runScan is `scan <client>`.
func runScan(ctx context.Context, c *Call) (Reply, error) {
	scans := c.r.deps.Scans
	if scans == nil {
		return errNoScans, nil
	}
	if len(c.Args) != 1 {
		return Reply{}, userErrorf(scanExample, "Name the one client to scan.")
	}
	visible := clientsFor[bool](c, store.PermScanRun, nil)
	client, err := c.pickClient(store.PermScanRun, c.Args[0], visible, "/ops scan")
	if err != nil {
		return Reply{}, err
	}
	if !c.r.deps.Detectify[client] {
		return Reply{}, userErrorf(scanExample, "%s does not pay for Detectify scans (no `detectify:` block in opsbot.yaml), so there is nothing to scan.", c.clientName(client))
	}
	where := channelRef(c.r.deps.SecurityChannel)
	run, err := scans.Start(ctx, client, c.User.ID)
	var refused *integrations.ScanRefusedError
	switch {
	case err == nil:
		n := len(run.Profiles)
		profiles := "profile"
		if n != 1 {
			profiles = "profiles"
		}
		notes := ""
		for _, p := range run.Profiles {
			if p.Done {
				notes += "\n• " + Escape(p.Endpoint+" "+p.Token) + ": " + Escape(p.Outcome)
			}
		}
		return Reply{Text: fmt.Sprintf("🔎 Started a Detectify scan of %s (%d %s). One message in %s shows its progress, then what it found.%s",
			c.clientName(client), n, profiles, where, notes)}, nil
	case errors.Is(err, store.ErrScanRunExists):
		by := "the schedule"
		if run.By != "" {
			by = mention(run.By)
		}
		return Reply{Text: fmt.Sprintf("⏳ A scan of %s is already running (started by %s %s); its message in %s shows its progress. Nothing new was started.",
			c.clientName(client), by, slackDate(run.Started), where)}, nil
	case errors.As(err, &refused):
		lines := make([]string, 0, len(refused.Reasons))
		for _, p := range sortedKeys(refused.Reasons) {
			lines = append(lines, "• `"+Escape(p)+"`: "+Escape(refused.Reasons[p]))
		}
		return Reply{}, userErrorf(scanExample, "Detectify would not scan %s, so nothing was started:\n%s", c.clientName(client), strings.Join(lines, "\n"))
	case errors.Is(err, integrations.ErrUnauthorized):
		ref := newRef()
		c.r.log.Error("scan refused: Detectify rejected the key", "ref", ref, "client", client, "err", err)
		return Reply{Text: fmt.Sprintf(":x: Detectify refused opsbot's API key, so nothing was started (ref %s). Ask an admin to check `DETECTIFY_API_KEY` (and `DETECTIFY_API_SECRET`).", ref)}, nil
	}
	if ok, _ := integrations.IsRetryable(err); ok {
		c.r.log.Warn("scan not started: Detectify unavailable", "client", client, "err", err)
		return Reply{Text: ":warning: Detectify is not answering right now, so nothing was started. Try again in a few minutes."}, nil
	}
	return Reply{}, err
}

// channelRef links a channel by ID, or names it.
func channelRef(ch string) string {
	switch {
	case ch == "":
		return "the security channel"
	case strings.HasPrefix(ch, "#"):
		return Escape(ch)
	}
	return "<#" + ch + ">"
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// scansLine is a client's Detectify line for /ops status: not paid for, no
// scan yet, or the open findings after its last scan.
func (c *Call) scansLine(ctx context.Context, client string) (string, error) {
	switch {
	case c.r.deps.Detectify == nil:
		return "", nil
	case !c.r.deps.Detectify[client]:
		return "🔎 Detectify: not paid for (no scans)", nil
	case c.r.deps.Findings == nil:
		return "🔎 Detectify: paid for, but scans are not configured on this opsbot (`DETECTIFY_API_KEY`)", nil
	}
	sums, err := c.r.deps.Findings.ScanSummaries(ctx, []string{client})
	if err != nil {
		return "", err
	}
	sum, ok := sums[client]
	if !ok {
		return "🔎 Detectify: no completed scan yet", nil
	}
	total := 0
	var parts []string
	for _, sev := range findingSeverities {
		if n := sum.Open[sev]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, sev))
		}
	}
	line := fmt.Sprintf("🔎 Detectify: %d open findings", total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line + " after the scan of " + slackDate(sum.At) + " · `/ops findings " + client + "`", nil
}
