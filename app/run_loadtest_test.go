package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/383project/opsbot/bot/slacktest"
	"github.com/383project/opsbot/integrations/loaderio/loaderiotest"
	"github.com/383project/opsbot/store"
)

// startLoad is opsbot with a "load" template of one item, the load test,
// run on the loader.io fake against a local site serving its
// verification file while serving is set.
func startLoad(t *testing.T) (*launchEnv, *loaderiotest.Server, *atomic.Bool) {
	t.Helper()
	fake := loaderiotest.New(t)
	serving := &atomic.Bool{}
	serving.Store(true)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+loadToken+".txt" && serving.Load() {
			_, _ = w.Write([]byte(loadToken))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(site.Close)
	fake.Verify(strings.TrimPrefix(site.URL, "http://"), loadToken)
	cfg := filepath.Join(t.TempDir(), "opsbot.yaml")
	yaml := `channels:
  support: "#ops-support"
checklists:
  loadtest_poll: 50ms
  templates:
    load:
      items:
        - {key: loadtest, title: Load test passed, kind: verified, check: loadtest}
clients:
  acme:
    name: Acme Ltd
    channels:
      general: "#acme"
    launch:
      loadtest: {url: "` + site.URL + `/", token: ` + loadToken + `, total: 250, duration: 60, max_avg_ms: 500, max_error_rate: 1}
integrations:
  loaderio:
    api_url: ` + fake.APIURL() + `
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &launchEnv{opsbot: start(t, map[string]string{"OPSBOT_CONFIG": cfg, "LOADERIO_API_KEY": loaderiotest.Key})}
	e.st = store.New(e.redis.Connect(t), "opsbot:")
	if got := e.commandIn(t, admin, "C0SUPPORT", "checklist new acme load"); !strings.Contains(got, "L-1 opened") {
		t.Fatalf("new: %s\nlogs:\n%s", got, e.logs)
	}
	e.posted(t, "L-1")
	return e, fake, serving
}

// TestChecklistLoadTestEndToEnd: Re-verify runs the loader.io test through
// Slack: the checklist's one message shows the run's progress and then the
// report; errors over the threshold fail the item, said in the thread; a
// verification file gone fails it in words without creating a test.
func TestChecklistLoadTestEndToEnd(t *testing.T) {
	t.Parallel()
	e, fake, serving := startLoad(t)
	fake.SetOutcome(loaderiotest.Outcome{Success: 6000, AvgResponseTime: 120}, 6)
	started := time.Now()
	e.verify(t, admin, "checklist.reverify", "L-1")
	if _, err := e.fake.WaitCall("chat.update", func(c slacktest.Call) bool {
		return !c.At.Before(started) && strings.Contains(c.Form.Get("blocks"), "load test running")
	}, wait); err != nil {
		t.Fatalf("the message never showed the run's progress: %v", err)
	}
	cl := e.checklist(t, "L-1")
	it := cl.Items[0]
	if it.State != store.ItemVerified || !strings.HasPrefix(it.URL, "https://loader.io/reports/") || !strings.Contains(it.Detail, "6000 requests, 0 errors") {
		t.Fatalf("after a passing run: %+v", it)
	}
	if c := fake.Created(); len(c) != 1 || c[0]["test_type"] != "per-test" || c[0]["total"] != float64(250) {
		t.Fatalf("tests created: %+v", c)
	}
	var top []slacktest.Message
	deadline := time.Now().Add(wait)
	for {
		top = top[:0]
		for _, m := range e.fake.Messages(cl.Channel) {
			if m.ThreadTS == "" || m.ThreadTS == m.TS {
				top = append(top, m)
			}
		}
		if len(top) == 1 && strings.Contains(string(top[0].Blocks), it.URL+"|evidence") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want one message linking the report %s, got %+v", it.URL, top)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if top[0].Updated < 3 {
		t.Fatalf("the message was updated %d times: progress is shown by updating it", top[0].Updated)
	}

	fake.SetOutcome(loaderiotest.Outcome{Success: 5000, Error: 400, AvgResponseTime: 90, AvgErrorRate: 7.4}, 1)
	e.verify(t, admin, "checklist.reverify", "L-1")
	if it := e.checklist(t, "L-1").Items[0]; it.State != store.ItemFailing || !strings.Contains(it.Detail, "error rate 7.40 % (max 1.00 %)") {
		t.Fatalf("after a failing run: %+v", it)
	}
	e.threadHas(t, cl, "❌ Load test passed", "error rate 7.40 %")

	serving.Store(false)
	e.verify(t, admin, "checklist.reverify", "L-1")
	if it := e.checklist(t, "L-1").Items[0]; it.State != store.ItemFailing || !strings.Contains(it.Detail, "verification file missing") || !strings.Contains(it.Detail, "no test was started") {
		t.Fatalf("verification file gone: %+v", it)
	}
	if n := len(fake.Created()); n != 2 {
		t.Fatalf("%d tests created, want 2: none without the verification file", n)
	}
}

// The replica carrying a re-verification is killed (SIGKILL) while its
// load test runs: another replica takes the run up once the lease lapses,
// says so in the thread, finds loader.io's lock free (it is renewed only
// while its holder lives), reads the test the killed replica started
// (loader.io would refuse a second one while it runs) and records it.
func TestChecklistRunResumedWhenItsReplicaIsKilled(t *testing.T) {
	t.Parallel()
	e, fake, _ := startLoad(t)
	fake.SetOutcome(loaderiotest.Outcome{Success: 6000, AvgResponseTime: 120}, 1_000_000)
	e.halt(t)
	kill := e.spawnReplica(t)
	if got := e.press(t, admin, "checklist.reverify", "L-1"); !strings.Contains(got, "Re-verifying") {
		t.Fatalf("re-verify: %s", got)
	}
	// Killed once the test it started is kept (killed between loader.io's
	// answer and that write, the next replica would start another test).
	deadline := time.Now().Add(wait)
	for {
		if _, kept, err := e.st.CurrentLoadRun(context.Background()); err != nil || kept {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load test never started\nlogs:\n%s", e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kill()
	killed := time.Now()
	if cl := e.checklist(t, "L-1"); cl.Run == nil || cl.Run.Runs != 1 {
		t.Fatalf("after the kill: %+v", cl.Run)
	}
	fake.Finish() // the killed replica's test ends on loader.io's side

	e.runReplica(t)
	deadline = time.Now().Add(90 * time.Second)
	cl := e.checklist(t, "L-1")
	for ; cl.Run != nil; cl = e.checklist(t, "L-1") {
		if time.Now().After(deadline) {
			t.Fatalf("the run was not carried on: %+v\nlogs:\n%s", *cl.Run, e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if it := cl.Items[0]; it.State != store.ItemVerified || !strings.Contains(it.Detail, "average 120 ms") || !strings.HasPrefix(it.URL, "https://loader.io/reports/") {
		t.Fatalf("after the resume: %+v\nlogs:\n%s", it, e.logs)
	}
	if n := len(fake.Created()); n != 1 {
		t.Fatalf("%d tests created: the resumed run started another instead of reading the killed replica's", n)
	}
	e.threadHas(t, cl, "re-verification resumed")
	t.Logf("re-verification resumed and recorded %v after its replica was killed", time.Since(killed).Round(time.Millisecond))
}
