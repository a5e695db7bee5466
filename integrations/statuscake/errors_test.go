package statuscake_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/integrations/statuscake"
	"github.com/383project/opsbot/integrations/statuscake/statuscaketest"
)

func TestErrors(t *testing.T) {
	const secret = "sk-live-DO-NOT-LEAK-0123456789"
	tests := []struct {
		name          string
		token         string
		fail          func(*statuscaketest.Server)
		call          func(context.Context, *statuscake.Client) error
		wantIs        error
		wantRetryable bool
		wantStatus    int
		wantAfter     time.Duration
		wantText      string
	}{
		{
			name: "429 with x-ratelimit-reset", token: statuscaketest.Token,
			fail: func(s *statuscaketest.Server) {
				s.FailNext(http.StatusTooManyRequests, http.Header{
					"X-Ratelimit-Limit": {"5, 60;w=60, 5;w=1"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"17"},
				}, `{"message":"Too Many Requests","errors":{}}`)
			},
			call:          listAll,
			wantRetryable: true, wantStatus: 429, wantAfter: 17 * time.Second, wantText: "statuscake: list uptime tests",
		},
		{
			name: "429 with Retry-After", token: statuscaketest.Token,
			fail:          func(s *statuscaketest.Server) { s.FailNext(429, http.Header{"Retry-After": {"3"}}, "") },
			call:          listAll,
			wantRetryable: true, wantStatus: 429, wantAfter: 3 * time.Second,
		},
		{
			name: "500", token: statuscaketest.Token,
			fail:          func(s *statuscaketest.Server) { s.FailNext(500, nil, `{"message":"Something went wrong","errors":{}}`) },
			call:          func(ctx context.Context, c *statuscake.Client) error { _, err := c.Test(ctx, "1"); return err },
			wantRetryable: true, wantStatus: 500, wantText: "statuscake: get uptime test 1",
		},
		{
			name: "502 with an HTML body", token: statuscaketest.Token,
			fail: func(s *statuscaketest.Server) {
				s.FailNext(502, http.Header{"Content-Type": {"text/html"}}, "<html>Bad Gateway</html>")
			},
			call:          periods,
			wantRetryable: true, wantStatus: 502,
		},
		{
			name: "401 from a wrong token", token: secret,
			call:   listAll,
			wantIs: integrations.ErrUnauthorized, wantText: "StatusCake rejected the API token",
		},
		{
			name: "403 x-ext-authz denied", token: secret,
			fail: func(s *statuscaketest.Server) {
				s.FailNext(403, http.Header{"X-Ext-Authz": {"denied"}}, `{"message":"Forbidden","errors":{}}`)
			},
			call:   periods,
			wantIs: integrations.ErrUnauthorized, wantText: "StatusCake rejected the API token",
		},
		{
			name: "404 unknown test", token: statuscaketest.Token,
			call:   func(ctx context.Context, c *statuscake.Client) error { _, err := c.Test(ctx, "999"); return err },
			wantIs: integrations.ErrNotFound, wantText: "statuscake: get uptime test 999",
		},
		{
			name: "404 unknown test periods", token: statuscaketest.Token,
			call: func(ctx context.Context, c *statuscake.Client) error {
				_, err := c.Periods(ctx, "999", time.Now().Add(-time.Hour), time.Now())
				return err
			},
			wantIs: integrations.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := statuscaketest.New(t)
			srv.AddTest(statuscaketest.Test{ID: "1", Name: "acme"})
			if tt.fail != nil {
				tt.fail(srv)
			}
			c, logs := newClient(t, srv, tt.token)
			err := tt.call(context.Background(), c)
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			var re *integrations.RetryableError
			if got := errors.As(err, &re); got != tt.wantRetryable {
				t.Fatalf("retryable = %v, want %v (err %v)", got, tt.wantRetryable, err)
			}
			if re != nil && (re.StatusCode != tt.wantStatus || re.RetryAfter != tt.wantAfter) {
				t.Errorf("got status %d retry after %v, want %d and %v", re.StatusCode, re.RetryAfter, tt.wantStatus, tt.wantAfter)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("token leaked:\nerror: %v\nlogs: %s", err, logs)
			}
			if got := srv.Requests(""); got != 1 {
				t.Errorf("requests = %d, want 1 (statuscake-go must not retry)", got)
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := statuscaketest.New(t)
	c, _ := newClient(t, srv, statuscaketest.Token)
	srv.Close()
	_, err := c.Uptime(context.Background())
	if ok, _ := integrations.IsRetryable(err); !ok {
		t.Errorf("got %v, want a RetryableError", err)
	}
}

func TestCanceledContextIsNotRetryable(t *testing.T) {
	srv := statuscaketest.New(t)
	c, _ := newClient(t, srv, statuscaketest.Token)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Uptime(ctx)
	if ok, _ := integrations.IsRetryable(err); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled, not retryable", err)
	}
}

func listAll(ctx context.Context, c *statuscake.Client) error {
	_, err := c.Uptime(ctx)
	return err
}

func periods(ctx context.Context, c *statuscake.Client) error {
	_, err := c.Periods(ctx, "1", time.Now().Add(-time.Hour), time.Now())
	return err
}
