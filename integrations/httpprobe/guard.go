package httpprobe

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Kinds of forbidden address (BlockedAddrError.Kind). KindMetadata is the
// one no setting unlocks.
const (
	KindMetadata = "cloud metadata"
	kindPrivate  = "private"
)

// BlockedAddrError is the refusal to connect to an address the SSRF guard
// forbids. Its text names the address and why: "address 10.0.0.1 is private
// (not allowed)"; for an IPv6 address carrying an IPv4 one (NAT64, 6to4...)
// both: "address 64:ff9b::a00:1 carries 10.0.0.1, which is private (not
// allowed)".
type BlockedAddrError struct {
	Addr    netip.Addr
	Carries netip.Addr // the embedded IPv4 address judged, when Addr is IPv6
	Kind    string     // "loopback", "private", "link-local", "unspecified", "multicast", "broadcast", KindMetadata
}

func (e *BlockedAddrError) Error() string {
	verdict := "(not allowed)"
	if e.Kind == KindMetadata {
		verdict = "(never allowed)"
	}
	if e.Carries.IsValid() {
		return fmt.Sprintf("address %s carries %s, which is %s %s", e.Addr, e.Carries, e.Kind, verdict)
	}
	return fmt.Sprintf("address %s is %s %s", e.Addr, e.Kind, verdict)
}

// BlockedHostError refuses a host name that only ever means cloud metadata.
type BlockedHostError struct{ Host string }

func (e *BlockedHostError) Error() string {
	return fmt.Sprintf("host %s is %s (never allowed)", e.Host, KindMetadata)
}

// metadataAddrs are the cloud metadata and credential endpoints: AWS IMDS
// (169.254.169.254, fd00:ec2::254), the ECS task and EKS Pod Identity
// credential agents (169.254.170.2, 169.254.170.23, fd00:ec2::23), Alibaba
// (100.100.100.200) and Oracle's legacy address (192.0.0.192). GCP and Azure
// use 169.254.169.254 too. A probe never reaches them, whatever is allowed:
// they hand out the credentials opsbot runs with.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254"),
	netip.MustParseAddr("169.254.170.2"), netip.MustParseAddr("169.254.170.23"), netip.MustParseAddr("fd00:ec2::23"),
	netip.MustParseAddr("100.100.100.200"), netip.MustParseAddr("192.0.0.192"),
}

// metadataHosts are names that only ever point at a metadata service.
var metadataHosts = []string{"metadata.google.internal", "metadata.goog"}

// isMetadataHost reports whether host (any case, trailing dot allowed) is one of metadataHosts.
func isMetadataHost(host string) bool {
	return slices.Contains(metadataHosts, strings.TrimSuffix(strings.ToLower(host), "."))
}

// extraBlocked are ranges netip has no predicate for.
var extraBlocked = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},        // "this network"; Linux routes it to the host
	{netip.MustParsePrefix("100.64.0.0/10"), kindPrivate},      // carrier-grade NAT
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"}, // limited broadcast
	{netip.MustParsePrefix("64:ff9b:1::/48"), kindPrivate},     // local-use NAT64 (RFC 8215): a site's own translator
}

// IPv6 ranges that carry an IPv4 address (see embeddedIPv4).
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052 well-known prefix
	sixToFour  = netip.MustParsePrefix("2002::/16")       // RFC 3056
	teredo     = netip.MustParsePrefix("2001::/32")       // RFC 4380
	compatible = netip.MustParsePrefix("::/96")           // deprecated IPv4-compatible ::a.b.c.d
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated (RFC 2765)
)

// embeddedIPv4 returns the IPv4 address an IPv6 address leads to through a
// translator or tunnel: NAT64 64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::/48,
// Teredo (the client address, inverted in the last 32 bits), SIIT's
// ::ffff:0:a.b.c.d and the old IPv4-compatible ::a.b.c.d. (IPv4-mapped ::ffff:a.b.c.d is unmapped
// before this is asked.) A gateway on the path would connect to that IPv4
// address, so it is the one to judge.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip), compatible.Contains(ip), translated.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	case teredo.Contains(ip):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}

// blocked reports whether a probe may not connect to ip, and why. It covers
// cloud metadata (first, so that nothing unlocks it), loopback, RFC 1918
// and fc00::/7, link-local (169.254/16, fe80::/10), unspecified, multicast,
// 0/8, 100.64/10, broadcast and local-use NAT64. IPv4-mapped IPv6 addresses
// are judged as IPv4, and so are addresses carrying an IPv4 address
// (embeddedIPv4): carries is then that address.
func blocked(ip netip.Addr) (kind string, carries netip.Addr, bad bool) {
	ip = ip.Unmap().WithZone("")
	if kind, bad := blockedDirect(ip); bad {
		return kind, netip.Addr{}, true
	}
	if v4, ok := embeddedIPv4(ip); ok {
		if kind, bad := blockedDirect(v4); bad {
			return kind, v4, true
		}
	}
	return "", netip.Addr{}, false
}

func blockedDirect(ip netip.Addr) (string, bool) {
	switch {
	case !ip.IsValid():
		return "invalid", true
	case slices.Contains(metadataAddrs, ip):
		return KindMetadata, true
	case ip.IsLoopback():
		return "loopback", true
	case ip.IsPrivate():
		return kindPrivate, true
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
