package httpprobe

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// BlockedAddrError is the refusal to connect to an address the SSRF guard
// forbids. Its text names the address and why: "address 10.0.0.1 is private
// (not allowed)".
type BlockedAddrError struct {
	Addr netip.Addr
	Kind string // "loopback", "private", "link-local", "unspecified", "multicast", "broadcast"
}

func (e *BlockedAddrError) Error() string {
	return fmt.Sprintf("address %s is %s (not allowed)", e.Addr, e.Kind)
}

// extraBlocked are ranges netip has no predicate for.
var extraBlocked = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},        // "this network"; Linux routes it to the host
	{netip.MustParsePrefix("100.64.0.0/10"), "private"},        // carrier-grade NAT; some cloud metadata lives here
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"}, // limited broadcast
}

// blocked reports whether a probe may not connect to ip, and why. It covers
// loopback, RFC 1918 and fc00::/7, link-local (169.254/16 with cloud metadata
// 169.254.169.254, fe80::/10), unspecified, multicast, 0/8, 100.64/10 and
// broadcast; IPv4-mapped IPv6 addresses are judged as IPv4.
func blocked(ip netip.Addr) (string, bool) {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid", true
	case ip.IsLoopback():
		return "loopback", true
	case ip.IsPrivate():
		return "private", true
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local", true
	case ip.IsUnspecified():
		return "unspecified", true
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast", true
	}
	for _, b := range extraBlocked {
		if b.prefix.Contains(ip) {
			return b.kind, true
		}
	}
	return "", false
}

// checkAddr returns a *BlockedAddrError when ip is forbidden.
func checkAddr(ip netip.Addr) error {
	if kind, bad := blocked(ip); bad {
		return &BlockedAddrError{Addr: ip.Unmap().WithZone(""), Kind: kind}
	}
	return nil
}

// guardControl is the net.Dialer Control func: it runs after DNS resolution,
// just before connect(2), with the IP actually dialled, so neither DNS
// rebinding nor a redirect to an internal name can get past it.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to dial unparsable address %q", address)
	}
	return checkAddr(ap.Addr())
}

// newDialer returns the dialer probes connect with; guarded unless allowPrivate.
func newDialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = guardControl
	}
	return d
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
	t.DialContext = newDialer(cfg.AllowPrivate).DialContext
	if cfg.RootCAs != nil {
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.RootCAs = cfg.RootCAs
	}
}
