package detectify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/detectify"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
)

func newClient(t *testing.T, fake *detectifytest.Server, mod func(*detectify.Config)) (*detectify.Client, *bytes.Buffer) {
	t.Helper()
	cfg := detectify.Config{APIURL: fake.APIURL(), Key: detectifytest.Key, MaxRetryWait: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	var logs bytes.Buffer
	return detectify.New(cfg, fake.Client(), slog.New(slog.NewTextHandler(&logs, nil))), &logs
}

func TestProfilesAndScanLifecycle(t *testing.T) {
	fake := detectifytest.New(t)
	tok := fake.AddProfile(detectifytest.Profile{Name: "acme production", Endpoint: "acme.example", Verified: true})
	fake.ScriptScan(tok, detectifytest.Scan{Steps: []detectifytest.Step{{Phase: "queued", State: "queued"}, {Phase: "crawling", State: "running"}, {Phase: "scanning", State: "running"}}})
	c, _ := newClient(t, fake, nil)
	ctx := context.Background()

	ps, err := c.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Token != tok || ps[0].Endpoint != "acme.example" || !ps[0].Verified || ps[0].Latest.Status != "" {
		t.Fatalf("profiles = %+v", ps)
	}
	st, err := c.ScanStatus(ctx, tok)
	if err != nil || st.Running {
		t.Fatalf("status before any scan = %+v, %v; want not running", st, err)
	}
	if err := c.StartScan(ctx, tok); err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := c.StartScan(ctx, tok); !errors.Is(err, integrations.ErrScanRunning) {
		t.Fatalf("second start = %v, want ErrScanRunning (409)", err)
	}
	var phases []string
	for {
		st, err := c.ScanStatus(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			break
		}
		phases = append(phases, st.Phase+"/"+st.State)
	}
	if got := strings.Join(phases, ","); got != "queued/queued,crawling/running,scanning/running" {
		t.Fatalf("phases = %s", got)
	}
	ps, _ = c.Profiles(ctx)
	if !ps[0].Latest.Completed() || ps[0].Latest.Ended.IsZero() {
		t.Fatalf("latest scan = %+v, want completed", ps[0].Latest)
	}
}

func TestStartScanRefusals(t *testing.T) {
	fake := detectifytest.New(t)
	unverified := fake.AddProfile(detectifytest.Profile{Name: "new", Endpoint: "new.example"})
	c, logs := newClient(t, fake, nil)
	ctx := context.Background()
	if err := c.StartScan(ctx, unverified); !errors.Is(err, integrations.ErrNotVerified) {
		t.Fatalf("unverified = %v, want ErrNotVerified (423)", err)
	}
	if err := c.StartScan(ctx, strings.Repeat("ab", 16)); !errors.Is(err, integrations.ErrBadRequest) {
		t.Fatalf("unknown profile = %v, want ErrBadRequest (400)", err)
	}
	if err := c.StartScan(ctx, "../profiles"); !errors.Is(err, integrations.ErrBadRequest) || fake.Requests("POST /rest/v2/scans/{token}/") != 2 {
		t.Fatalf("malformed token = %v (requests %d); want refused before any request", err, fake.Requests("POST /rest/v2/scans/{token}/"))
	}
	fake.FailNext(http.StatusServiceUnavailable, nil, "")
	if err := c.StartScan(ctx, unverified); !isRetryable(err) {
		t.Fatalf("503 = %v, want retryable", err)
	}
	bad, badLogs := newClient(t, fake, func(cfg *detectify.Config) { cfg.Key = "not-the-key-0000000000000000000" })
	if err := bad.StartScan(ctx, unverified); !errors.Is(err, integrations.ErrUnauthorized) || strings.Contains(err.Error(), "not-the-key") {
		t.Fatalf("bad key = %v, want ErrUnauthorized without the key", err)
	}
	for _, l := range []string{logs.String(), badLogs.String()} {
		if strings.Contains(l, detectifytest.Key) || strings.Contains(l, "not-the-key") {
			t.Fatalf("a key is in the log:\n%s", l)
		}
	}
}

func isRetryable(err error) bool { ok, _ := integrations.IsRetryable(err); return ok }

func TestFindingsPagesAndConversion(t *testing.T) {
	fake := detectifytest.New(t)
	fake.MaxPageSize = 40
	tok := fake.AddProfile(detectifytest.Profile{Endpoint: "acme.example", Verified: true})
	var fs []detectifytest.Finding
	for i := range 95 {
		fs = append(fs, detectifytest.Finding{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Title: "Reflected XSS",
			Severity: []string{"critical", "high", "medium", "low", "information"}[i%5], Host: "shop.acme.example",
			Location: fmt.Sprintf("https://shop.acme.example/p/%d", i), CWE: 79})
	}
	fs[1].Tags = []string{"OWASP 2021 A01"}
	fs[2].Severity = "Info"
	fake.SetFindings(tok, fs)
	c, _ := newClient(t, fake, nil)
	got, err := c.Findings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 95 || fake.Requests("GET /rest/v2/vulnerabilities/") != 3 {
		t.Fatalf("%d findings in %d requests, want 95 in 3", len(got), fake.Requests("GET /rest/v2/vulnerabilities/"))
	}
	f := got[0]
	if f.ID != fs[0].UUID || f.Severity != "critical" || f.OWASP != "A03:2021 Injection" || f.Host != "shop.acme.example" ||
		f.Asset != "acme.example" || !strings.HasPrefix(f.Link, "https://detectify.com/") || f.ResponseStatus != 200 || f.Status != "active" {
		t.Fatalf("finding = %+v", f)
	}
	if !strings.HasPrefix(f.Request, "GET https://shop.acme.example/p/0") || strings.Contains(f.Request, "SECRET") {
		t.Fatalf("request line = %q: want method and URL, no body", f.Request)
	}
	if got[1].OWASP != "A01:2021 Broken Access Control" || got[2].Severity != "information" {
		t.Fatalf("tag or severity not read: %+v / %+v", got[1], got[2])
	}
}

func TestFindingsRetriesWithinTheWait(t *testing.T) {
	fake := detectifytest.New(t)
	fake.MaxPageSize = 1
	tok := fake.AddProfile(detectifytest.Profile{Endpoint: "acme.example", Verified: true})
	fake.SetFindings(tok, []detectifytest.Finding{{UUID: "a", Title: "A", Severity: "high"}, {UUID: "b", Title: "B", Severity: "low"}})
	c, _ := newClient(t, fake, nil)
	ctx := context.Background()

	fake.FailNext(http.StatusBadGateway, nil, "")
	fake.FailNext(http.StatusTooManyRequests, nil, "")
	got, err := c.Findings(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("after a 502 and a 429: %d findings, %v; want both pages read", len(got), err)
	}
	// A Retry-After longer than MaxRetryWait is the caller's to honour.
	fake.FailNext(http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}}, "")
	start := time.Now()
	_, err = c.Findings(ctx)
	var re *integrations.RetryableError
	if !errors.As(err, &re) || re.RetryAfter != 2*time.Minute || re.StatusCode != 429 || time.Since(start) > 5*time.Second {
		t.Fatalf("429 Retry-After 120 = %v after %s; want RetryableError asking 2m, without waiting", err, time.Since(start))
	}
	for range 5 {
		fake.FailNext(http.StatusInternalServerError, nil, "")
	}
	if _, err := c.Findings(ctx); !isRetryable(err) {
		t.Fatalf("five 500s = %v, want retryable", err)
	}
}

func TestFindingsRefusesAForgedMarker(t *testing.T) {
	fake := detectifytest.New(t)
	fake.MaxPageSize = 1
	tok := fake.AddProfile(detectifytest.Profile{Endpoint: "acme.example", Verified: true})
	fake.SetFindings(tok, []detectifytest.Finding{{UUID: "a"}, {UUID: "b"}})
	req, _ := http.NewRequest(http.MethodGet, fake.APIURL()+"/v2/vulnerabilities/?marker=forged&page_size=1", nil)
	req.Header.Set("X-Detectify-Key", detectifytest.Key)
	resp, err := fake.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged marker: HTTP %d, want 400", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, fake.APIURL()+"/v2/profiles", nil)
	req.Header.Set("X-Detectify-Key", detectifytest.Key)
	resp, _ = fake.Client().Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("path without its slash: HTTP %d, want 404", resp.StatusCode)
	}
}

func TestSignedRequests(t *testing.T) {
	fake := detectifytest.New(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	fake.SetSecret(secret)
	tok := fake.AddProfile(detectifytest.Profile{Endpoint: "acme.example", Verified: true})
	ctx := context.Background()
	b64 := base64.StdEncoding.EncodeToString(secret)

	signed, _ := newClient(t, fake, func(c *detectify.Config) { c.Secret = b64 })
	if _, err := signed.Profiles(ctx); err != nil {
		t.Fatalf("signed GET: %v", err)
	}
	if err := signed.StartScan(ctx, tok); err != nil {
		t.Fatalf("signed POST: %v", err)
	}
	unsigned, _ := newClient(t, fake, nil)
	if _, err := unsigned.Profiles(ctx); !errors.Is(err, integrations.ErrUnauthorized) {
		t.Fatalf("unsigned request to a key with a secret = %v, want ErrUnauthorized", err)
	}
	wrong, logs := newClient(t, fake, func(c *detectify.Config) { c.Secret = base64.StdEncoding.EncodeToString([]byte("another secret")) })
	if _, err := wrong.Profiles(ctx); !errors.Is(err, integrations.ErrUnauthorized) {
		t.Fatalf("wrong secret = %v, want ErrUnauthorized", err)
	}
	late, _ := newClient(t, fake, func(c *detectify.Config) {
		c.Secret = b64
		c.Now = func() time.Time { return time.Now().Add(-30 * time.Second) }
	})
	if _, err := late.Profiles(ctx); !errors.Is(err, integrations.ErrUnauthorized) {
		t.Fatalf("timestamp 30 s old = %v, want ErrUnauthorized", err)
	}
	notB64, _ := newClient(t, fake, func(c *detectify.Config) { c.Secret = "not base64!" })
	if _, err := notB64.Profiles(ctx); err == nil || !strings.Contains(err.Error(), "not base64") || strings.Contains(err.Error(), "not base64!") {
		t.Fatalf("secret not base64 = %v", err)
	}
	if strings.Contains(logs.String(), b64) || strings.Contains(logs.String(), detectifytest.Key) {
		t.Fatalf("a secret is in the log:\n%s", logs.String())
	}
}

func TestSignatureMatchesDetectifysExample(t *testing.T) {
	// Computed with the recipe of Detectify's Python example (hmac, sha256, b64).
	got := detectify.Signature([]byte("secret"), "post", "/v2/scans/5605b488634efe810dff4276e28ca7f9/", "key", 1700000000, nil)
	if got != "Uya0xDSGkLwAEPqnUMns9GGlvxjVAmgynvh5ErZgzlQ=" {
		t.Fatalf("signature = %s", got)
	}
}
