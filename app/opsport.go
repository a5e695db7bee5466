package app

// The operations port: health, readiness, metrics and CI's freeze query.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/httpapi"
	"github.com/383project/opsbot/store"
)

// withFreeze adds the deploy-freeze query CI pipelines call
// (`curl --fail .../v1/freeze?repo=owner/name`) to the operations endpoint,
// behind a bearer token when OPSBOT_FREEZE_TOKEN is set.
func withFreeze(st *store.Store, cfg *config.Config, ops http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", ops)
	freeze := httpapi.FreezeHandler(st, nil)
	if tok := cfg.Secrets.FreezeToken.Reveal(); tok != "" {
		freeze = httpapi.RequireBearer(tok, freeze)
	}
	mux.Handle("/v1/freeze", freeze)
	return mux
}

// redisReady is /readyz's Redis check: the answer says so in words, the
// log keeps the cause (it names addresses, which the port does not show).
func redisReady(st *store.Store, log *slog.Logger) httpapi.Check {
	return httpapi.Check{Name: "redis", Down: "Redis is not answering", Run: func(ctx context.Context) error {
		err := st.Ping(ctx)
		if err != nil {
			log.Warn("readiness: redis is not answering", "err", err)
		}
		return err
	}}
}

// serveHTTP runs the operations endpoint until ctx ends, then drains it.
func serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("http endpoint listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}
