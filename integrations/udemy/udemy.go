// Package udemy reads security-training completions from the Udemy
// Business reporting API: GET {api_url}/api-2.0/organizations/{id}/
// analytics/user-course-activity/?course_id=..., paged by following
// "next", with HTTP Basic auth (client ID and secret). 429 (honouring
// Retry-After), 503 and 524 are retried with backoff.
//
// https://business-support.udemy.com/hc/en-us/articles/360055083654-Udemy-Business-Reporting-API
package udemy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
)

// Config selects the account and credentials.
type Config struct {
	APIURL         string // https://<account>.udemy.com
	OrganizationID string
	ClientID       string // secret
	ClientSecret   string // secret
	PageSize       int    // default 100
	// Attempts per page on 429/503/524 and network errors; default 5.
	Attempts int
	// Backoff is the first retry delay (doubled each time, jittered) when
	// the answer names none; default 2s.
	Backoff time.Duration
}

// Client is safe for concurrent use.
type Client struct {
	cfg  Config
	hc   *http.Client
	log  *slog.Logger
	base *url.URL
}

// New returns a client; hc and log may be nil.
func New(cfg Config, hc *http.Client, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.APIURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("udemy: api_url %q is not an http(s) URL", cfg.APIURL)
	}
	if cfg.OrganizationID == "" {
		return nil, errors.New("udemy: organization_id is required")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, hc: hc, log: log, base: u}, nil
}

// CourseURL is where a person starts course id in the account.
func (c *Client) CourseURL(id string) string {
	return c.base.String() + "/course-dashboard-redirect/?course_id=" + url.QueryEscape(id)
}

type page struct {
	Count   int     `json:"count"`
	Next    *string `json:"next"`
	Results []struct {
		Email          string  `json:"user_email"`
		Name           string  `json:"user_name"`
		Surname        string  `json:"user_surname"`
		Deactivated    bool    `json:"user_is_deactivated"`
		CourseID       int64   `json:"course_id"`
		CourseTitle    string  `json:"course_title"`
		FirstCompleted *string `json:"course_first_completion_date"`
	} `json:"results"`
}

// CourseActivity returns every person's activity in the courses, all
// pages of each. A deactivated person's rows are returned marked
// Deactivated (callers skip them).
func (c *Client) CourseActivity(ctx context.Context, courseIDs []string) ([]integrations.CourseActivity, error) {
	var out []integrations.CourseActivity
	for _, id := range courseIDs {
		q := url.Values{"course_id": {id}, "page_size": {strconv.Itoa(c.cfg.PageSize)}}
		next := c.base.String() + "/api-2.0/organizations/" + url.PathEscape(c.cfg.OrganizationID) + "/analytics/user-course-activity/?" + q.Encode()
		for pages := 0; next != ""; pages++ {
			if pages >= 10000 {
				return nil, fmt.Errorf("udemy: course %s: more than 10000 pages", id)
			}
			if err := c.sameHost(next); err != nil {
				return nil, err
			}
			var p page
			if err := c.get(ctx, next, &p); err != nil {
				return nil, fmt.Errorf("udemy: user-course-activity of course %s: %w", id, err)
			}
			for _, r := range p.Results {
				a := integrations.CourseActivity{Email: strings.ToLower(strings.TrimSpace(r.Email)), Name: strings.TrimSpace(r.Name + " " + r.Surname),
					CourseID: strconv.FormatInt(r.CourseID, 10), CourseTitle: r.CourseTitle, Deactivated: r.Deactivated}
				if r.FirstCompleted != nil && *r.FirstCompleted != "" {
					t, err := time.Parse(time.RFC3339, *r.FirstCompleted)
					if err != nil {
						return nil, fmt.Errorf("udemy: course %s: completion date %q: %w", id, *r.FirstCompleted, err)
					}
					a.FirstCompleted = t
				}
				out = append(out, a)
			}
			next = ""
			if p.Next != nil {
				next = *p.Next
			}
		}
	}
	return out, nil
}

// sameHost refuses a "next" link to another host: the credentials go
// only to the configured account.
func (c *Client) sameHost(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return fmt.Errorf("udemy: refusing to follow a next link off %s", c.base.Host)
	}
	return nil
}

// get fetches one page into v, retrying 429, 503, 524 and network errors.
func (c *Client) get(ctx context.Context, u string, v any) error {
	var last error
	for attempt := 0; attempt < c.cfg.Attempts; attempt++ {
		wait, err := c.try(ctx, u, v)
		if err == nil {
			return nil
		}
		last = err
		var re *integrations.RetryableError
		if !errors.As(err, &re) || attempt == c.cfg.Attempts-1 {
			return err
		}
		if wait <= 0 {
			d := c.cfg.Backoff << attempt
			wait = d/2 + rand.N(d/2+1)
		}
		c.log.Debug("udemy: retrying", "status", re.StatusCode, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-t.C:
		}
	}
	return last
}

func (c *Client) try(ctx context.Context, u string, v any) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &integrations.RetryableError{Op: "GET user-course-activity", Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(body, v); err != nil {
			return 0, fmt.Errorf("decode page: %w", err)
		}
		return 0, nil
	case resp.StatusCode == 429 || resp.StatusCode == 503 || resp.StatusCode == 524:
		after := min(integrations.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), 5*time.Minute)
		return after, &integrations.RetryableError{Op: "GET user-course-activity", StatusCode: resp.StatusCode, RetryAfter: after}
	case resp.StatusCode == 401 || resp.StatusCode == 403:
		return 0, fmt.Errorf("HTTP %d: check UDEMY_CLIENT_ID and UDEMY_CLIENT_SECRET (an API client of the account): %w", resp.StatusCode, integrations.ErrUnauthorized)
	}
	return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 200)])))
}
