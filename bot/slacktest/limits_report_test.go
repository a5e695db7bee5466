package slacktest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/383project/opsbot/bot/slacktest"
)

// cleanupTB runs a fake under a test whose Errorf and Cleanup are recorded,
// to see what the fake reports when the test ends.
type cleanupTB struct {
	*testing.T
	errs     []string
	cleanups []func()
}

func (c *cleanupTB) Errorf(format string, a ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, a...))
}
func (c *cleanupTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }
func (c *cleanupTB) end() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// A refusal the code under test swallowed still fails the test, unless the
// test said it expects refusals.
func TestUnexpectedRefusalFailsTheTest(t *testing.T) {
	for _, expect := range []bool{false, true} {
		tb := &cleanupTB{T: t}
		fake := slacktest.New(tb)
		if expect {
			fake.ExpectRefusals()
		}
		got := post(t, fake, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}, "blocks": {`[{"type":"header","text":{"type":"plain_text","text":""}}]`}})
		if got["error"] != "invalid_blocks" {
			t.Fatalf("empty header = %v", got)
		}
		if r := fake.Refusals(); len(r) != 1 || !strings.HasPrefix(r[0], "chat.postMessage: slack: invalid_blocks: must be more than 0 characters") {
			t.Errorf("Refusals = %q", r)
		}
		tb.end()
		if failed := len(tb.errs) == 1 && strings.Contains(tb.errs[0], "would have refused 1 payload"); failed == expect {
			t.Errorf("ExpectRefusals %v: end-of-test errors %q", expect, tb.errs)
		}
	}
}
