package httpprobe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
)

// selfSigned returns a 127.0.0.1 certificate valid from notBefore to notAfter.
func selfSigned(t *testing.T, notBefore, notAfter time.Time) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "probe test"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, leaf
}

func TestCheckTLS(t *testing.T) {
	ok := func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }
	quiet := log.New(io.Discard, "", 0) // handshake failures are the point here
	good := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	good.Config.ErrorLog = quiet
	good.StartTLS()
	defer good.Close()
	goodPool := x509.NewCertPool()
	goodPool.AddCert(good.Certificate())

	now := time.Now()
	cert, leaf := selfSigned(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	expired := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	expired.Config.ErrorLog = quiet
	expired.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	expired.StartTLS()
	defer expired.Close()
	expiredPool := x509.NewCertPool()
	expiredPool.AddCert(leaf)

	tests := []struct {
		name       string
		cfg        Config
		hc         *http.Client
		url        string
		wantState  integrations.CheckState
		wantErr    string
		wantExpiry time.Time
	}{
		{"client from server", Config{}, good.Client(), good.URL, integrations.StateUp, "", good.Certificate().NotAfter},
		{"RootCAs", Config{RootCAs: goodPool}, nil, good.URL, integrations.StateUp, "", good.Certificate().NotAfter},
		{"unknown authority", Config{}, nil, good.URL, integrations.StateDown, "TLS: certificate signed by unknown authority", good.Certificate().NotAfter},
		{"expired", Config{RootCAs: expiredPool}, nil, expired.URL, integrations.StateDown, "TLS: certificate expired", leaf.NotAfter},
		{"plain http to TLS port", Config{}, nil, "http" + good.URL[len("https"):], integrations.StateDown, "status 400 (expected 2xx/3xx)", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProber(t, tt.cfg, tt.hc)
			got := p.Check(t.Context(), Target{URL: tt.url})
			if got.State != tt.wantState || got.Error != tt.wantErr || !got.CertExpiry.Equal(tt.wantExpiry) {
				t.Errorf("Check = %q %q expiry %v; want %q %q expiry %v", got.State, got.Error, got.CertExpiry, tt.wantState, tt.wantErr, tt.wantExpiry)
			}
		})
	}
}

func TestCertWarning(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	warn := 14 * 24 * time.Hour
	tests := []struct {
		name   string
		expiry time.Time
		want   string
		wantOK bool
	}{
		{"no certificate", time.Time{}, "", false},
		{"far away", now.Add(60 * 24 * time.Hour), "", false},
		{"9 days", time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC), "certificate expires in 9 days (2026-12-01)", true},
		{"1 day", now.Add(30 * time.Hour), "certificate expires in 1 day (2026-11-23)", true},
		{"hours", now.Add(3 * time.Hour), "certificate expires in less than a day (2026-11-22)", true},
		{"expired", now.Add(-72 * time.Hour), "certificate expired on 2026-11-19", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CertWarning(integrations.CheckResult{CertExpiry: tt.expiry}, now, warn)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CertWarning = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	p := New(Config{Now: func() time.Time { return now }}, nil, nil)
	if got, ok := p.CertWarning(integrations.CheckResult{CertExpiry: now.Add(10 * 24 * time.Hour)}); !ok || got != "certificate expires in 10 days (2026-12-02)" {
		t.Errorf("Prober.CertWarning = %q, %v", got, ok)
	}
}
