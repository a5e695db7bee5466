package integrations

import "time"

// ServerScope selects the servers of one client in one AWS account: EC2 and
// RDS instances by ID, or by a tag every one of them carries.
type ServerScope struct {
	Regions     []string // regions to look in
	InstanceIDs []string // EC2 instance IDs (i-0abc...)
	DBInstances []string // RDS DB instance identifiers
	TagKey      string   // select EC2 and RDS instances carrying this tag...
	TagValue    string   // ...with this value
}

// Instance is one EC2 instance as last seen.
type Instance struct {
	ID     string
	Name   string // its Name tag
	Region string
	Type   string // t3.medium
	State  string // pending, running, stopping, stopped, shutting-down, terminated
	// SystemStatus and InstanceStatus are EC2's status checks: ok, impaired,
	// insufficient-data, not-applicable, initializing ("" when not running).
	SystemStatus   string
	InstanceStatus string
	LaunchedAt     time.Time
}

// StatusCheckFailed reports whether EC2 says the instance (or the host under
// it) is impaired.
func (i Instance) StatusCheckFailed() bool {
	return i.SystemStatus == "impaired" || i.InstanceStatus == "impaired"
}

// Database is one RDS DB instance as last seen.
type Database struct {
	ID           string // DB instance identifier
	Region       string
	Class        string // db.t3.medium
	Engine       string
	Status       string // available, backing-up, stopped, failed, storage-full...
	StorageBytes int64  // allocated storage
}

// Metric names opsbot reads from CloudWatch (vendor-neutral spelling).
const (
	MetricCPU         = "cpu"          // EC2/RDS CPUUtilization, percent
	MetricNetworkOut  = "network_out"  // EC2 NetworkOut, bytes per period
	MetricFreeStorage = "free_storage" // RDS FreeStorageSpace, bytes
)

// MetricPoint is one period's value of a metric.
type MetricPoint struct {
	At    time.Time // start of the period
	Value float64
}

// MetricSeries is one metric of one resource over time, oldest first.
type MetricSeries struct {
	Resource string // instance ID or DB instance identifier
	Metric   string // MetricCPU, MetricNetworkOut, MetricFreeStorage
	Points   []MetricPoint
}

// Latest is the newest point (ok false when there is none).
func (s MetricSeries) Latest() (MetricPoint, bool) {
	if len(s.Points) == 0 {
		return MetricPoint{}, false
	}
	return s.Points[len(s.Points)-1], true
}

// ServerSnapshot is everything opsbot saw of one client's servers at one
// moment: the inventory, status checks and recent metrics.
type ServerSnapshot struct {
	TakenAt   time.Time
	Instances []Instance
	Databases []Database
	// Metrics holds recent periods of every metric of every resource.
	Metrics []MetricSeries
}
