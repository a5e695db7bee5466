package jobs_test

// The scan monitor's test rig: the Detectify fake behind the real client,
// the monitor on a real Redis with a clock of its own (the fake shares it),
// and readers of what it queued.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/383project/opsbot/integrations/detectify"
	"github.com/383project/opsbot/integrations/detectify/detectifytest"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
	"github.com/383project/opsbot/store/redistest"
	"github.com/redis/go-redis/v9"
)

const securityChannel = "C0SECURITY1"

type scanRig struct {
	st    *store.Store
	rdb   *redis.Client
	fake  *detectifytest.Server
	scans *jobs.Scans
	acme  string // acme's profile token (shop.acme.example)
	beta  string // beta's profile token (acme.example: the parent domain)

	mu   sync.Mutex
	at   time.Time // the rig's clock, moved on by tick and advance
	real bool      // the clock is the wall clock (for tests that deliver)
}

func (r *scanRig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.real {
		return time.Now()
	}
	return r.at
}

func (r *scanRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = r.at.Add(d)
}

// newScanRig is the rig on a clock of its own, from a fixed date.
func newScanRig(t *testing.T) *scanRig { return newScanRigClock(t, false) }

// newScanRigClock is the rig on the wall clock when real (an outbox that
// delivers judges due times by it), else on its own clock.
func newScanRigClock(t *testing.T, real bool) *scanRig {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	r := &scanRig{st: store.New(rdb, "opsbot:"), rdb: rdb, fake: detectifytest.New(t), at: srvT0, real: real}
	r.fake.SetClock(r.now)
	r.acme = r.fake.AddProfile(detectifytest.Profile{Name: "Acme shop", Endpoint: "shop.acme.example", Verified: true})
	r.beta = r.fake.AddProfile(detectifytest.Profile{Name: "Beta", Endpoint: "acme.example", Verified: true})
	src := detectify.New(detectify.Config{APIURL: r.fake.APIURL(), Key: detectifytest.Key, MaxRetryWait: 10 * time.Millisecond}, r.fake.Client(), nil)
	routing := map[string]string{"critical": "page", "high": "page", "medium": "digest", "low": "digest", "information": "none"}
	r.scans = jobs.NewScans([]jobs.ScanClient{
		{Key: "acme", Name: "Acme <Ltd>", Profiles: []string{r.acme}, Routing: routing, PagerRef: "acme"},
		{Key: "beta", Name: "Beta", Profiles: []string{r.beta}, Routing: routing, PagerRef: "beta"},
	}, src, r.st, jobs.NewAlerter(r.st, nil), jobs.ScanOptions{Channel: securityChannel, Now: r.now})
	return r
}

// tick runs the follower once and moves the clock a minute on.
func (r *scanRig) tick(t *testing.T) {
	t.Helper()
	if err := r.scans.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.advance(time.Minute)
}

// scanToEnd starts a scan of acme and follows it until it is over.
func (r *scanRig) scanToEnd(t *testing.T) store.ScanRun {
	t.Helper()
	if _, err := r.scans.Start(context.Background(), "acme", "USEC1"); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		r.tick(t)
		run, _, err := r.st.LastScanRun(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if run.Finished() {
			return run
		}
	}
	t.Fatal("the scan never finished")
	return store.ScanRun{}
}

func (r *scanRig) clearOutbox(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	keys, _ := r.rdb.Keys(ctx, "opsbot:outbox:*").Result()
	if len(keys) > 0 {
		r.rdb.Del(ctx, keys...)
	}
}

// kinds counts the queued deliveries by kind.
func (r *scanRig) kinds(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, q := range outbox(t, r.rdb) {
		out[q.Kind]++
	}
	return out
}

// messages are the texts (with blocks) of the queued kept messages of key.
func (r *scanRig) messages(t *testing.T, key string) []string {
	t.Helper()
	var out []string
	for _, q := range outbox(t, r.rdb) {
		if q.Kind == store.KindKeptMessage && q.Subject == key {
			out = append(out, fmt.Sprint(q.Payload["text"], q.Payload["blocks"]))
		}
	}
	return out
}

func high(uuid, path string) detectifytest.Finding {
	return detectifytest.Finding{UUID: uuid, Title: "Reflected <script> XSS", Severity: "high", Host: "shop.acme.example",
		Location: "https://shop.acme.example/" + path, CWE: 79}
}

func medium(uuid string) detectifytest.Finding {
	return detectifytest.Finding{UUID: uuid, Title: "Missing CSP", Severity: "medium", Host: "shop.acme.example",
		Location: "https://shop.acme.example/", CWE: 1021}
}

func contains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
