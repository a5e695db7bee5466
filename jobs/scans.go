package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/383project/opsbot/integrations"
	"github.com/383project/opsbot/store"
)

// ScanSource is the web-application scanner (integrations/detectify
// satisfies it).
type ScanSource interface {
	Profiles(ctx context.Context) ([]integrations.ScanProfile, error)
	StartScan(ctx context.Context, token string) error
	ScanStatus(ctx context.Context, token string) (integrations.ScanStatus, error)
	Findings(ctx context.Context) ([]integrations.Finding, error)
}

// ScanStore is the part of the state store scans and findings need.
// *store.Store satisfies it.
type ScanStore interface {
	StartScanRun(ctx context.Context, run store.ScanRun, now time.Time, items []store.OutboxItem) (store.ScanRun, error)
	UpdateScanRun(ctx context.Context, client string, now time.Time, fn func(r *store.ScanRun) ([]store.OutboxItem, error)) (store.ScanRun, error)
	ActiveScanRuns(ctx context.Context) ([]store.ScanRun, error)
	LastScanRun(ctx context.Context, client string) (store.ScanRun, bool, error)
	ClientFindings(ctx context.Context, client string) (map[string]store.Finding, map[string]store.Acceptance, error)
	SaveFindings(ctx context.Context, client string, all map[string]store.Finding, ids []string, sum *store.FindingSummary) error
	FindingsOf(ctx context.Context, clients []string) (store.FindingsOverview, error)
	DueAcceptances(ctx context.Context, now time.Time, limit int) ([]store.Acceptance, error)
	EndAcceptance(ctx context.Context, a store.Acceptance, now time.Time) (bool, error)
	Enqueue(ctx context.Context, now time.Time, items ...store.OutboxItem) error
}

// ScanClient is a client that pays for scans.
type ScanClient struct {
	Key      string
	Name     string
	Profiles []string          // scan profile tokens
	Routing  map[string]string // severity → "page", "post", "digest" or "none"
	PagerRef string            // names the PagerDuty routing key (the client key); never the key itself
}

// route is where a finding of severity goes (unknown severities: the digest).
func (c ScanClient) route(severity string) string { return cmp.Or(c.Routing[severity], "digest") }

// ScanOptions tune the scan monitor; zero values get defaults.
type ScanOptions struct {
	Channel    string // the security channel: progress, findings, digest
	Logger     *slog.Logger
	Now        func() time.Time
	Nudge      func()        // wakes the outbox worker
	MaxRunTime time.Duration // a scan still running after this is given up on; 24h
	// ProfileGrace is how long a profile the scanner says is not running may
	// have no newer finished scan before it counts as ended without
	// completing (a start that never took); 10m.
	ProfileGrace time.Duration
}

// Scans starts Detectify scans, follows them to the end (one message each,
// updated in place), applies their findings and raises alerts on the
// transitions. Run is the follower, scheduled every poll interval on one
// replica; Start is called by /ops scan and by each client's schedule.
type Scans struct {
	clients map[string]ScanClient
	order   []string
	src     ScanSource
	st      ScanStore
	al      *Alerter
	o       ScanOptions
	log     *slog.Logger
}

// NewScans builds the scan monitor.
func NewScans(clients []ScanClient, src ScanSource, st ScanStore, al *Alerter, o ScanOptions) *Scans {
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	if o.Now == nil {
		o.Now = time.Now
	}
	o.MaxRunTime, o.ProfileGrace = cmp.Or(o.MaxRunTime, 24*time.Hour), cmp.Or(o.ProfileGrace, 10*time.Minute)
	s := &Scans{clients: map[string]ScanClient{}, src: src, st: st, al: al, o: o, log: o.Logger}
	for _, c := range clients {
		s.clients[c.Key] = c
		s.order = append(s.order, c.Key)
	}
	return s
}

// Name implements Job: the follower of running scans.
func (s *Scans) Name() string { return "scans" }

// Errors of Start, for the caller to put in words.
var (
	// ErrUnknownScanClient: the client does not pay for scans.
	ErrUnknownScanClient = errors.New("the client has no Detectify profiles")
	// ErrScanRunExists (store's): a scan of the client is already running;
	// Start returns that run with it.
	ErrScanRunExists = store.ErrScanRunExists
)

// Start starts a scan of every profile of client (by: the person, "" for
// the schedule), records the run and queues its message. A client with a
// run still going gets that run and ErrScanRunExists; profiles the scanner
// refuses are noted, and when it refuses them all nothing is recorded and a
// *integrations.ScanRefusedError says why.
func (s *Scans) Start(ctx context.Context, client, by string) (store.ScanRun, error) {
	cl, ok := s.clients[client]
	if !ok {
		return store.ScanRun{}, fmt.Errorf("scan %s: %w", client, ErrUnknownScanClient)
	}
	if cur, ok, err := s.st.LastScanRun(ctx, client); err != nil {
		return store.ScanRun{}, err
	} else if ok && !cur.Finished() {
		return cur, ErrScanRunExists
	}
	profiles, err := s.src.Profiles(ctx)
	if err != nil {
		return store.ScanRun{}, fmt.Errorf("scan %s: list profiles: %w", client, err)
	}
	known := map[string]integrations.ScanProfile{}
	for _, p := range profiles {
		known[p.Token] = p
	}
	now := s.o.Now()
	run := store.ScanRun{ID: newRunID(), Client: client, By: by, Started: now, Status: store.ScanRunning, Channel: s.o.Channel}
	refused := &integrations.ScanRefusedError{Client: client, Reasons: map[string]string{}}
	for _, tok := range cl.Profiles {
		p, ok := known[tok]
		pr := store.ScanProfileRun{Token: tok, Name: p.Name, Endpoint: p.Endpoint}
		if !ok {
			refused.Reasons[tok] = "Detectify has no such profile in this team (check the token in opsbot.yaml)"
			pr.Done, pr.Outcome = true, "not started: unknown profile"
			run.Profiles = append(run.Profiles, pr)
			continue
		}
		err := s.src.StartScan(ctx, tok)
		switch {
		case err == nil:
		case errors.Is(err, integrations.ErrScanRunning):
			pr.Note = "a scan was already running at Detectify: following it"
		case errors.Is(err, integrations.ErrNotVerified):
			refused.Reasons[tok] = "the domain " + p.Endpoint + " is not verified at Detectify, so it cannot be scanned (verify it in the Detectify dashboard)"
			refused.NotVerified = append(refused.NotVerified, tok)
			pr.Done, pr.Outcome = true, "not started: domain not verified"
		case errors.Is(err, integrations.ErrUnauthorized):
			return store.ScanRun{}, fmt.Errorf("scan %s: %w", client, err)
		default:
			if ctx.Err() != nil {
				return store.ScanRun{}, err
			}
			refused.Reasons[tok] = "Detectify did not start it (" + startTrouble(err) + ")"
			pr.Done, pr.Outcome = true, "not started: "+startTrouble(err)
			s.log.Warn("scan start failed", "client", client, "profile", tok, "err", err)
		}
		run.Profiles = append(run.Profiles, pr)
	}
	if len(refused.Reasons) == len(cl.Profiles) {
		return store.ScanRun{}, refused
	}
	item, err := s.message(cl, run, now)
	if err != nil {
		return store.ScanRun{}, err
	}
	run, err = s.st.StartScanRun(ctx, run, now, []store.OutboxItem{item})
	if err == nil && s.o.Nudge != nil {
		s.o.Nudge()
	}
	return run, err
}

// startTrouble says why a start failed, without the vendor's details.
func startTrouble(err error) string {
	if ok, after := integrations.IsRetryable(err); ok {
		if after > 0 {
			return "Detectify is busy; it asked to wait " + human(after)
		}
		return "Detectify did not answer properly; try again later"
	}
	if errors.Is(err, integrations.ErrBadRequest) {
		return "Detectify refused the profile token"
	}
	return "an unexpected answer from Detectify"
}

func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Scheduled is the job that starts client's scheduled scan.
func (s *Scans) Scheduled(client string) Job { return scheduledScan{s: s, client: client} }

type scheduledScan struct {
	s      *Scans
	client string
}

func (j scheduledScan) Name() string { return "scan-" + j.client }

// Run starts the scan; a scan already running is left to finish, and a
// refusal is posted to the security channel (nobody else would see it).
func (j scheduledScan) Run(ctx context.Context) error {
	_, err := j.s.Start(ctx, j.client, "")
	var refused *integrations.ScanRefusedError
	switch {
	case errors.Is(err, ErrScanRunExists):
		j.s.log.Info("scheduled scan skipped: one is running", "client", j.client)
		return nil
	case errors.As(err, &refused):
		text := fmt.Sprintf(":warning: The scheduled Detectify scan of *%s* did not start:\n%s", escape(j.s.clients[j.client].Name), refusalLines(refused))
		it, ierr := store.NewOutboxItem(store.KindSlackPost, "scan/"+j.client, store.PostPayload{Channel: j.s.o.Channel, Text: text}, j.s.o.Now())
		if ierr != nil {
			return ierr
		}
		return j.s.st.Enqueue(ctx, j.s.o.Now(), it)
	}
	return err
}
