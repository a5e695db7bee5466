package httpprobe

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/383project/opsbot/integrations"
)

// Check probes t once. It never fails: every problem is a result with State
// down and Error in words ("timeout after 10s", "connection refused",
// "status 503 (expected 2xx/3xx)", "keyword \"ok\" not found", "TLS:
// certificate expired", "DNS: no such host", "address 10.0.0.1 is private
// (not allowed)"). If ctx itself ends, the result is StateUnknown ("check
// cancelled"): the caller gave up, the site did not fail.
//
// ResponseTime is from the start of the request (before DNS and connect) to
// the first byte of the final response (httptrace GotFirstResponseByte), so
// it includes connection set-up when no kept-alive connection was reusable
// and every redirect hop; it is zero when no response arrived. CertExpiry is
// the leaf certificate's NotAfter for https, recorded even when verification
// failed. Source is "probe", Uptime -1, CheckedAt Config.Now() at the end.
func (p *Prober) Check(ctx context.Context, t Target) integrations.CheckResult {
	res := p.check(ctx, t)
	res.CheckedAt = p.cfg.Now()
	if res.State == integrations.StateDown {
		p.log.Debug("probe down", "id", t.ID, "url", t.URL, "error", res.Error)
	}
	return res
}

func (p *Prober) result(t Target) integrations.CheckResult {
	return integrations.CheckResult{Source: Source, ID: t.ID, Name: t.Name, URL: t.URL, State: integrations.StateDown, Uptime: -1}
}

func (p *Prober) cancelled(t Target) integrations.CheckResult {
	res := p.result(t)
	res.State, res.Error, res.CheckedAt = integrations.StateUnknown, errCancelled.Error(), p.cfg.Now()
	return res
}

func (p *Prober) check(parent context.Context, t Target) integrations.CheckResult {
	res := p.result(t)
	if parent.Err() != nil {
		res.State, res.Error = integrations.StateUnknown, errCancelled.Error()
		return res
	}
	timeout := durationOr(t.Timeout, DefaultTimeout)
	method := strings.ToUpper(cmp.Or(t.Method, http.MethodGet))
	if method != http.MethodGet && method != http.MethodHead {
		res.Error = fmt.Sprintf("method %s not allowed (use GET or HEAD)", t.Method)
		return res
	}
	if t.Keyword != "" && method == http.MethodHead {
		res.Error = "keyword check needs GET (HEAD has no body)"
		return res
	}
	u, err := ValidateURL(t.URL, p.cfg.guard())
	if err != nil {
		res.Error = err.Error()
		return res
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	start := time.Now()
	var ttfb atomic.Int64
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { ttfb.Store(int64(time.Since(start))) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, u.String(), nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Host = t.Host
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	resp, err := p.hc.Do(req)
	if err != nil {
		return p.failed(res, parent, ctx, err, timeout)
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	res.ResponseTime = time.Duration(ttfb.Load())
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		res.CertExpiry = resp.TLS.PeerCertificates[0].NotAfter
	}
	if !statusOK(resp.StatusCode, t.ExpectStatus) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		res.Error = fmt.Sprintf("status %d (expected %s)", resp.StatusCode, expected(t.ExpectStatus))
		return res
	}
	if t.Keyword == "" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		res.State = integrations.StateUp
		return res
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return p.failed(res, parent, ctx, err, timeout)
	}
	truncated := len(body) > maxBody
	if !bytes.Contains(body[:min(len(body), maxBody)], []byte(t.Keyword)) {
		res.Error = fmt.Sprintf("keyword %q not found", t.Keyword)
		if truncated {
			res.Error += " in the first 1 MiB"
		}
		return res
	}
	res.State = integrations.StateUp
	return res
}

// failed fills res for a request or body error.
func (p *Prober) failed(res integrations.CheckResult, parent, ctx context.Context, err error, timeout time.Duration) integrations.CheckResult {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		res.CertExpiry = cve.UnverifiedCertificates[0].NotAfter
	}
	if parent.Err() != nil {
		res.State, res.Error = integrations.StateUnknown, errCancelled.Error()
		return res
	}
	res.Error = describe(err, errors.Is(ctx.Err(), context.DeadlineExceeded), timeout)
	return res
}

// describe turns a transport error into the words a person reads in an alert.
func describe(err error, timedOut bool, timeout time.Duration) string {
	var (
		blockedErr *BlockedAddrError
		metaHost   *BlockedHostError
		invalid    x509.CertificateInvalidError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		recErr     tls.RecordHeaderError
		dnsErr     *net.DNSError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &blockedErr):
		return blockedErr.Error()
	case errors.As(err, &metaHost):
		return metaHost.Error()
	case errors.Is(err, errTooManyRedirects):
		return errTooManyRedirects.Error()
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			if invalid.Cert != nil && time.Now().Before(invalid.Cert.NotBefore) {
				return "TLS: certificate not yet valid"
			}
			return "TLS: certificate expired"
		}
		return "TLS: certificate invalid: " + invalid.Error()
	case errors.As(err, &unknownCA):
		return "TLS: certificate signed by unknown authority"
	case errors.As(err, &hostErr):
		return "TLS: certificate is not valid for " + hostErr.Host
	case errors.As(err, &recErr):
		return "TLS: server did not answer with TLS"
	case timedOut:
		return "timeout after " + timeout.String()
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return "DNS: no such host"
		case dnsErr.IsTimeout:
			return "DNS: timeout"
		}
		return "DNS: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case strings.Contains(err.Error(), "TLS handshake timeout"):
		return "TLS: handshake timeout"
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timeout after " + timeout.String()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a complete response"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "request failed: " + err.Error()
}

func statusOK(code int, want []int) bool {
	if len(want) == 0 {
		return code >= 200 && code < 400
	}
	return slices.Contains(want, code)
}

func expected(want []int) string {
	if len(want) == 0 {
		return "2xx/3xx"
	}
	s := make([]string, len(want))
	for i, c := range want {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
