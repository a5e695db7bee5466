package github

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/383project/opsbot/integrations/github/githubtest"
)

// A bad link is refused before any I/O: neither the API fake nor the host
// the link names sees a request. A ref's host never redirects the client.
func TestBadLinksMakeNoRequest(t *testing.T) {
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { evilHits.Add(1) }))
	defer evil.Close()
	fake := fakeWithIssue(t)
	c, _ := newClient(t, Config{APIURL: fake.APIURL(), Token: githubtest.Token})
	rules := LinkRules{EnterpriseHosts: []string{"ghe.example.com"}}
	bad := []string{
		"http://evil.example/o/r/issues/1", "javascript:", "github.com/o/../r",
		"https://github.com/o/r/issues/-1", "https://github.com/o/r/issues/99999999999999999999",
		strings.Repeat("https://github.com/acme/web/issues/42 ", 140), evil.URL + "/acme/web/issues/42",
		"<" + evil.URL + "/acme/web/issues/42|acme/web#42>", "https://" + githubtest.Token + "@github.com/a/b/issues/1",
	}
	for _, link := range bad {
		ref, err := ParseIssueLink(link, rules)
		if err == nil {
			t.Errorf("ParseIssueLink(%.60q) accepted %+v", link, ref)
			_, _ = c.Issue(context.Background(), ref)
		}
	}
	// Hand-built refs that would inject path segments are refused too.
	for _, ref := range []IssueRef{{Owner: "..", Repo: "x", Number: 1}, {Owner: "a", Repo: "b/../../user", Number: 1},
		{Owner: "a", Repo: "b", Number: 0}, {Owner: "a?x=", Repo: "b", Number: 1}} {
		if _, err := c.Issue(context.Background(), ref); err == nil {
			t.Errorf("Issue(%+v) accepted", ref)
		}
		if _, err := c.Comment(context.Background(), ref, "x"); err == nil {
			t.Errorf("Comment(%+v) accepted", ref)
		}
	}
	if n := len(fake.Requests()); n != 0 || evilHits.Load() != 0 {
		t.Fatalf("requests: fake %d, evil %d; want none", n, evilHits.Load())
	}
	// The ref's host selects nothing: the call goes to the configured API.
	ref := acme42
	ref.Host = strings.TrimPrefix(evil.URL, "http://")
	if _, err := c.Issue(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 1 || evilHits.Load() != 0 {
		t.Errorf("requests: fake %d, evil %d; want 1, 0", n, evilHits.Load())
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	var evilAuth atomic.Value
	evil := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { evilAuth.Store(r.Header.Get("Authorization")) }))
	defer evil.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer api.Close()
	c, _ := newClient(t, Config{APIURL: api.URL + "/", Token: githubtest.Token})
	if _, err := c.Issue(context.Background(), acme42); err == nil {
		t.Error("want an error for a cross-host redirect")
	}
	if evilAuth.Load() != nil {
		t.Errorf("redirect followed to another host")
	}
}
