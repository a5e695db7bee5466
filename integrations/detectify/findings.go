package detectify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/383project/opsbot/integrations"
)

// PageSize is the page size asked of /v2/vulnerabilities/.
const PageSize = 100

// maxPages stops a marker chain that never ends (5,000 findings are 50 pages).
const maxPages = 10000

// pageAttempts is how often one page is tried before the read gives up.
const pageAttempts = 5

type findingJSON struct {
	UUID      string    `json:"uuid"`
	Title     string    `json:"title"`
	Severity  string    `json:"severity"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Asset     struct {
		Name string `json:"name"`
	} `json:"asset"`
	Host       string `json:"host"`
	Location   string `json:"location"`
	Definition struct {
		Title string `json:"title"`
	} `json:"definition"`
	CWE  int `json:"cwe"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Links struct {
		DetailsPage string `json:"details_page"`
	} `json:"links"`
	Request *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response *struct {
		StatusCode int `json:"status_code"`
	} `json:"response"`
}

type findingsPage struct {
	Vulnerabilities []findingJSON `json:"vulnerabilities"`
	HasMore         bool          `json:"has_more"`
	NextMarker      string        `json:"next_marker"`
}

// maxRequest bounds the request line kept of a finding.
const maxRequest = 300

// Findings reads every finding of the team (GET /v2/vulnerabilities/,
// following next_marker while has_more). A page answered 429 or 5xx is tried
// again (Retry-After, else 1 s doubling, each wait at most MaxRetryWait) up
// to 5 times; past that, or when the vendor asks for a longer wait, the
// read ends with the *integrations.RetryableError.
func (c *Client) Findings(ctx context.Context) ([]integrations.Finding, error) {
	var out []integrations.Finding
	marker := ""
	seen := map[string]bool{}
	for range maxPages {
		page, err := c.findingsPage(ctx, marker)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Vulnerabilities {
			out = append(out, convert(f))
		}
		if !page.HasMore {
			return out, nil
		}
		if page.NextMarker == "" || seen[page.NextMarker] {
			return nil, errors.New("detectify: list findings: has_more without a new next_marker")
		}
		seen[page.NextMarker] = true
		marker = page.NextMarker
	}
	return nil, fmt.Errorf("detectify: list findings: more than %d pages", maxPages)
}

// findingsPage reads one page, retrying 429/5xx within MaxRetryWait.
func (c *Client) findingsPage(ctx context.Context, marker string) (findingsPage, error) {
	q := url.Values{"marker": {marker}, "page_size": {strconv.Itoa(PageSize)}}
	wait := time.Second
	for attempt := 1; ; attempt++ {
		var page findingsPage
		err := c.call(ctx, "list findings", http.MethodGet, "/v2/vulnerabilities/", q, &page)
		retryable, after := integrations.IsRetryable(err)
		if !retryable || attempt == pageAttempts || after > c.maxWait || ctx.Err() != nil {
			return page, err
		}
		d := min(wait, c.maxWait)
		if after > 0 {
			d = after
		}
		wait *= 2
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return page, fmt.Errorf("detectify: list findings: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// convert maps Detectify's finding to the vendor-neutral one. The OWASP
// category comes from an OWASP 2021 tag when there is one, else from the CWE.
func convert(f findingJSON) integrations.Finding {
	out := integrations.Finding{ID: strings.ToLower(strings.TrimSpace(f.UUID)), Title: f.Title, Severity: severity(f.Severity),
		Status: f.Status, CWE: f.CWE, Asset: f.Asset.Name, Host: f.Host, Location: f.Location,
		Link: f.Links.DetailsPage, Created: f.CreatedAt, Updated: f.UpdatedAt}
	if out.Title == "" {
		out.Title = f.Definition.Title
	}
	for _, t := range f.Tags {
		if o := integrations.OWASPFromTag(t.Name); o != "" {
			out.OWASP = o
			break
		}
	}
	if out.OWASP == "" {
		out.OWASP = integrations.OWASPCategory(f.CWE)
	}
	if f.Request != nil && f.Request.URL != "" {
		out.Request = truncate(strings.ToUpper(f.Request.Method)+" "+f.Request.URL, maxRequest)
	}
	if f.Response != nil {
		out.ResponseStatus = f.Response.StatusCode
	}
	return out
}

// severity normalises Detectify's severity word; unknown ones read as
// information, so nothing unknown pages anyone.
func severity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "info", "informational":
		return integrations.FindingInfo
	}
	for _, known := range integrations.FindingSeverities {
		if s == known {
			return s
		}
	}
	return integrations.FindingInfo
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "…"
}
