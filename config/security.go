package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Shield levels of a client's aws.shield.
const (
	ShieldStandard = "standard" // automatic, invisible to the API: public instances are listed
	ShieldAdvanced = "advanced" // every instance's Elastic IP must be protected
)

// Shield settings of the daily Shield coverage check as a whole.
type Shield struct {
	// Schedule is when the check runs (cron, in the config time zone);
	// default "0 7 * * *".
	Schedule string `yaml:"schedule"`
}

// Training is the security-training compliance check: who must have
// completed one of Courses (Udemy Business course IDs) within ValidFor.
type Training struct {
	Courses  []string `yaml:"courses"`   // Udemy course IDs; a completion of any one counts
	ValidFor Duration `yaml:"valid_for"` // default 8760h (a year)
	// DueSoon: a completion expiring within this is "due soon" and
	// reminded; default 720h (30 days).
	DueSoon Duration `yaml:"due_soon"`
	// Remind is when the weekly reminders go out (cron, config time zone);
	// default "0 9 * * 1".
	Remind string `yaml:"remind"`
	// Sync is when Udemy's reports are read (cron); default "0 5 * * *".
	Sync string `yaml:"sync"`
	// Who are the roles whose holders must be trained; default engineer,
	// support, security.
	Who []string `yaml:"who"`
}

// Udemy is the Udemy Business API: https://<account>.udemy.com and the
// organisation (account) ID. Credentials: UDEMY_CLIENT_ID, UDEMY_CLIENT_SECRET.
type Udemy struct {
	APIURL         string `yaml:"api_url"`
	OrganizationID string `yaml:"organization_id"`
}

// Defaults of the security settings.
const (
	DefaultShieldSchedule = "0 7 * * *"
	DefaultTrainingValid  = 8760 * time.Hour
	DefaultTrainingDue    = 720 * time.Hour
	DefaultTrainingRemind = "0 9 * * 1"
	DefaultTrainingSync   = "0 5 * * *"
)

// DefaultTrainingWho are the roles that must be trained by default.
var DefaultTrainingWho = []string{"engineer", "support", "security"}

var (
	reCourseID = regexp.MustCompile(`^[0-9]{1,12}$`)
	reOrgID    = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)
	roleNames  = []string{"admin", "support", "engineer", "finance", "stakeholder", "security"}
)

// ShieldLevel is the client's Shield level: advanced or standard (the default).
func (c Client) ShieldLevel() string {
	if c.AWS != nil && strings.EqualFold(c.AWS.Shield, ShieldAdvanced) {
		return ShieldAdvanced
	}
	return ShieldStandard
}

// TrainingEnabled reports whether training compliance is configured.
func (c *Config) TrainingEnabled() bool { return len(c.Training.Courses) > 0 }

func applySecurityDefaults(cfg *Config) {
	defString(&cfg.Shield.Schedule, DefaultShieldSchedule)
	t := &cfg.Training
	defDuration(&t.ValidFor, DefaultTrainingValid)
	defDuration(&t.DueSoon, DefaultTrainingDue)
	defString(&t.Remind, DefaultTrainingRemind)
	defString(&t.Sync, DefaultTrainingSync)
	if t.Who == nil {
		t.Who = slices.Clone(DefaultTrainingWho)
	}
	for i, r := range t.Who {
		t.Who[i] = strings.ToLower(r)
	}
}

// validateSecurity checks the shield and training settings and each
// client's aws.shield. Cron specs are checked by the scheduler at start.
func validateSecurity(cfg *Config, c *collector) {
	for _, key := range cfg.ClientKeys() {
		a := cfg.Clients[key].AWS
		if a == nil || a.Shield == "" {
			continue
		}
		if l := strings.ToLower(a.Shield); l != ShieldAdvanced && l != ShieldStandard {
			c.add(joinPath("clients", key)+".aws.shield", "%q is not advanced or standard (e.g. shield: advanced)", truncate(a.Shield, 40))
		}
	}
	t := cfg.Training
	for i, id := range t.Courses {
		if !reCourseID.MatchString(id) {
			c.add(fmt.Sprintf("training.courses[%d]", i), "%q is not a Udemy course ID: digits (e.g. courses: [567828])", truncate(id, 40))
		}
	}
	if t.ValidFor.Std() < 24*time.Hour {
		c.add("training.valid_for", "%v is shorter than a day (e.g. valid_for: 8760h)", t.ValidFor)
	}
	if t.DueSoon.Std() <= 0 || t.DueSoon.Std() >= t.ValidFor.Std() {
		c.add("training.due_soon", "%v must be above 0 and shorter than valid_for (e.g. due_soon: 720h)", t.DueSoon)
	}
	for i, r := range t.Who {
		if !slices.Contains(roleNames, r) {
			c.add(fmt.Sprintf("training.who[%d]", i), "%q is not a role (%s)", truncate(r, 40), strings.Join(roleNames, ", "))
		}
	}
	u := cfg.Integrations.Udemy
	checkURL(c, "integrations.udemy.api_url", u.APIURL)
	if u.OrganizationID != "" && !reOrgID.MatchString(u.OrganizationID) {
		c.add("integrations.udemy.organization_id", "%q is not a Udemy Business organisation ID", truncate(u.OrganizationID, 70))
	}
	if len(t.Courses) > 0 && (u.APIURL == "") != (u.OrganizationID == "") {
		c.add("integrations.udemy", "set both api_url (https://<account>.udemy.com) and organization_id, or neither")
	}
}
