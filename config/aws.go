package config

import "time"

// ClientAWS is where a client's servers and costs live in AWS. Cost Explorer
// is read in the agency's payer account (Integrations.AWS); the client's
// costs are selected by AccountID (LINKED_ACCOUNT) and/or CostTag. Servers
// are read in the client's account: through RoleARN when set, else with
// opsbot's own credentials.
type ClientAWS struct {
	AccountID string   `yaml:"account_id"` // 12 digits; Cost Explorer LINKED_ACCOUNT
	CostTag   *Tag     `yaml:"cost_tag"`   // cost allocation tag selecting the client's costs
	Regions   []string `yaml:"regions"`    // default: integrations.aws.region
	RoleARN   string   `yaml:"role_arn"`   // role to assume for EC2, RDS and CloudWatch
	// ExternalID is sent with sts:AssumeRole of RoleARN when the client's
	// trust policy requires one (deploy/iam-client-trust.json); not a secret.
	ExternalID string `yaml:"external_id"`
	// Instances and Databases name EC2 instance IDs and RDS DB instance
	// identifiers to watch; ResourceTag selects more by tag.
	Instances   []string `yaml:"instances"`
	Databases   []string `yaml:"databases"`
	ResourceTag *Tag     `yaml:"resource_tag"`
	// Shield is what the client pays for: advanced (every instance's
	// Elastic IP must be protected, checked daily) or standard (default:
	// automatic and not verifiable).
	Shield string `yaml:"shield"`
}

// Tag is an AWS tag key and value.
type Tag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Thresholds are when the server monitor alerts. Zero fields take the
// defaults (Servers.Thresholds, then the Default* constants).
type Thresholds struct {
	CPU           float64 `yaml:"cpu"`             // CPU utilisation in percent (1-100)
	FreeStorageGB float64 `yaml:"free_storage_gb"` // RDS free storage below this many GB
	Periods       int     `yaml:"periods"`         // consecutive periods in breach before alerting
	SpikeFactor   float64 `yaml:"spike_factor"`    // CPU or NetworkOut this many times the trailing baseline is unusual
	// StatusChecks alerts (critical) on a failed EC2 status check; default on.
	StatusChecks *bool `yaml:"status_checks"`
}

// Servers holds settings of the server monitor as a whole.
type Servers struct {
	Interval   Duration   `yaml:"interval"`   // how often servers are checked; default 5m, min 1m
	Period     Duration   `yaml:"period"`     // CloudWatch period; default 5m, min 1m
	Thresholds Thresholds `yaml:"thresholds"` // defaults for every client
}

// Cost holds settings of the cost monitor as a whole.
type Cost struct {
	Currency string `yaml:"currency"` // display currency of Cost Explorer amounts; default USD
	// RefreshAt is the daily time ("HH:MM", in the config time zone) the cost
	// job fetches every client's costs; default "06:00".
	RefreshAt string `yaml:"refresh_at"`
	// MaxAge: cached data older than this is refetched by /ops cost when the
	// daily job did not run; default 26h.
	MaxAge Duration `yaml:"max_age"`
	// AnomalyFactor and AnomalyMinimum: yesterday's cost is an anomaly when it
	// is above AnomalyFactor times the trailing 14-day average and above the
	// average by at least AnomalyMinimum (money). Defaults 1.5 and 10.
	AnomalyFactor  float64 `yaml:"anomaly_factor"`
	AnomalyMinimum float64 `yaml:"anomaly_minimum"`
	// QuoteStep: after the forecast first exceeds the quote, alert again at
	// each further step of this many percent; default 10.
	QuoteStep    float64      `yaml:"quote_step"`
	WeeklyReport WeeklyReport `yaml:"weekly_report"`
}

// WeeklyReport is when the weekly cost report goes to the finance channel.
type WeeklyReport struct {
	Enabled  *bool  `yaml:"enabled"`  // default on when a finance channel is set
	Day      string `yaml:"day"`      // monday (default) ... sunday
	Time     string `yaml:"time"`     // "HH:MM", default "09:00"
	TimeZone string `yaml:"timezone"` // IANA zone; default the config's timezone
}

// Defaults of the server and cost settings.
const (
	DefaultServerInterval = 5 * time.Minute
	DefaultServerPeriod   = 5 * time.Minute
	DefaultCPU            = 90.0
	DefaultFreeStorageGB  = 5.0
	DefaultPeriods        = 3
	DefaultSpikeFactor    = 4.0
	DefaultCurrency       = "USD"
	DefaultCostRefreshAt  = "06:00"
	DefaultCostMaxAge     = 26 * time.Hour
	DefaultAnomalyFactor  = 1.5
	DefaultAnomalyMinimum = 10.0
	DefaultQuoteStep      = 10.0
	DefaultReportDay      = "monday"
	DefaultReportTime     = "09:00"
)
