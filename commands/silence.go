package commands

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/383project/opsbot/store"
)

// SilenceStore is the part of the state store the silence verbs use.
// *store.Store satisfies it.
type SilenceStore interface {
	AddSilence(ctx context.Context, sil store.Silence) (store.Silence, error)
	RemoveSilence(ctx context.Context, id, by string, now time.Time) (store.Silence, error)
	Silences(ctx context.Context, now time.Time) ([]store.Silence, error)
}

const (
	silenceExample   = "/ops silence acme 2h deploying the new cluster"
	unsilenceExample = "/ops unsilence s-abc123"
	maxReasonLen     = 500
)

// siteName is a site as typed after "client/" (lower-cased first). Sites are
// not checked against config yet; they arrive with the uptime checks.
var siteName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

var errNoSilences = Reply{Text: ":warning: Silences are not available on this opsbot yet (no silence store is configured). Nothing was changed."}

// runSilence is `silence <client or client/site> <duration> <reason...>`.
func runSilence(ctx context.Context, c *Call) (Reply, error) {
	silences := c.r.deps.Silences
	if silences == nil {
		return errNoSilences, nil
	}
	if len(c.Args) == 0 {
		return Reply{}, userErrorf(silenceExample, "Say what to silence (a client, or client/site), for how long and why.")
	}
	clientWord, site, hasSite := strings.Cut(c.Args[0], "/")
	if clientWord == "" {
		return Reply{}, userErrorf(silenceExample, "Start with the client to silence, e.g. `acme` or `acme/www`.")
	}
	client, err := c.resolveClient(clientWord, silenceExample)
	if err != nil {
		return Reply{}, err
	}
	if hasSite {
		site = strings.ToLower(site)
		if !siteName.MatchString(site) {
			return Reply{}, userErrorf("/ops silence acme/www 30m restarting the web server",
				"%q is not a site name: use lower-case letters, digits, `.`, `_` and `-` (up to 63, starting with a letter or digit).", Escape(truncate(site, 70)))
		}
		if err := c.requireKnownSite(ctx, client, site); err != nil {
			return Reply{}, err
		}
	}
	if len(c.Args) < 2 {
		return Reply{}, userErrorf(silenceExample, "Say for how long: `30m`, `2h` or `1d` (at most 30 days), then why.")
	}
	d, err := ParseDuration(c.Args[1])
	if err != nil {
		return Reply{}, userErrorf(silenceExample, "%q is not a duration I can use: %s.", Escape(truncate(c.Args[1], 30)), err)
	}
	reason := strings.TrimSpace(strings.Join(c.Args[2:], " "))
	if reason == "" {
		return Reply{}, userErrorf(silenceExample, "Say why, after the duration, so the team knows why the alerts are quiet.")
	}
	if n := len([]rune(reason)); n > maxReasonLen {
		return Reply{}, userErrorf(silenceExample, "That reason is %d characters long; keep it to %d.", n, maxReasonLen)
	}
	sil, err := silences.AddSilence(ctx, store.Silence{Client: client, Site: site, Reason: reason,
		CreatedBy: c.User.ID, Start: c.Now, End: c.Now.Add(d)})
	if err != nil {
		if storeTrouble(err) {
			return Reply{}, err
		}
		ref := newRef()
		c.r.log.Error("silence refused: not stored with its audit entry", "ref", ref, "client", client, "site", site, "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not store the silence together with its audit entry, so nothing was silenced (ref %s). Tell the support team.", ref)}, nil
	}
	text := fmt.Sprintf("⏸️ Silenced *%s* for %s (until %s): %s. ID `%s` — `/ops unsilence %s` ends it.",
		silenceTarget(sil), formatDuration(d), slackDate(sil.End), Escape(sil.Reason), sil.ID, sil.ID)
	return Reply{Text: text}, nil
}

// runSilences lists the active silences, the soonest to end first.
func runSilences(ctx context.Context, c *Call) (Reply, error) {
	silences := c.r.deps.Silences
	if silences == nil {
		return errNoSilences, nil
	}
	if len(c.Args) > 0 {
		return Reply{}, userErrorf("/ops silences", "`/ops silences` takes no arguments; it lists every active silence.")
	}
	all, err := silences.Silences(ctx, c.Now)
	if err != nil {
		return Reply{}, err
	}
	if len(all) == 0 {
		return Reply{Text: "No active silences."}, nil
	}
	lines := make([]string, 0, len(all))
	for _, sil := range all {
		lines = append(lines, fmt.Sprintf("⏸️ *%s* until %s (%s left) · by %s · %s · `%s`",
			silenceTarget(sil), slackDate(sil.End), formatDuration(sil.End.Sub(c.Now)), mention(sil.CreatedBy), Escape(sil.Reason), sil.ID))
	}
	title := fmt.Sprintf("Active silences (%d)", len(all))
	return listReply(title, lines), nil
}

// runUnsilence ends a silence now.
func runUnsilence(ctx context.Context, c *Call) (Reply, error) {
	silences := c.r.deps.Silences
	if silences == nil {
		return errNoSilences, nil
	}
	if len(c.Args) != 1 {
		return Reply{}, userErrorf(unsilenceExample, "Name the one silence to end by its ID; `/ops silences` lists them.")
	}
	id := strings.ToLower(c.Args[0])
	sil, err := silences.RemoveSilence(ctx, id, c.User.ID, c.Now)
	switch {
	case errors.Is(err, store.ErrSilenceNotFound):
		return Reply{}, userErrorf("/ops silences", "There is no active silence %q; it may have ended already. `/ops silences` lists the active ones.", Escape(truncate(c.Args[0], 30)))
	case storeTrouble(err):
		return Reply{}, err
	case err != nil:
		ref := newRef()
		c.r.log.Error("unsilence refused: audit entry not written", "ref", ref, "id", id, "err", err)
		return Reply{Text: fmt.Sprintf(":x: I could not write the audit entry, so the silence was not ended (ref %s). Tell the support team.", ref)}, nil
	}
	return Reply{Text: fmt.Sprintf("▶️ Ended silence `%s` on *%s* (%s): alerts are live again. Recorded in the audit log.",
		sil.ID, silenceTarget(sil), Escape(sil.Reason))}, nil
}

// silenceTarget is the client key, or client/site, for display.
func silenceTarget(sil store.Silence) string { return Escape(sil.Target()) }

// requireKnownSite refuses a site the client does not have, listing the ones
// it has, when uptime monitoring is configured (the sites are known).
func (c *Call) requireKnownSite(ctx context.Context, client, site string) error {
	if c.r.deps.Sites == nil {
		return nil
	}
	statuses, err := c.r.deps.Sites.SiteStatuses(ctx)
	if err != nil {
		return err
	}
	var known []string
	for _, st := range statuses {
		if st.Client != client {
			continue
		}
		if st.Site == site {
			return nil
		}
		known = append(known, st.Site)
	}
	if len(known) == 0 {
		return userErrorf("/ops silence "+client+" 2h deploying", "%s has no monitored sites; silence the whole client instead.", c.clientName(client))
	}
	return userErrorf("/ops silence "+client+"/"+known[0]+" 30m restarting the web server",
		"%s has no site %q. Its sites: %s.", c.clientName(client), Escape(site), strings.Join(known, ", "))
}
