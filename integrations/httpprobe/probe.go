// Package httpprobe is opsbot's own HTTP prober, for endpoints StatusCake
// does not watch (internal health URLs and the like). A check is one GET or
// HEAD with a timeout, an expected status, an optional keyword in the body
// and, for https, the leaf certificate's expiry. Connections to loopback,
// private, link-local and similar addresses are refused at connect time
// unless Config.AllowPrivate is set or Config.Allow lists them, and cloud
// metadata always (SSRF guard; see Guard).
package httpprobe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/383project/opsbot/integrations"
)

// Defaults for zero Config and Target fields.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConcurrency = 64
	DefaultCertWarn       = 14 * 24 * time.Hour
	DefaultUserAgent      = "opsbot-probe/1"
	MaxRedirects          = 5
	maxBody               = 1 << 20 // keyword search reads at most this much body
	maxDrain              = 64 << 10
)

// Source is CheckResult.Source for every probe result.
const Source = "probe"

// Target is one endpoint to probe.
type Target struct {
	ID, Name, URL string
	Timeout       time.Duration // whole check, connect to last body byte; default 10s
	ExpectStatus  []int         // default: any 2xx or 3xx
	Keyword       string        // optional: the first 1 MiB of the body must contain it (case-sensitive; GET only)
	// Host, when set, is sent as the Host header (smoke tests against new
	// infrastructure). TLS server name and verification still follow the URL's host.
	Host   string
	Method string // GET (default) or HEAD
}

// Config tunes a Prober. Zero fields take the defaults.
type Config struct {
	UserAgent      string
	MaxConcurrency int  // CheckAll's bound on checks in flight; default 64
	AllowPrivate   bool // allow loopback/private/link-local targets but cloud metadata; default false (SSRF guard)
	// Allow lets probes reach forbidden addresses in these networks or on
	// these hosts only (cloud metadata stays refused).
	Allow    Allowlist
	CertWarn time.Duration
	// RootCAs replaces the system roots for https targets (nil: system roots).
	RootCAs *x509.CertPool
	// Now is the clock for CheckedAt and CertWarning; default time.Now.
	Now func() time.Time
	// ReuseConnections keeps connections open between checks. Off by
	// default: every check dials anew, so a refused or hanging connect (a
	// dead load balancer, a full accept queue) is seen, not hidden behind
	// an idle keep-alive connection.
	ReuseConnections bool
}

func (c Config) guard() Guard { return Guard{AllowPrivate: c.AllowPrivate, Allow: c.Allow} }

// Prober runs HTTP checks. It is safe for concurrent use.
type Prober struct {
	cfg Config
	hc  *http.Client
	log *slog.Logger
}

// New returns a Prober. hc may be nil: New then builds a client with a tuned
// Transport (keep-alives, idle connections per host, TLS handshake timeout,
// no proxy). A non-nil hc is copied, not modified; when its Transport is an
// *http.Transport (or nil) it is cloned with the guarded dialer installed, so
// its TLS settings are kept. Any other RoundTripper is used as given, with no
// SSRF guard at connect time (logged). Redirects stop after MaxRedirects.
func New(cfg Config, hc *http.Client, log *slog.Logger) *Prober {
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.CertWarn <= 0 {
		cfg.CertWarn = DefaultCertWarn
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "httpprobe")
	var c http.Client
	if hc != nil {
		c = *hc
	}
	switch tr := c.Transport.(type) {
	case nil:
		c.Transport = newTransport(cfg)
	case *http.Transport:
		tr = tr.Clone()
		guardTransport(tr, cfg)
		c.Transport = tr
	default:
		// Even with AllowPrivate the guard would keep cloud metadata out.
		log.Warn("custom round tripper: SSRF guard not installed at connect time", "type", fmt.Sprintf("%T", tr))
	}
	c.CheckRedirect = limitRedirects
	return &Prober{cfg: cfg, hc: &c, log: log}
}

var errTooManyRedirects = fmt.Errorf("too many redirects (more than %d)", MaxRedirects)

func limitRedirects(_ *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return errTooManyRedirects
	}
	return nil
}

// CheckAll checks every target, at most Config.MaxConcurrency at a time, and
// returns the results in input order. Targets not started when ctx ends are
// reported StateUnknown ("check cancelled").
func (p *Prober) CheckAll(ctx context.Context, ts []Target) []integrations.CheckResult {
	out := make([]integrations.CheckResult, len(ts))
	sem := make(chan struct{}, p.cfg.MaxConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, t := range ts {
		if ctx.Err() == nil {
			select {
			case sem <- struct{}{}:
				wg.Go(func() {
					defer func() { <-sem }()
					out[i] = p.Check(ctx, t)
				})
				continue
			case <-ctx.Done():
			}
		}
		out[i] = p.cancelled(t)
	}
	return out
}

// CertWarning is the package's CertWarning with the Prober's clock and
// Config.CertWarn.
func (p *Prober) CertWarning(res integrations.CheckResult) (string, bool) {
	return CertWarning(res, p.cfg.Now(), p.cfg.CertWarn)
}

// CertWarning says whether res's certificate expires within warn of now (or
// has expired), in words: "certificate expires in 9 days (2026-12-01)",
// "certificate expired on 2026-12-01". False when res has no CertExpiry.
func CertWarning(res integrations.CheckResult, now time.Time, warn time.Duration) (string, bool) {
	exp := res.CertExpiry
	if exp.IsZero() {
		return "", false
	}
	day := exp.UTC().Format(time.DateOnly)
	left := exp.Sub(now)
	switch days := int(left / (24 * time.Hour)); {
	case left <= 0:
		return "certificate expired on " + day, true
	case left >= warn:
		return "", false
	case days == 0:
		return fmt.Sprintf("certificate expires in less than a day (%s)", day), true
	case days == 1:
		return fmt.Sprintf("certificate expires in 1 day (%s)", day), true
	default:
		return fmt.Sprintf("certificate expires in %d days (%s)", days, day), true
	}
}

// errCancelled is reported when the caller's ctx ends before or during a check.
var errCancelled = errors.New("check cancelled")
