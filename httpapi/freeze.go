package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// FreezeReader answers whether a repository is under a deploy freeze.
// *store.Store satisfies it (httpapi imports nothing of this module).
type FreezeReader interface {
	// ActiveFreeze reports whether repo ("owner/name", any case) is frozen at
	// now and, if so, by which change and until when.
	ActiveFreeze(ctx context.Context, repo string, now time.Time) (changeID string, until time.Time, frozen bool, err error)
}

// freezeRepo is what ?repo= must look like: a GitHub owner (letters, digits,
// hyphens, up to 39, not starting with a hyphen) and a repository name.
var freezeRepo = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`)

const freezeExample = "/v1/freeze?repo=acme/website"

// freezeAnswer is the JSON body of an answer about a freeze.
type freezeAnswer struct {
	Frozen   bool   `json:"frozen"`
	Until    string `json:"until,omitempty"`     // RFC 3339, UTC
	ChangeID string `json:"change_id,omitempty"` // the change request that froze the repository
}

// FreezeHandler serves GET /v1/freeze?repo=owner/name for CI: a deploy step
// runs `curl --fail` on it and stops when the repository is frozen.
//
//   - 200 {"frozen":false}: deploy.
//   - 423 {"frozen":true,"until":"2026-11-22T12:00:00Z","change_id":"CR-7"}:
//     a major change's window is open; do not deploy until then.
//   - 400 {"error":…,"example":…}: repo missing or not "owner/name".
//   - 503 {"error":…}: the freeze state could not be read.
//
// It fails closed: while opsbot's store is down (or no FreezeReader is
// configured) the answer is 503, which makes `curl --fail` fail and so blocks
// every deploy until the store answers again. A freeze that cannot be
// checked is treated as possibly on, because deploying into a cut-over is
// worse than a delayed deploy; a team that must deploy anyway can skip the
// step by hand. now is the clock (time.Now in production).
func FreezeHandler(v FreezeReader, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET", "example": freezeExample})
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		repos := q["repo"]
		switch {
		case err != nil:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the query string is malformed", "example": freezeExample})
			return
		case len(repos) == 0 || repos[0] == "":
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "say which repository: ?repo=owner/name", "example": freezeExample})
			return
		case len(repos) > 1:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "ask about one repository at a time", "example": freezeExample})
			return
		case !freezeRepo.MatchString(repos[0]):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "repo must be a GitHub owner/name (letters, digits, '-' in the owner; letters, digits, '.', '_', '-' in the name)", "example": freezeExample})
			return
		case v == nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "deploy freezes are not configured on this opsbot; failing closed"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		id, until, frozen, err := v.ActiveFreeze(ctx, repos[0], now())
		switch {
		case err != nil:
			// The cause (addresses, Redis messages) stays out of the answer:
			// the port may be reachable from CI; opsbot's own logs and
			// /readyz say what is wrong.
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the freeze state is unavailable; failing closed, retry shortly"})
		case frozen:
			writeJSON(w, http.StatusLocked, freezeAnswer{Frozen: true, Until: until.UTC().Format(time.RFC3339), ChangeID: id})
		default:
			writeJSON(w, http.StatusOK, freezeAnswer{Frozen: false})
		}
	})
}
