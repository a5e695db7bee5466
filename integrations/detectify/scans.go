package detectify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/383project/opsbot/integrations"
)

// tokenForm is a scan profile token as Detectify issues them (32 hex
// characters). Anything else is refused before a request carries it into
// a path.
var tokenForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidToken reports whether s looks like a scan profile token.
func ValidToken(s string) bool { return tokenForm.MatchString(s) }

type profileJSON struct {
	Name       string    `json:"name"`
	Endpoint   string    `json:"endpoint"`
	Token      string    `json:"token"`
	Status     string    `json:"status"`
	Created    time.Time `json:"created"`
	LatestScan *struct {
		Started time.Time `json:"started"`
		Ended   time.Time `json:"ended"`
		Status  string    `json:"status"`
	} `json:"latest_scan"`
}

// Profiles lists the team's scan profiles (GET /v2/profiles/, a JSON array),
// with how each one's latest scan ended.
func (c *Client) Profiles(ctx context.Context) ([]integrations.ScanProfile, error) {
	var raw []profileJSON
	if err := c.call(ctx, "list scan profiles", http.MethodGet, "/v2/profiles/", nil, &raw); err != nil {
		return nil, err
	}
	out := make([]integrations.ScanProfile, 0, len(raw))
	for _, p := range raw {
		sp := integrations.ScanProfile{Token: p.Token, Name: p.Name, Endpoint: p.Endpoint, Verified: p.Status == "verified"}
		if p.LatestScan != nil {
			sp.Latest = integrations.ScanOutcome{Started: p.LatestScan.Started, Ended: p.LatestScan.Ended, Status: p.LatestScan.Status}
		}
		out = append(out, sp)
	}
	return out, nil
}

// StartScan starts a scan of the profile (POST /v2/scans/{token}/, 202).
// A scan already running answers integrations.ErrScanRunning (409), an
// unverified domain integrations.ErrNotVerified (423), an unknown token
// integrations.ErrBadRequest (400).
func (c *Client) StartScan(ctx context.Context, token string) error {
	if !ValidToken(token) {
		return fmt.Errorf("detectify: start scan: a profile token is 32 hex characters: %w", integrations.ErrBadRequest)
	}
	return c.call(ctx, "start scan", http.MethodPost, "/v2/scans/"+url.PathEscape(token)+"/", nil, nil)
}

// endedStates are scan states that mean nothing is running any more, should
// the status endpoint report a finished scan instead of answering 404.
var endedStates = map[string]bool{"completed": true, "finished": true, "stopped": true, "failed": true, "cancelled": true}

// ScanStatus reports the scan running on the profile (GET /v2/scans/{token}/).
// Detectify answers 404 when no scan is running (or the profile is unknown):
// that is Running false, not an error; Profiles tells how the last one ended.
func (c *Client) ScanStatus(ctx context.Context, token string) (integrations.ScanStatus, error) {
	if !ValidToken(token) {
		return integrations.ScanStatus{}, fmt.Errorf("detectify: scan status: a profile token is 32 hex characters: %w", integrations.ErrBadRequest)
	}
	var raw struct {
		Token   string    `json:"scan_profile_token"`
		Created time.Time `json:"created"`
		Phase   string    `json:"phase"`
		State   string    `json:"state"`
	}
	err := c.call(ctx, "scan status", http.MethodGet, "/v2/scans/"+url.PathEscape(token)+"/", nil, &raw)
	if errors.Is(err, integrations.ErrNotFound) {
		return integrations.ScanStatus{Profile: token}, nil
	}
	if err != nil {
		return integrations.ScanStatus{}, err
	}
	return integrations.ScanStatus{Profile: token, Running: !endedStates[raw.State], Phase: raw.Phase, State: raw.State, Created: raw.Created}, nil
}
