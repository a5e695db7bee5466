package httpprobe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
)

func TestSSRFGuard(t *testing.T) {
	var conns, reqs atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reqs.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name    string
		hc      *http.Client
		url     string
		wantErr string // substring
	}{
		{"loopback literal", nil, fmt.Sprintf("http://127.0.0.1:%d/", port), "address 127.0.0.1 is loopback (not allowed)"},
		{"cloud metadata", nil, "http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is cloud metadata (never allowed)"},
		{"metadata host name", nil, "http://metadata.google.internal/computeMetadata/v1/", "host metadata.google.internal is cloud metadata (never allowed)"},
		{"private", nil, "http://10.0.0.1/", "address 10.0.0.1 is private (not allowed)"},
		{"IPv6 loopback", nil, fmt.Sprintf("http://[::1]:%d/", port), "address ::1 is loopback (not allowed)"},
		{"mapped IPv4", nil, fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), "address 127.0.0.1 is loopback (not allowed)"},
		{"NAT64", nil, fmt.Sprintf("http://[64:ff9b::127.0.0.1]:%d/", port), "address 64:ff9b::7f00:1 carries 127.0.0.1, which is loopback (not allowed)"},
		{"6to4", nil, fmt.Sprintf("http://[2002:a9fe:a9fe::1]:%d/", port), "address 2002:a9fe:a9fe::1 carries 169.254.169.254, which is cloud metadata (never allowed)"},
		// A name is only resolved at connect time: the dialer's Control refuses it.
		{"name resolving to loopback", nil, fmt.Sprintf("http://localhost:%d/", port), "is loopback (not allowed)"},
		{"caller's client is guarded too", srv.Client(), fmt.Sprintf("http://localhost:%d/", port), "is loopback (not allowed)"},
	}
	p := New(Config{}, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := p
			if tt.hc != nil {
				pr = New(Config{}, tt.hc, nil)
			}
			got := pr.Check(t.Context(), Target{URL: tt.url, Timeout: 2 * time.Second})
			if got.State != integrations.StateDown || !strings.Contains(got.Error, tt.wantErr) {
				t.Errorf("Check = %q %q, want down containing %q", got.State, got.Error, tt.wantErr)
			}
		})
	}
	if c, r := conns.Load(), reqs.Load(); c != 0 || r != 0 {
		t.Errorf("server saw %d connections, %d requests; want 0, 0", c, r)
	}
	// The same server is reachable when private targets are allowed, or
	// when an allowlist names its address or its host name.
	for name, cfg := range map[string]Config{
		"AllowPrivate":      {AllowPrivate: true},
		"Allow 127.0.0.0/8": {Allow: Allowlist{Nets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}},
	} {
		if got := New(cfg, nil, nil).Check(t.Context(), Target{URL: srv.URL}); got.State != integrations.StateUp {
			t.Errorf("%s: Check = %q %q, want up", name, got.State, got.Error)
		}
	}
	byName := New(Config{Allow: Allowlist{Hosts: []string{"localhost"}}}, nil, nil)
	if got := byName.Check(t.Context(), Target{URL: fmt.Sprintf("http://localhost:%d/", port)}); got.State != integrations.StateUp {
		t.Errorf("Allow localhost: Check = %q %q, want up", got.State, got.Error)
	}
	// An allowed name does not open the address it resolves to when dialled as a literal.
	if got := byName.Check(t.Context(), Target{URL: srv.URL}); got.State != integrations.StateDown {
		t.Errorf("Allow localhost: Check(%s) = %q, want down", srv.URL, got.State)
	}
}

// TestGuardNeverMetadata: neither AllowPrivate nor an allowlist covering
// the whole link-local range (or the name) reaches cloud metadata.
func TestGuardNeverMetadata(t *testing.T) {
	wide := Allowlist{Nets: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("100.64.0.0/10")}, Hosts: []string{"metadata.google.internal"}}
	for _, g := range []Guard{{AllowPrivate: true}, {Allow: wide}, {AllowPrivate: true, Allow: wide}} {
		for _, a := range []string{"169.254.169.254", "fd00:ec2::254", "169.254.170.2", "169.254.170.23", "fd00:ec2::23",
			"100.100.100.200", "192.0.0.192", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::"} {
			var be *BlockedAddrError
			if err := g.check("", netip.MustParseAddr(a)); !errors.As(err, &be) || be.Kind != KindMetadata {
				t.Errorf("%+v check(%s) = %v, want cloud metadata", g, a, err)
			}
		}
		if _, err := ValidateURL("http://Metadata.Google.Internal./", g); err == nil || !strings.Contains(err.Error(), "never allowed") {
			t.Errorf("%+v ValidateURL(metadata.google.internal) = %v", g, err)
		}
		// Link-local that is not metadata is opened by AllowPrivate or the list.
		if err := g.check("", netip.MustParseAddr("169.254.1.1")); err != nil {
			t.Errorf("%+v check(169.254.1.1) = %v, want allowed", g, err)
		}
	}
}

func TestBlocked(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" = allowed
	}{
		{"127.0.0.1", "loopback"}, {"127.9.9.9", "loopback"}, {"::1", "loopback"},
		{"10.1.2.3", "private"}, {"172.16.0.1", "private"}, {"192.168.1.1", "private"}, {"fd00:ec2::1", "private"},
		{"100.100.100.200", KindMetadata}, {"100.64.0.1", "private"}, {"fd00:ec2::254", KindMetadata},
		{"169.254.169.254", KindMetadata}, {"169.254.170.2", KindMetadata}, {"169.254.1.1", "link-local"}, {"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"}, {"::", "unspecified"}, {"0.1.2.3", "unspecified"},
		{"224.0.0.1", "link-local"}, {"239.1.1.1", "multicast"}, {"ff02::1", "link-local"}, {"ff05::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"::ffff:10.0.0.1", "private"},
		// IPv6 carrying IPv4: judged as the IPv4 address.
		{"64:ff9b::10.0.0.1", "private"}, {"64:ff9b::7f00:1", "loopback"}, {"64:ff9b::a9fe:a9fe", KindMetadata},
		{"64:ff9b::8.8.8.8", ""}, {"64:ff9b:1::8.8.8.8", "private"},
		{"2002:c0a8:0101::1", "private"}, {"2002:7f00:1::", "loopback"}, {"2002:0808:0808::1", ""},
		{"::10.0.0.1", "private"}, {"::127.0.0.1", "loopback"}, {"::ffff:0:10.0.0.1", "private"},
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"}, // Teredo, client 10.0.0.1 (inverted)
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ""},        // Teredo, client 8.8.8.8
		{"8.8.8.8", ""}, {"93.184.215.14", ""}, {"172.32.0.1", ""}, {"2606:4700::1111", ""},
	}
	for _, tt := range tests {
		got, _, _ := blocked(netip.MustParseAddr(tt.addr))
		if got != tt.want {
			t.Errorf("blocked(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestAllowlist(t *testing.T) {
	a, err := ParseAllowlist([]string{"10.20.0.0/16", " 192.168.5.7 ", "Build.Internal.Example.", "fd12::/64"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"10.20.3.4": true, "10.21.0.1": false, "192.168.5.7": true, "192.168.5.8": false,
		"build.internal.example": true, "BUILD.internal.example.": true, "x.build.internal.example": false,
		"[fd12::9]": true, "fd13::9": false, "64:ff9b::10.20.0.9": true, "": false,
	} {
		if got := a.Contains(host); got != want {
			t.Errorf("Contains(%q) = %v, want %v", host, got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "host:8080", "", "a b"} {
		if _, err := ParseAllowlist([]string{bad}); err == nil {
			t.Errorf("ParseAllowlist(%q) accepted it", bad)
		}
	}
	g := Guard{Allow: a}
	if err := g.check("", netip.MustParseAddr("10.20.0.1")); err != nil {
		t.Errorf("allowed network refused: %v", err)
	}
	if err := g.check("", netip.MustParseAddr("10.30.0.1")); err == nil {
		t.Error("network outside the list allowed")
	}
	if err := g.check("build.internal.example", netip.MustParseAddr("10.30.0.1")); err != nil {
		t.Errorf("allowed host's address refused: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	op := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://x/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		name     string
		err      error
		timedOut bool
		want     string
	}{
		{"blocked", op(&BlockedAddrError{Addr: netip.MustParseAddr("10.0.0.1"), Kind: "private"}), false, "address 10.0.0.1 is private (not allowed)"},
		{"metadata host", op(&BlockedHostError{Host: "metadata.goog"}), false, "host metadata.goog is cloud metadata (never allowed)"},
		{"dns", op(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), false, "DNS: no such host"},
		{"dns timeout", op(&net.DNSError{Err: "i/o timeout", IsTimeout: true}), false, "DNS: timeout"},
		{"refused", op(&netErrno{syscall.ECONNREFUSED}), false, "connection refused"},
		{"reset", op(&netErrno{syscall.ECONNRESET}), false, "connection reset"},
		{"deadline", &url.Error{Op: "Get", URL: "http://x/", Err: context.DeadlineExceeded}, true, "timeout after 10s"},
		{"expired", op(x509.CertificateInvalidError{Reason: x509.Expired}), false, "TLS: certificate expired"},
		{"hostname", op(x509.HostnameError{Host: "www.example.com", Certificate: &x509.Certificate{}}), false, "TLS: certificate is not valid for www.example.com"},
		{"redirects", &url.Error{Op: "Get", URL: "http://x/", Err: errTooManyRedirects}, false, "too many redirects (more than 5)"},
		{"eof", &url.Error{Op: "Get", URL: "http://x/", Err: io.EOF}, false, "connection closed before a complete response"},
		{"other", &url.Error{Op: "Get", URL: "http://x/", Err: errors.New("boom")}, false, "request failed: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.err, tt.timedOut, 10*time.Second); got != tt.want {
				t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// netErrno wraps an errno the way os.SyscallError does.
type netErrno struct{ errno syscall.Errno }

func (e *netErrno) Error() string { return "connect: " + e.errno.Error() }
func (e *netErrno) Unwrap() error { return e.errno }

// FuzzGuard: whatever address is dialled, metadata is refused by every
// guard, an address the zero guard accepts carries no forbidden IPv4, and
// an allowlist parsed from an entry contains that entry.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{"169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a00:1::", "2001:0:4136:e378:8000:63bf:f5ff:fffe", "8.8.8.8", "::ffff:10.0.0.1", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAllowlist([]string{s}); err == nil {
			host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
			if _, perr := netip.ParsePrefix(host); perr != nil && !a.Contains(host) {
				t.Fatalf("ParseAllowlist(%q) does not contain it", s)
			}
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		kind, _, bad := blocked(ip)
		if kind == KindMetadata {
			if err := (Guard{AllowPrivate: true, Allow: Allowlist{Nets: []netip.Prefix{netip.MustParsePrefix("::/0"), netip.MustParsePrefix("0.0.0.0/0")}}}).check("", ip); err == nil {
				t.Fatalf("metadata %s allowed", ip)
			}
		}
		if !bad {
			if v4, ok := embeddedIPv4(ip.Unmap().WithZone("")); ok {
				if k, _, b := blocked(v4); b {
					t.Fatalf("%s allowed but carries %s (%s)", ip, v4, k)
				}
			}
		}
	})
}
