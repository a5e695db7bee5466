package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/383project/opsbot/metrics"
	"github.com/383project/opsbot/store"
)

// RoleStore is the part of the state store the gate and the role verbs use.
type RoleStore interface {
	Roles(ctx context.Context, userID string) ([]store.Grant, error)
	Grant(ctx context.Context, actor, userID string, g store.Grant, now time.Time) (bool, error)
	Revoke(ctx context.Context, actor, userID string, g store.Grant, now time.Time) (bool, error)
	AllGrants(ctx context.Context) (map[string][]store.Grant, error)
}

// AuditLog reads the audit stream.
type AuditLog interface {
	RecentAudit(ctx context.Context, n int) ([]store.AuditEntry, error)
	FindAudit(ctx context.Context, f store.AuditFilter, limit int) ([]store.AuditEntry, error)
	AuditBetween(ctx context.Context, from, to time.Time) ([]store.AuditEntry, error)
}

// FormNonces makes sealed forms single use: a nonce is claimed when its
// submission is accepted and released when the submission changed nothing
// (a field error keeps the form open). *store.Store satisfies it.
type FormNonces interface {
	ClaimNonce(ctx context.Context, nonce string, ttl time.Duration) (bool, error)
	ReleaseNonce(ctx context.Context, nonce string) error
}

// Deps are the router's collaborators, injected by app (run.go).
type Deps struct {
	Roles      RoleStore
	Audit      AuditLog
	Silences   SilenceStore // nil until run.go wires it: the silence verbs say so
	Alerts     AlertActions // nil: no alert buttons
	Incidents  Incidents    // nil: PagerDuty not configured
	Emails     Emails       // nil: people's emails unknown (console)
	Directory  Directory
	Admins     []string          // bootstrap admins from config: always admin
	Clients    map[string]string // client key → display name
	SigningKey []byte            // seals modal metadata; shared by all replicas
	Nonces     FormNonces        // single-use forms; nil only in tests of other parts
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	Now        func() time.Time

	Sites      SiteView           // nil: uptime monitoring not configured (/ops status says so)
	SLATargets map[string]float64 // client key → monthly uptime target in percent
	OnCall     OnCallSource       // nil: PagerDuty not configured (/ops oncall says so)
	Schedules  map[string]string  // schedule name → PagerDuty schedule ID, from config

	ChangeLog ChangeLogReader // nil: no change log (/ops changelog says so)
	Files     Uploader        // nil: file uploads not wired (/ops changelog export says so)
	Channels  Channels        // whose channels `--here` may share a file in (none: files go to DMs only)
	Freezes   FreezeView      // nil: deploy freezes not wired (/ops freeze says so)

	Servers           ServersView                       // nil: server monitoring not configured (/ops servers says so)
	Thresholds        ThresholdStore                    // nil: /ops threshold says overrides are not available
	ServerThresholds  map[string]store.ServerThresholds // client key → configured thresholds (the client's over servers.thresholds; zero = unset)
	ThresholdDefaults store.ServerThresholds            // built-in defaults (config.DefaultCPU, DefaultFreeStorageGB, DefaultPeriods, DefaultSpikeFactor)

	Costs       CostView           // nil: cost monitoring not configured (/ops cost says so)
	CostRefresh CostRefresher      // nil: `/ops cost --refresh` says it is not available
	CostQuotes  map[string]float64 // client key → monthly hosting quote, for every client with AWS cost scope (0: no quote)

	Changes        ChangeStore    // nil: change requests not wired (/ops change says so)
	Issues         IssueSource    // nil: GitHub not configured (links refused, no pre-fill)
	Smoke          SmokeRunner    // nil: smoke checks cannot run (an admin may waive them)
	DNS            DNSCutter      // nil: no Route 53 (cut-over is done by hand, recorded here)
	StepLeases     StepLeases     // one replica at a time carries a long step; nil: this process alone
	CostEstimates  CostEstimate   // nil: current monthly cost typed by hand
	ChangeSettings ChangeSettings // channels, approvers, approval lifetime

	Shield        ShieldView        // nil: the Shield check is not configured (/ops shield says so)
	ShieldRefresh ShieldRefresher   // nil: /ops shield answers from the last check only
	ShieldLevels  map[string]string // client key → "advanced" or "standard", for every client with an aws block

	Training         TrainingStore    // nil: training compliance not configured (/ops training says so)
	TrainingSettings TrainingSettings // courses, roles, validity

	Scans           ScanStarter     // nil: Detectify not configured (/ops scan says so)
	Findings        FindingsStore   // nil: no findings kept (/ops findings says so)
	Detectify       map[string]bool // clients with a detectify block (paid for); nil: status says nothing of scans
	SecurityChannel string          // where scans and findings are posted

	Checklists        ChecklistStore    // nil: launch checklists not wired (/ops checklist says so)
	ChecklistSettings ChecklistSettings // templates, conditions, verification sources

	// Nudge wakes the outbox worker after a handler queued deliveries, so a
	// message is updated at once instead of at the worker's next poll.
	Nudge func()
	// HomeTab publishes App Home views (nil in the console).
	HomeTab HomeTab
}
