package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/383project/opsbot/commands"
	"github.com/383project/opsbot/config"
	"github.com/383project/opsbot/integrations/detectify"
	"github.com/383project/opsbot/jobs"
	"github.com/383project/opsbot/store"
)

// scanWiring is the Detectify half of capability 3 wired from config: the
// scan monitor (following running scans every detectify.poll_interval),
// each client's scheduled scans, the weekly findings digest, and what
// /ops scan, /ops findings and /ops status read.
type scanWiring struct {
	scans   *jobs.Scans // nil: no client pays for scans, or no DETECTIFY_API_KEY
	paid    map[string]bool
	channel string
	st      *store.Store
}

func newScanWiring(cfg *config.Config, st *store.Store, bg *background, log *slog.Logger) (*scanWiring, error) {
	w := &scanWiring{paid: map[string]bool{}, channel: cfg.Channels.Security, st: st}
	var clients []jobs.ScanClient
	for _, key := range cfg.DetectifyClients() {
		cl := cfg.Clients[key]
		w.paid[key] = true
		clients = append(clients, jobs.ScanClient{Key: key, Name: cl.Name, Profiles: cl.Detectify.Profiles,
			Routing: cl.Detectify.Routing, PagerRef: cfg.PagerRef(key)})
	}
	if len(clients) == 0 {
		return w, nil
	}
	if cfg.Secrets.DetectifyKey == "" {
		log.Warn("clients have a detectify block but DETECTIFY_API_KEY is not set: no scans, no findings", "clients", len(clients))
		return w, nil
	}
	src := detectify.New(detectify.Config{APIURL: cfg.Integrations.Detectify.APIURL, Key: cfg.Secrets.DetectifyKey.Reveal(),
		Secret: cfg.Secrets.DetectifySecret.Reveal()}, &http.Client{Timeout: 60 * time.Second}, log.With("component", "detectify"))
	w.scans = jobs.NewScans(clients, src, st, bg.alerter, jobs.ScanOptions{Channel: cfg.Channels.Security,
		Logger: log.With("component", "scans"), Nudge: bg.changed})
	if err := bg.sched.Add("@every "+cfg.Detectify.PollInterval.Std().String(), w.scans); err != nil {
		return nil, err
	}
	for _, key := range cfg.DetectifyClients() {
		if spec := cfg.Clients[key].Detectify.Schedule; spec != config.ScheduleOff {
			if err := bg.sched.Add(spec, w.scans.Scheduled(key)); err != nil {
				return nil, fmt.Errorf("clients.%s.detectify.schedule: %w", key, err)
			}
		}
	}
	if err := bg.sched.Add(cfg.Detectify.Digest, w.scans.Digest()); err != nil {
		return nil, fmt.Errorf("detectify.digest: %w", err)
	}
	return w, nil
}

// wire hands the router what the scan and finding verbs use.
func (w *scanWiring) wire(d *commands.Deps) {
	d.Detectify, d.SecurityChannel = w.paid, w.channel
	if w.scans != nil {
		d.Scans, d.Findings = w.scans, w.st
	}
}
