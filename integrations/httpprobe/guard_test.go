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
		{"cloud metadata", nil, "http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is link-local (not allowed)"},
		{"private", nil, "http://10.0.0.1/", "address 10.0.0.1 is private (not allowed)"},
		{"IPv6 loopback", nil, fmt.Sprintf("http://[::1]:%d/", port), "address ::1 is loopback (not allowed)"},
		{"mapped IPv4", nil, fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), "address 127.0.0.1 is loopback (not allowed)"},
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
	// The same server is reachable when private targets are allowed.
	if got := New(Config{AllowPrivate: true}, nil, nil).Check(t.Context(), Target{URL: srv.URL}); got.State != integrations.StateUp {
		t.Errorf("AllowPrivate Check = %q %q, want up", got.State, got.Error)
	}
}

func TestBlocked(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" = allowed
	}{
		{"127.0.0.1", "loopback"}, {"127.9.9.9", "loopback"}, {"::1", "loopback"},
		{"10.1.2.3", "private"}, {"172.16.0.1", "private"}, {"192.168.1.1", "private"}, {"fd00:ec2::254", "private"},
		{"100.100.100.200", "private"},
		{"169.254.169.254", "link-local"}, {"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"}, {"::", "unspecified"}, {"0.1.2.3", "unspecified"},
		{"224.0.0.1", "link-local"}, {"239.1.1.1", "multicast"}, {"ff02::1", "link-local"}, {"ff05::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"::ffff:10.0.0.1", "private"},
		{"8.8.8.8", ""}, {"93.184.215.14", ""}, {"172.32.0.1", ""}, {"2606:4700::1111", ""},
	}
	for _, tt := range tests {
		got, _ := blocked(netip.MustParseAddr(tt.addr))
		if got != tt.want {
			t.Errorf("blocked(%s) = %q, want %q", tt.addr, got, tt.want)
		}
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
