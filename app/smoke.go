package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/httpprobe"
	"github.com/383project/opsbot/store"
)

// smokeRunner runs the smoke checks people type in Slack. Their URLs come
// from a chat message, not from the admin's file, so the guard is stricter
// than the uptime probes': private and loopback addresses only inside
// changes.smoke_allow (uptime.allow_private does not apply), cloud metadata
// never. A keyword= check reads the body, and its pass or fail answers
// "does the page contain X?": asked letter by letter that reads the page,
// so keywords are accepted only against the client's own hosts (its sites,
// the proposal's DNS record) and what smoke_allow names.
type smokeRunner struct {
	probe *httpprobe.Prober
	guard httpprobe.Guard
	own   map[string][]string // client → host names of its sites (URL hosts and probe Host headers)
}

func newSmokeRunner(cfg *config.Config, log *slog.Logger) (*smokeRunner, error) {
	allow, err := httpprobe.ParseAllowlist(cfg.Changes.SmokeAllow)
	if err != nil {
		return nil, fmt.Errorf("changes.smoke_allow: %w", err) // config validated it: a bug if reached
	}
	guard := httpprobe.Guard{Allow: allow}
	s := &smokeRunner{guard: guard, own: map[string][]string{},
		probe: httpprobe.New(httpprobe.Config{Allow: allow, UserAgent: "opsbot-smoke"}, nil, log.With("component", "smoke"))}
	for key, cl := range cfg.Clients {
		for _, site := range cl.Sites {
			if u, err := url.Parse(site.URL); err == nil && u.Hostname() != "" {
				s.own[key] = append(s.own[key], hostKey(u.Hostname()))
			}
			if site.Probe != nil && site.Probe.Host != "" {
				s.own[key] = append(s.own[key], hostKey(site.Probe.Host))
			}
		}
	}
	return s, nil
}

// hostKey is a host name compared case-insensitively, without port or trailing dot.
func hostKey(h string) string {
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// VetSmoke refuses the checks opsbot may not run for cr, in words fit to
// show under the form's field: an address the guard forbids (named, with
// what an admin can do about it) or a keyword against a host that is not
// the client's.
func (s *smokeRunner) VetSmoke(cr store.ChangeRequest, checks []store.SmokeCheck) error {
	for i, ch := range checks {
		what := fmt.Sprintf("Check %d", i+1)
		u, err := httpprobe.ValidateURL(ch.URL, s.guard)
		var addr *httpprobe.BlockedAddrError
		var host *httpprobe.BlockedHostError
		switch {
		case errors.As(err, &host), errors.As(err, &addr) && addr.Kind == httpprobe.KindMetadata:
			return fmt.Errorf("%s: opsbot never fetches cloud metadata", what)
		case errors.As(err, &addr):
			return fmt.Errorf("%s: %v. Smoke checks reach private and loopback addresses only inside changes.smoke_allow: ask an admin to add the new infrastructure's network there", what, addr)
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		}
		if ch.Keyword != "" && !s.ownHost(cr, u, ch.Host) {
			return fmt.Errorf("%s: keyword= is accepted only for the client's own hosts (its sites, the proposal's DNS record) or hosts in changes.smoke_allow; use host= with one of them, or drop keyword= to check the status alone", what)
		}
	}
	return nil
}

// ownHost reports whether a keyword check of u (sent with Host header
// hostHeader, if any) asks the client's own host, or one smoke_allow names.
func (s *smokeRunner) ownHost(cr store.ChangeRequest, u *url.URL, hostHeader string) bool {
	if s.guard.Allow.Contains(u.Hostname()) {
		return true
	}
	h := hostKey(u.Hostname())
	if hostHeader != "" {
		h = hostKey(hostHeader)
	}
	if p := cr.Proposal; p != nil && p.DNS != nil && hostKey(p.DNS.Name) == h {
		return true
	}
	return slices.Contains(s.own[cr.Client], h) || s.guard.Allow.Contains(h)
}

// RunSmoke runs checks with the guarded prober; a refused address is a
// failed check whose detail says so.
func (s *smokeRunner) RunSmoke(ctx context.Context, checks []store.SmokeCheck) []store.SmokeResult {
	targets := make([]httpprobe.Target, len(checks))
	for i, ch := range checks {
		targets[i] = httpprobe.Target{ID: fmt.Sprint(i), Name: ch.URL, URL: ch.URL, Host: ch.Host,
			ExpectStatus: []int{ch.ExpectStatus}, Keyword: ch.Keyword, Timeout: 15 * time.Second}
	}
	res := s.probe.CheckAll(ctx, targets)
	out := make([]store.SmokeResult, len(res))
	for i, r := range res {
		out[i] = store.SmokeResult{URL: checks[i].URL, OK: r.State == integrations.StateUp, Status: r.StatusCode, Detail: r.Error, At: r.CheckedAt}
	}
	return out
}
