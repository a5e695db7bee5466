package jobs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// FindingMonitor is the Monitor of findings' alerts.
const FindingMonitor = "finding"

// FindingAlertKey is the alert key of one finding of one client; its
// PagerDuty dedup key is "opsbot/" + it.
func FindingAlertKey(client, id string) string { return store.FindingAlertKey(client, id) }

// Finding routes (config's words).
const (
	routePage   = "page"
	routePost   = "post"
	routeDigest = "digest"
)

// apply matches the team's findings to the run's client, applies them to
// its stored findings, tells the Alerter about the transitions that need
// one, and saves the findings with the scan's summary. Redis: one round
// trip to read, one to save, and one alert update per finding that starts
// or stops alerting.
func (s *Scans) apply(ctx context.Context, cl ScanClient, run store.ScanRun, all []integrations.Finding,
	profiles map[string]integrations.ScanProfile, at time.Time) (store.FindingSummary, error) {
	owners := s.owners(profiles)
	var reports []store.FindingReport
	for _, f := range all {
		o, ok := owners.of(f.Host)
		if !ok || o.client != cl.Key {
			continue
		}
		reports = append(reports, store.FindingReport{VendorID: f.ID, Profile: o.token, Title: f.Title, Severity: f.Severity,
			Status: f.Status, CWE: f.CWE, OWASP: f.OWASP, Asset: f.Asset, Host: f.Host, Location: f.Location, Link: f.Link,
			Request: f.Request, ResponseStatus: f.ResponseStatus, Created: f.Created})
	}
	complete := map[string]bool{}
	for _, p := range run.Profiles {
		complete[p.Token] = p.Outcome == "completed"
	}
	prev, accs, err := s.st.ClientFindings(ctx, cl.Key)
	if err != nil {
		return store.FindingSummary{}, err
	}
	res := store.ApplyScan(prev, reports, complete, at)
	for id, f := range res.All {
		changed, err := s.alert(ctx, cl, &f, accs[id], at)
		if err != nil {
			return store.FindingSummary{}, err
		}
		if changed {
			res.All[id], res.Touched[id] = f, true
		}
	}
	ids := make([]string, 0, len(res.Touched))
	for id := range res.Touched {
		ids = append(ids, id)
	}
	return res.Summary, s.st.SaveFindings(ctx, cl.Key, res.All, ids, &res.Summary)
}

// alert tells the Alerter what f needs, on transitions only: an open,
// routed, not accepted finding not yet alerted fires; a finding no longer
// open that was alerted recovers. It reports whether f.Alerted changed.
func (s *Scans) alert(ctx context.Context, cl ScanClient, f *store.Finding, acc store.Acceptance, at time.Time) (bool, error) {
	route := cl.route(f.Severity)
	routed := route == routePage || route == routePost
	quiet := f.AcceptedAtVendor() || acc.Active(at)
	switch {
	case f.State.Open() && routed && !quiet && !f.Alerted:
		if _, err := s.al.Observe(ctx, s.findingSubject(cl, *f), false, "", at, false); err != nil {
			return false, err
		}
		f.Alerted = true
		return true, nil
	case !f.State.Open() && f.Alerted:
		if _, err := s.al.Observe(ctx, s.findingSubject(cl, *f), true, "", at, false); err != nil {
			return false, err
		}
		f.Alerted = false
		return true, nil
	}
	return false, nil
}

// findingSubject describes a finding to the Alerter: its message in the
// security channel (vendor text escaped there) and, when routed to page,
// its PagerDuty incident with a per-finding dedup key.
func (s *Scans) findingSubject(cl ScanClient, f store.Finding) Subject {
	sev := integrations.SeverityError
	if f.Severity == integrations.FindingCritical {
		sev = integrations.SeverityCritical
	}
	pager := ""
	if cl.route(f.Severity) == routePage {
		pager = cl.PagerRef
	}
	where := f.Location
	if where == "" {
		where = f.Host
	}
	fields := []store.AlertField{
		{Label: "Severity", Text: severityWord(f.Severity)},
		{Label: "OWASP Top 10", Text: orDash(f.OWASP)},
		{Label: "Host", Text: orDash(f.Host)},
		{Label: "Location", Text: orDash(f.Location)},
		{Label: "First seen", At: f.FirstSeen},
	}
	return Subject{Key: FindingAlertKey(cl.Key, f.ID), Monitor: FindingMonitor, Client: cl.Key,
		Name: severityWord(f.Severity) + ": " + f.Title, URL: f.Link, Channel: s.o.Channel, PagerRef: pager, Severity: sev,
		Thresholds: store.Thresholds{FailAfter: 1, RecoverAfter: 1}, Fields: fields,
		Details: map[string]any{"client": cl.Key, "finding": f.ID, "severity": f.Severity, "owasp": f.OWASP, "cwe": f.CWE,
			"host": f.Host, "location": f.Location, "first_seen": f.FirstSeen},
		Summary: truncate(fmt.Sprintf("[%s] %s finding: %s at %s (%s)", cl.Key, severityWord(f.Severity), f.Title, where, orDash(f.OWASP)), 1000)}
}

// expireAcceptances ends the acceptances that ran out; a finding still open
// and routed alerts again. The alert comes first: if the end is not
// recorded, the next pass does it again and the alert is not repeated.
func (s *Scans) expireAcceptances(ctx context.Context, now time.Time) error {
	due, err := s.st.DueAcceptances(ctx, now, 200)
	if err != nil {
		return fmt.Errorf("scans: acceptances: %w", err)
	}
	for _, a := range due {
		cl, ok := s.clients[a.Client]
		if ok {
			all, _, err := s.st.ClientFindings(ctx, a.Client)
			if err != nil {
				return err
			}
			if f, ok := all[a.ID]; ok && f.State.Open() && !f.AcceptedAtVendor() {
				route := cl.route(f.Severity)
				if route == routePage || route == routePost {
					if _, err := s.al.Observe(ctx, s.findingSubject(cl, f), false, "", now, false); err != nil {
						return err
					}
					if !f.Alerted {
						f.Alerted = true
						if err := s.st.SaveFindings(ctx, a.Client, all, []string{a.ID}, nil); err != nil {
							return err
						}
					}
				}
			}
		}
		if _, err := s.st.EndAcceptance(ctx, a, now); err != nil {
			return err
		}
	}
	return nil
}

// owner is the client and profile a host's findings belong to.
type owner struct{ client, token string }

// ownerIndex maps profile endpoints to their client and profile.
type ownerIndex map[string]owner

// owners indexes every configured profile by its endpoint (as the scanner
// names it).
func (s *Scans) owners(profiles map[string]integrations.ScanProfile) ownerIndex {
	idx := ownerIndex{}
	for _, key := range s.order {
		for _, tok := range s.clients[key].Profiles {
			if p, ok := profiles[tok]; ok && p.Endpoint != "" {
				idx[strings.ToLower(strings.TrimSuffix(p.Endpoint, "."))] = owner{key, tok}
			}
		}
	}
	return idx
}

// of finds the profile whose endpoint is host, or else the nearest parent
// domain of host: shop.acme.example belongs to a profile of
// shop.acme.example before one of acme.example.
func (idx ownerIndex) of(host string) (owner, bool) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for h != "" {
		if o, ok := idx[h]; ok {
			return o, true
		}
		_, rest, found := strings.Cut(h, ".")
		if !found {
			break
		}
		h = rest
	}
	return owner{}, false
}

// severityWord is "Critical", "High" ... for people.
func severityWord(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// severityRank orders severities worst first (unknown last).
func severityRank(s string) int {
	for i, v := range integrations.FindingSeverities {
		if v == s {
			return i
		}
	}
	return len(integrations.FindingSeverities)
}

// sortFindings orders findings worst first, then oldest first.
func sortFindings(fs []store.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if a, b := severityRank(fs[i].Severity), severityRank(fs[j].Severity); a != b {
			return a < b
		}
		return fs[i].FirstSeen.Before(fs[j].FirstSeen)
	})
}
