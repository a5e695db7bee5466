// Package httpapi serves opsbot's operations endpoints: /healthz (the
// process is alive), /readyz (its dependencies answer), /metrics and CI's
// /v1/freeze (optionally behind a bearer token, RequireBearer).
package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one readiness dependency; Run returns nil when healthy.
type Check struct {
	Name string
	// Down says in words what is wrong when Run fails ("Redis is not
	// answering"). Run's error is never shown: it names addresses and
	// ports, and the port may be reachable by more people than the logs.
	Down string
	// Plain marks a check whose error holds no address and is worth
	// showing as it is (e.g. which configured channel does not resolve).
	Plain bool
	Run   func(ctx context.Context) error
}

// Handler builds the mux. Readiness runs every check with a short timeout
// and answers 503 naming the failing ones in words, so a load balancer or
// Kubernetes stops sending work to a replica that lost Redis or Slack.
func Handler(metrics http.Handler, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, results := http.StatusOK, map[string]string{}
		for _, c := range checks {
			if err := c.Run(ctx); err != nil {
				status, results[c.Name] = http.StatusServiceUnavailable, cmp.Or(c.Down, "unavailable")
				if c.Plain {
					results[c.Name] = err.Error()
				}
			} else {
				results[c.Name] = "ok"
			}
		}
		word := "ready"
		if status != http.StatusOK {
			word = "not ready"
		}
		writeJSON(w, status, map[string]any{"status": word, "checks": results})
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
