package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/chat"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// UptimeStore is what the uptime monitor records into.
type UptimeStore interface {
	RecordCheck(ctx context.Context, st store.SiteStatus) (changed bool, since time.Time, err error)
	// TouchSites stores checks that changed no state (see store.TouchSites).
	TouchSites(ctx context.Context, sts []store.SiteStatus) (missing []string, err error)
	// SiteStates reads back the state of site records (see store.SiteStates).
	SiteStates(ctx context.Context, keys []string) (map[string]string, error)
	// SwapFence stores a fence token and returns the previous one (see store.SwapFence).
	SwapFence(ctx context.Context, name, token string) (string, error)
	// Mutes are the silences and change windows in force at now.
	Mutes(ctx context.Context, now time.Time) ([]store.Silence, error)
	SetSourceStatus(ctx context.Context, st store.SourceStatus) error
	SyncSites(ctx context.Context, sites []store.SiteStatus, now time.Time) error
	EnqueueOnce(ctx context.Context, marker string, ttl time.Duration, now time.Time, items ...store.OutboxItem) (bool, error)
}

// CertWarnWithin is how close to expiry a site's TLS certificate is announced.
const CertWarnWithin = 14 * 24 * time.Hour

// StatusCakeSource lists StatusCake's uptime tests (integrations/statuscake satisfies it).
type StatusCakeSource interface {
	Uptime(ctx context.Context) ([]integrations.CheckResult, error)
}

// UptimeSite is one configured site. A site with a StatusCake test ID is
// watched by StatusCake; any other by opsbot's own probe.
type UptimeSite struct {
	Subject             // Key "uptime/<client>/<site>", channel, thresholds, PagerDuty
	Site         string // the site's name within its client
	StatusCakeID string // "" for own probes
	Interval     time.Duration
	SLATarget    float64 // percent
}

// Uptime turns checks from every source into recorded state (for status and
// the SLA) and alert observations.
type Uptime struct {
	sites        map[string]UptimeSite
	byStatusCake map[string]string // StatusCake test ID → site key
	alerter      *Alerter
	st           UptimeStore
	reasons      reasons // why down StatusCake tests fail
	steady       steadySites
	fence        probeFence // WriteBehind's alone
	log          *slog.Logger
	now          func() time.Time
}

// NewUptime builds the monitor for sites.
func NewUptime(sites []UptimeSite, al *Alerter, st UptimeStore, log *slog.Logger, now func() time.Time) *Uptime {
	u := &Uptime{sites: map[string]UptimeSite{}, byStatusCake: map[string]string{}, alerter: al, st: st,
		log: cmp.Or(log, slog.New(slog.DiscardHandler)), now: now}
	if u.now == nil {
		u.now = time.Now
	}
	for _, s := range sites {
		s.Subject.Site = cmp.Or(s.Subject.Site, s.Site)
		u.sites[s.Key] = s
		if s.StatusCakeID != "" {
			u.byStatusCake[s.StatusCakeID] = s.Key
		}
	}
	return u
}

// Sites returns the configured sites.
func (u *Uptime) Sites() []UptimeSite {
	out := make([]UptimeSite, 0, len(u.sites))
	for _, s := range u.sites {
		out = append(out, s)
	}
	return out
}

// Sync shows the configured sites in status at once ("not checked yet") and
// forgets sites no longer configured.
func (u *Uptime) Sync(ctx context.Context) error {
	sites := make([]store.SiteStatus, 0, len(u.sites))
	for _, s := range u.sites {
		source := "probe"
		if s.StatusCakeID != "" {
			source = "statuscake"
		}
		sites = append(sites, store.SiteStatus{Key: s.Key, Client: s.Client, Site: s.Site, URL: s.URL, Source: source})
	}
	if err := u.st.SyncSites(ctx, sites, u.now()); err != nil {
		return fmt.Errorf("jobs: uptime: sync sites: %w", err)
	}
	return nil
}

// ProbeTargets lists the sites opsbot probes itself, for the probe engine.
func (u *Uptime) ProbeTargets() []ProbeTarget {
	var ts []ProbeTarget
	for _, s := range u.sites {
		if s.StatusCakeID == "" {
			ts = append(ts, ProbeTarget{Key: s.Key, Interval: s.Interval})
		}
	}
	return ts
}

// Observe records one check of the site under key and feeds the alert.
// An unknown result (paused test, cancelled check) is recorded but does not
// move the alert either way.
func (u *Uptime) Observe(ctx context.Context, key string, res integrations.CheckResult) error {
	return u.observe(ctx, key, res, false)
}

// observe is Observe; sole says the caller is the probe engine, the only
// observer of its sites (under its lease): a check that changes no state
// then costs at most one command (see steadySites and ObserveSole).
func (u *Uptime) observe(ctx context.Context, key string, res integrations.CheckResult, sole bool) error {
	site, ok := u.sites[key]
	if !ok {
		return fmt.Errorf("jobs: uptime: unknown site %q", key)
	}
	at := res.CheckedAt
	if at.IsZero() {
		at = u.now()
	}
	st := store.SiteStatus{Key: key, Client: site.Client, Site: site.Site, URL: site.URL,
		Source: res.Source, State: string(res.State), LastChecked: at, ResponseTime: res.ResponseTime,
		Error: res.Error, CertExpiry: res.CertExpiry}
	if err := u.record(ctx, st, sole); err != nil {
		return fmt.Errorf("jobs: uptime: record %s: %w", key, err)
	}
	if err := u.warnCert(ctx, site, res.CertExpiry, at); err != nil {
		return err
	}
	if res.State == integrations.StateUnknown {
		return nil
	}
	up := res.State == integrations.StateUp
	silenced := false
	if !up { // a silence only matters to a failing check: healthy ones skip the read
		silences, err := u.st.Mutes(ctx, at)
		if err != nil {
			return fmt.Errorf("jobs: uptime: silences: %w", err)
		}
		for _, s := range silences {
			silenced = silenced || s.Matches(site.Client, site.Site, at)
		}
	}
	observe := u.alerter.Observe
	if sole {
		observe = u.alerter.ObserveSole
	}
	_, err := observe(ctx, site.Subject, up, res.Error, at, silenced)
	return err
}

// record stores a check: for the probe engine (sole), a site still up
// since its last full record only has its data refreshed (one command,
// maybe batched); anything else is recorded in full at once.
func (u *Uptime) record(ctx context.Context, st store.SiteStatus, sole bool) error {
	if sole && st.State == string(integrations.StateUp) && u.steady.unchanged(st.Key, st.State) {
		return u.refresh(ctx, st)
	}
	u.steady.drop(st.Key)
	if _, _, err := u.st.RecordCheck(ctx, st); err != nil {
		u.steady.forgetSite(st.Key)
		return err
	}
	u.steady.recorded(st)
	return nil
}

// OnProbe is the probe engine's result callback.
func (u *Uptime) OnProbe(key string, res integrations.CheckResult, _ time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.observe(ctx, key, res, true); err != nil {
		u.log.Warn("probe result not recorded", "site", key, "err", err)
	}
}

// StatusCakePoll is the scheduled job that reads every StatusCake test.
type StatusCakePoll struct {
	U      *Uptime
	Source StatusCakeSource
	Detail StatusCakeDetail // optional: the status code or error of down tests
}

// Name implements Job.
func (p StatusCakePoll) Name() string { return "statuscake" }

// Run fetches StatusCake's tests and observes the configured ones. When
// StatusCake fails (429, 401, down) the source is recorded as unavailable
// with the reason, so status says so; own probes are unaffected.
func (p StatusCakePoll) Run(ctx context.Context) error {
	now := p.U.now()
	results, err := p.Source.Uptime(ctx)
	if err != nil {
		reason := err.Error()
		if ok, after := integrations.IsRetryable(err); ok && after > 0 {
			reason = fmt.Sprintf("%s (retry in %s)", reason, after.Round(time.Second))
		}
		if serr := p.U.st.SetSourceStatus(ctx, store.SourceStatus{Source: "statuscake", OK: false, Reason: reason, At: now}); serr != nil {
			p.U.log.Warn("source status not recorded", "err", serr)
		}
		return fmt.Errorf("jobs: statuscake poll: %w", err)
	}
	if err := p.U.st.SetSourceStatus(ctx, store.SourceStatus{Source: "statuscake", OK: true, At: now}); err != nil {
		return fmt.Errorf("jobs: statuscake poll: %w", err)
	}
	var firstErr error
	for _, r := range results {
		key, ok := p.U.byStatusCake[r.ID]
		if !ok {
			continue
		}
		p.U.reasons.explain(ctx, p.Detail, &r, now)
		if err := p.U.Observe(ctx, key, r); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// warnCert posts one warning per certificate (site and expiry date) to the
// site's alert channel once it expires within CertWarnWithin.
func (u *Uptime) warnCert(ctx context.Context, site UptimeSite, notAfter, now time.Time) error {
	left := notAfter.Sub(now)
	if notAfter.IsZero() || left > CertWarnWithin {
		return nil
	}
	text := fmt.Sprintf(":lock: ⚠️ The TLS certificate of *%s* (%s) expires in %d days, on %s. Renew it before browsers refuse the site.",
		chat.Escape(site.Name), chat.Escape(site.Client), int(left.Hours()/24), date(notAfter))
	if left <= 0 {
		text = fmt.Sprintf(":lock: :red_circle: The TLS certificate of *%s* (%s) expired on %s.", chat.Escape(site.Name), chat.Escape(site.Client), date(notAfter))
	}
	item, err := store.NewOutboxItem(kindSlackPost, "cert/"+site.Key, postPayload{Channel: site.Channel, Text: text}, now)
	if err != nil {
		return err
	}
	marker := fmt.Sprintf("cert:%s:%d", site.Key, notAfter.Unix())
	if u.steady.certQueued(marker) {
		return nil
	}
	queued, err := u.st.EnqueueOnce(ctx, marker, CertWarnWithin+30*24*time.Hour, now, item)
	if err != nil {
		return fmt.Errorf("jobs: uptime: certificate warning %s: %w", site.Key, err)
	}
	u.steady.markCert(marker)
	if queued && u.alerter.nudge != nil {
		u.alerter.nudge()
	}
	return nil
}
