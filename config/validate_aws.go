package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

var (
	reAccountID  = regexp.MustCompile(`^[0-9]{12}$`)
	reRoleARN    = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	reExternalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // length checked apart
	reInstanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// A DB instance identifier: a letter, then letters or digits in groups
	// joined by single hyphens (no "--", no trailing "-"); length checked apart.
	reDBIdentifier = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$`)
	reClock        = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	reCurrency     = regexp.MustCompile(`^[A-Z]{3}$`)

	weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

// Limits of the server and cost settings.
const (
	MinServerInterval = time.Minute
	MaxServerInterval = 24 * time.Hour
	MinServerPeriod   = time.Minute // CloudWatch periods are whole minutes
	MaxHostingQuote   = 10_000_000  // exclusive
	MaxFreeStorageGB  = 65536
	MaxPeriods        = 60
	MinSpikeFactor    = 1.5
	MaxSpikeFactor    = 100
	MaxDBIdentifier   = 63
	MaxTagKey         = 128
	MaxTagValue       = 256
	MaxExternalID     = 1224
)

// validateAWS checks each client's AWS block, hosting quote and thresholds,
// then the servers and cost blocks.
func validateAWS(cfg *Config, c *collector) {
	for _, key := range cfg.ClientKeys() {
		p := joinPath("clients", key)
		cl := cfg.Clients[key]
		if q := cl.HostingQuote; !(q >= 0 && q < MaxHostingQuote) {
			c.add(p+".hosting_quote", "%g is not a monthly amount from 0 to below 10000000 (e.g. hosting_quote: 1200)", q)
		}
		checkThresholds(c, p+".thresholds", cl.Thresholds)
		if cl.AWS != nil {
			validateClientAWS(c, p, cl.AWS, cfg.Integrations.AWS.Region != "")
		}
	}
	s := cfg.Servers
	if s.Interval.Std() < MinServerInterval || s.Interval.Std() > MaxServerInterval {
		c.add("servers.interval", "%v is not between %v and %v (e.g. interval: 5m)", s.Interval, Duration(MinServerInterval), Duration(MaxServerInterval))
	}
	if s.Period.Std() < MinServerPeriod || s.Period.Std()%time.Minute != 0 {
		c.add("servers.period", "%v: the CloudWatch period must be whole minutes, at least 1m (e.g. period: 5m)", s.Period)
	}
	checkThresholds(c, "servers.thresholds", s.Thresholds)
	validateCost(cfg, c)
}

// validateClientAWS checks one client's aws block at path p+".aws".
// hasDefaultRegion: integrations.aws.region is set (if it is invalid, that
// is reported at its own key, and not again for every client).
func validateClientAWS(c *collector, p string, a *ClientAWS, hasDefaultRegion bool) {
	ap := p + ".aws"
	if a.AccountID != "" && !reAccountID.MatchString(a.AccountID) {
		c.add(ap+".account_id", "%q is not an AWS account ID: 12 digits, quoted to keep leading zeros (e.g. account_id: \"123456789012\")", truncate(a.AccountID, 40))
	}
	if a.RoleARN != "" && !reRoleARN.MatchString(a.RoleARN) {
		c.add(ap+".role_arn", "%q is not an IAM role ARN (e.g. role_arn: arn:aws:iam::123456789012:role/opsbot-acme)", truncate(a.RoleARN, 120))
	}
	switch {
	case a.ExternalID != "" && a.RoleARN == "":
		c.add(ap+".external_id", "an external ID is only sent when assuming role_arn: set role_arn too "+
			"(e.g. role_arn: arn:aws:iam::123456789012:role/opsbot-acme)")
	case a.ExternalID != "" && (len(a.ExternalID) < 2 || len(a.ExternalID) > MaxExternalID || !reExternalID.MatchString(a.ExternalID)):
		c.add(ap+".external_id", "not an STS external ID: 2-1224 letters, digits and +=,.@:/-_ (e.g. external_id: opsbot-acme-7f3c9a)")
	}
	for i, r := range a.Regions {
		if !reAWSRegion.MatchString(r) {
			c.add(fmt.Sprintf("%s.regions[%d]", ap, i), "%q is not an AWS region (e.g. regions: [eu-west-1, us-east-1])", truncate(r, 40))
		}
	}
	for i, id := range a.Instances {
		if !reInstanceID.MatchString(id) {
			c.add(fmt.Sprintf("%s.instances[%d]", ap, i), "%q is not an EC2 instance ID: i- and 8 or 17 lowercase hex digits (e.g. \"i-0abcd1234ef567890\")", truncate(id, 40))
		}
	}
	for i, id := range a.Databases {
		if len(id) > MaxDBIdentifier || !reDBIdentifier.MatchString(id) {
			c.add(fmt.Sprintf("%s.databases[%d]", ap, i), "%q is not an RDS DB instance identifier: 1-63 letters, digits and "+
				"hyphens, starting with a letter, without \"--\" or a trailing \"-\" (e.g. \"acme-prod-db\")", truncate(id, 70))
		}
	}
	checkTag(c, ap+".cost_tag", a.CostTag)
	checkTag(c, ap+".resource_tag", a.ResourceTag)
	if !a.SelectsCosts() && !a.WatchesServers() && a.Shield == "" {
		c.add(ap, "costs cannot be selected without account_id or cost_tag (e.g. account_id: \"123456789012\" or "+
			"cost_tag: {key: client, value: acme}), and no instances, databases or resource_tag are listed to watch instead")
	}
	if a.WatchesServers() && len(a.Regions) == 0 && !hasDefaultRegion {
		c.add(ap, "instances, databases and resource_tag need a region: set regions here (e.g. regions: [eu-west-1]) "+
			"or integrations.aws.region")
	}
}

// checkTag checks an optional tag: key 1-128 characters, value at most 256.
func checkTag(c *collector, path string, t *Tag) {
	if t == nil {
		return
	}
	if t.Key == "" { // reported at the tag: the key may be missing from the file
		c.add(path, "a tag needs a key of 1-%d characters (e.g. {key: client, value: acme})", MaxTagKey)
	} else if n := utf8.RuneCountInString(t.Key); n > MaxTagKey {
		c.add(path+".key", "a tag key has 1-%d characters, not %d (e.g. key: client)", MaxTagKey, n)
	}
	if n := utf8.RuneCountInString(t.Value); n > MaxTagValue {
		c.add(path+".value", "a tag value has at most %d characters, not %d (e.g. value: acme)", MaxTagValue, n)
	}
}

// checkThresholds checks thresholds at path; zero fields are allowed
// everywhere (they inherit). Written as !(valid) so NaN is rejected too.
func checkThresholds(c *collector, path string, t Thresholds) {
	if v := t.CPU; !(v == 0 || v >= 1 && v <= 100) {
		c.add(path+".cpu", "%g is not a CPU percentage from 1 to 100, or 0 to inherit (e.g. cpu: 90)", v)
	}
	if v := t.FreeStorageGB; !(v == 0 || v > 0 && v <= MaxFreeStorageGB) {
		c.add(path+".free_storage_gb", "%g is not a size in GB above 0 and at most %d, or 0 to inherit (e.g. free_storage_gb: 5)", v, MaxFreeStorageGB)
	}
	if v := t.Periods; !(v == 0 || v >= 1 && v <= MaxPeriods) {
		c.add(path+".periods", "%d is not a number of periods from 1 to %d, or 0 to inherit (e.g. periods: 3)", v, MaxPeriods)
	}
	if v := t.SpikeFactor; !(v == 0 || v >= MinSpikeFactor && v <= MaxSpikeFactor) {
		c.add(path+".spike_factor", "%g is not a factor from %g to %d, or 0 to inherit (e.g. spike_factor: 4)", v, MinSpikeFactor, MaxSpikeFactor)
	}
}

// validateCost checks the cost block, including the weekly report.
func validateCost(cfg *Config, c *collector) {
	co := cfg.Cost
	if !reCurrency.MatchString(co.Currency) {
		c.add("cost.currency", "%q is not a currency code: three capital letters (e.g. currency: USD)", truncate(co.Currency, 40))
	}
	checkClock(c, "cost.refresh_at", co.RefreshAt)
	if co.MaxAge.Std() < time.Minute {
		c.add("cost.max_age", "%v: cached cost data must be kept at least 1m (e.g. max_age: 26h)", co.MaxAge)
	}
	if v := co.AnomalyFactor; !(v > 1 && !math.IsInf(v, 1)) {
		c.add("cost.anomaly_factor", "%g: the factor must be above 1 (e.g. anomaly_factor: 1.5)", v)
	}
	if v := co.AnomalyMinimum; !(v >= 0 && !math.IsInf(v, 1)) {
		c.add("cost.anomaly_minimum", "%g: the minimum amount cannot be negative (e.g. anomaly_minimum: 10)", v)
	}
	if v := co.QuoteStep; !(v > 0 && v <= 100) {
		c.add("cost.quote_step", "%g is not a percentage above 0 and at most 100 (e.g. quote_step: 10)", v)
	}
	wr := co.WeeklyReport
	const wp = "cost.weekly_report"
	if wr.Enabled != nil && *wr.Enabled && cfg.Channels.Finance == "" {
		c.add(wp+".enabled", "the weekly report goes to the finance channel: set channels.finance (e.g. finance: \"#finance\") or enabled: false")
	}
	if !slices.Contains(weekdays, wr.Day) {
		c.add(wp+".day", "%q is not a weekday name (e.g. day: monday)", truncate(wr.Day, 40))
	}
	checkClock(c, wp+".time", wr.Time)
	if wr.TimeZone != cfg.TimeZone { // inherited: already checked at timezone
		if _, err := time.LoadLocation(wr.TimeZone); err != nil || wr.TimeZone == "Local" {
			c.add(wp+".timezone", "%q is not an IANA time zone (e.g. timezone: Europe/London)", truncate(wr.TimeZone, 60))
		}
	}
}

// checkClock checks a time of day written "HH:MM" (24-hour).
func checkClock(c *collector, path, v string) {
	if !reClock.MatchString(v) {
		c.add(path, "%q is not a time of day \"HH:MM\" in 24-hour form (e.g. \"06:00\", \"17:30\")", truncate(v, 40))
	}
}
