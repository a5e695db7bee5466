package httpprobe

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Guard decides which addresses a probe may connect to. The zero Guard
// refuses every forbidden range (see blocked); cloud metadata is refused
// whatever the Guard says.
type Guard struct {
	// AllowPrivate opens every forbidden range but cloud metadata. It is
	// for probes an admin configured (uptime.allow_private: internal
	// health URLs), never for URLs typed in Slack.
	AllowPrivate bool
	// Allow opens only these networks and hosts (changes.smoke_allow: the
	// new infrastructure a smoke check may reach).
	Allow Allowlist
}

// Allowlist is a set of networks and host names a probe may reach although
// their addresses are forbidden (private, loopback ...).
type Allowlist struct {
	Nets  []netip.Prefix
	Hosts []string // lower case, no trailing dot; exact names (a host's subdomains are not included)
}

// ParseAllowlist reads entries that are each a CIDR ("10.20.0.0/16"), an
// address ("10.20.0.5", "fd12::5") or a host name ("build.internal.example").
func ParseAllowlist(entries []string) (Allowlist, error) {
	var a Allowlist
	for _, e := range entries {
		e = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(e)), ".")
		if p, err := netip.ParsePrefix(e); err == nil {
			a.Nets = append(a.Nets, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(e); err == nil {
			ip = ip.Unmap()
			a.Nets = append(a.Nets, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if !hostName(e) {
			return Allowlist{}, fmt.Errorf("%q is not a CIDR, an address or a host name", e)
		}
		a.Hosts = append(a.Hosts, e)
	}
	return a, nil
}

// hostName reports whether s is a lower-case DNS name: dot-separated labels
// of 1-63 letters, digits and inner hyphens, at most 253 characters.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.ContainsFunc(label, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' }) {
			return false
		}
	}
	return true
}

// Contains reports whether host (a name, or a literal address as in a URL)
// is on the list: a listed name, or an address inside a listed network.
func (a Allowlist) Contains(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return a.containsAddr(ip)
	}
	return host != "" && slices.Contains(a.Hosts, host)
}

// containsAddr reports whether ip, or the IPv4 address it carries, is in a listed network.
func (a Allowlist) containsAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	v4, carries := embeddedIPv4(ip)
	return slices.ContainsFunc(a.Nets, func(p netip.Prefix) bool {
		return p.Contains(ip) || carries && p.Contains(v4)
	})
}

// check returns nil when a probe may connect to ip, reached through the
// host name host ("" for a literal address).
func (g Guard) check(host string, ip netip.Addr) error {
	kind, carries, bad := blocked(ip)
	switch {
	case !bad:
		return nil
	case kind != KindMetadata && (g.AllowPrivate || g.Allow.containsAddr(ip) || host != "" && g.Allow.Contains(host)):
		return nil
	}
	return &BlockedAddrError{Addr: ip.Unmap().WithZone(""), Carries: carries, Kind: kind}
}

// checkHost refuses a URL host the guard can judge without resolving it:
// a metadata name, or a literal address.
func (g Guard) checkHost(host string) error {
	if isMetadataHost(host) {
		return &BlockedHostError{Host: host}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return g.check("", ip)
	}
	return nil
}

// dialContext dials like net.Dialer, judging every address actually
// dialled in the dialer's Control (after DNS resolution, just before
// connect(2)), so neither DNS rebinding nor a redirect to an internal name
// gets past the guard. The host name being dialled is known here, which is
// what lets an Allowlist name hosts.
func (g Guard) dialContext() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("refusing to dial unparsable address %q", addr)
		}
		if _, err := netip.ParseAddr(host); err == nil {
			host = "" // a literal is judged as an address only
		} else if isMetadataHost(host) {
			return nil, &BlockedHostError{Host: host}
		}
		d := &net.Dialer{KeepAlive: 30 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("refusing to dial unparsable address %q", address)
			}
			return g.check(host, ap.Addr())
		}}
		return d.DialContext(ctx, network, addr)
	}
}

// newTransport is the Transport New builds when given no client: a new
// connection per check unless cfg.ReuseConnections (then idle connections
// bounded by the concurrency), TLS handshake bounded, no
// proxy (a proxy would make the guard check the proxy's address, not the
// target's).
func newTransport(cfg Config) *http.Transport {
	t := &http.Transport{
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           2 * cfg.MaxConcurrency,
		MaxIdleConnsPerHost:    cfg.MaxConcurrency,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      !cfg.ReuseConnections,
	}
	guardTransport(t, cfg)
	return t
}

// guardTransport installs the guarded dialer on t and clears every way around
// it (proxy, custom dial funcs). cfg.RootCAs, when set, replaces t's roots.
func guardTransport(t *http.Transport, cfg Config) {
	t.Proxy = nil
	//lint:ignore SA1019 cleared on purpose: a caller's old-style dialer must not bypass the guard
	t.Dial = nil
	//lint:ignore SA1019 cleared on purpose, as above
	t.DialTLS = nil
	t.DialTLSContext = nil
	t.DialContext = cfg.guard().dialContext()
	if cfg.RootCAs != nil {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.RootCAs = cfg.RootCAs
	}
}
