// Package detectify starts Detectify application scans, follows them and
// reads their findings through the Detectify API v2
// (https://developer.detectify.com/), returning the vendor-neutral types of
// package integrations. There is no official Go SDK; this is net/http.
//
// Authentication is the X-Detectify-Key header. When the key has a secret,
// every request is also signed (X-Detectify-Signature, X-Detectify-Timestamp):
// base64(HMAC-SHA256(base64decode(secret), "METHOD;PATH;KEY;TIMESTAMP;BODY")),
// PATH being the path under the API base without the query
// ("/v2/scans/<token>/"), as Detectify's own Python example signs it.
//
// Errors: 429, 5xx and network failures are *integrations.RetryableError
// (with Retry-After); 401/403 wrap integrations.ErrUnauthorized; 400 wraps
// integrations.ErrBadRequest; 404 integrations.ErrNotFound; starting a scan
// answers integrations.ErrScanRunning (409) or integrations.ErrNotVerified
// (423). The key and the secret never appear in an error or a log line.
package detectify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
)

// DefaultAPIURL is the production API base; v2 paths go under it.
const DefaultAPIURL = "https://api.detectify.com/rest"

// maxBody bounds a response read into memory (a page of 100 findings with
// their requests and responses is well under this).
const maxBody = 32 << 20

// Config says where Detectify is and how to authenticate.
type Config struct {
	APIURL string // the API base, e.g. https://api.detectify.com/rest; default DefaultAPIURL
	Key    string // the API key (DETECTIFY_API_KEY); never logged
	// Secret is the key's base64 secret (DETECTIFY_API_SECRET): when set,
	// every request is signed. Never logged.
	Secret string
	// MaxRetryWait is the longest a findings page waits before it is tried
	// again after a 429 or 5xx (default 1m). A Retry-After beyond it ends the
	// read with the *integrations.RetryableError, for the caller to retry later.
	MaxRetryWait time.Duration
	// Now stamps signatures (Detectify allows -10 s/+5 s); default time.Now.
	Now func() time.Time
}

// Client talks to one Detectify team. It is safe for concurrent use.
type Client struct {
	base      string
	key       string
	secret    []byte
	secretErr error
	hc        *http.Client
	log       *slog.Logger
	maxWait   time.Duration
	now       func() time.Time
}

// New returns a Client. hc may be nil (a client with a 30 s timeout is
// used); log may be nil. A secret that is not base64 makes every call fail
// with an error saying so (config validation refuses it first).
func New(cfg Config, hc *http.Client, log *slog.Logger) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	c := &Client{base: base, key: cfg.Key, hc: hc, log: log.With("integration", "detectify"),
		maxWait: cfg.MaxRetryWait, now: cfg.Now}
	if cfg.Secret != "" {
		c.secret, c.secretErr = base64.StdEncoding.DecodeString(cfg.Secret)
		if c.secretErr != nil {
			c.secretErr = errors.New("detectify: DETECTIFY_API_SECRET is not base64 (value not shown)")
		}
	}
	return c
}

// Signature is Detectify's request signature: base64 of the HMAC-SHA256,
// keyed with the decoded secret, of "METHOD;PATH;KEY;TIMESTAMP;BODY".
func Signature(secret []byte, method, path, key string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s;%s;%s;%d;", strings.ToUpper(method), path, key, ts)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// call sends one request to path (under the base, with its trailing slash)
// and decodes a 2xx JSON body into out (if non-nil). op names the call in
// errors.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, out any) error {
	op = "detectify: " + op
	if c.secretErr != nil {
		return c.secretErr
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("X-Detectify-Key", c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "opsbot")
	if c.secret != nil {
		ts := c.now().Unix()
		req.Header.Set("X-Detectify-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Detectify-Signature", Signature(c.secret, method, path, c.key, ts, nil))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		// A *url.Error names the URL, which holds no credential (the key
		// travels in a header).
		return &integrations.RetryableError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &integrations.RetryableError{Op: op, StatusCode: resp.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s: decode the answer: %w", op, err)
		}
		return nil
	}
	err = c.classify(op, resp, body)
	c.log.LogAttrs(ctx, slog.LevelWarn, "detectify call failed", slog.String("op", op),
		slog.Int("status", resp.StatusCode), slog.String("error", err.Error()))
	return err
}

// classify turns a non-2xx answer into the package's error contract.
func (c *Client) classify(op string, resp *http.Response, body []byte) error {
	status := resp.StatusCode
	msg := c.redact(vendorMessage(body))
	detail := fmt.Errorf("HTTP %d: %s", status, msg)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s: Detectify rejected the API key, its signature or its rights (HTTP %d: %s): %w", op, status, msg, integrations.ErrUnauthorized)
	case status == http.StatusBadRequest:
		return fmt.Errorf("%s: %v: %w", op, detail, integrations.ErrBadRequest)
	case status == http.StatusNotFound:
		return fmt.Errorf("%s: %v: %w", op, detail, integrations.ErrNotFound)
	case status == http.StatusConflict:
		return fmt.Errorf("%s: %w", op, integrations.ErrScanRunning)
	case status == http.StatusLocked:
		return fmt.Errorf("%s: %w", op, integrations.ErrNotVerified)
	case status == http.StatusTooManyRequests || status >= 500:
		return &integrations.RetryableError{Op: op, StatusCode: status, RetryAfter: retryAfter(resp.Header, c.now()), Err: errors.New(msg)}
	}
	return fmt.Errorf("%s: %w", op, detail)
}

// redact removes the key and secret should a vendor message echo them.
func (c *Client) redact(s string) string {
	if c.key != "" {
		s = strings.ReplaceAll(s, c.key, "[redacted]")
	}
	if len(c.secret) > 0 {
		s = strings.ReplaceAll(s, base64.StdEncoding.EncodeToString(c.secret), "[redacted]")
	}
	return s
}

// vendorMessage reads Detectify's error text from {"error":{"message":..}},
// {"error":".."} or {"message":".."} (the shape is not documented), else the
// start of the body.
func vendorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return s
		case v.Message != "":
			return v.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		s = "no message"
	}
	return s
}

// retryAfter reads Retry-After (seconds or an HTTP date); 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	return integrations.ParseRetryAfter(h.Get("Retry-After"), now)
}
