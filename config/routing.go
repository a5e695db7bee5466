package config

import (
	"regexp"
	"strings"
)

// RoutingKeyEnv is the environment variable of the default PagerDuty routing
// key; RoutingKeyEnv + "_" + the client key (upper-cased, "-" as "_")
// overrides it for one client. Each may also be read from NAME_FILE.
const RoutingKeyEnv = "PAGERDUTY_ROUTING_KEY"

// reRoutingKey is a PagerDuty Events API v2 integration key.
var reRoutingKey = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)

// RoutingKeyEnvFor returns the environment variable of client's PagerDuty
// routing key, e.g. PAGERDUTY_ROUTING_KEY_OWN_INFRA for "own-infra".
func RoutingKeyEnvFor(client string) string {
	return RoutingKeyEnv + "_" + strings.ToUpper(strings.ReplaceAll(client, "-", "_"))
}

// RoutingKey returns the PagerDuty routing key for client's alerts: the
// client's own key, else the default one, else false.
func (c *Config) RoutingKey(client string) (Secret, bool) {
	if k := c.Secrets.RoutingKeys[client]; k != "" {
		return k, true
	}
	if k := c.Secrets.RoutingKeys[""]; k != "" {
		return k, true
	}
	return "", false
}

// PagerRef is what a monitor's alerts name as their PagerDuty routing: the
// client key when a routing key (the client's or the default) exists, else
// "", which pages nobody. A ref without a key would only dead-letter pages.
func (c *Config) PagerRef(client string) string {
	if _, ok := c.RoutingKey(client); ok {
		return client
	}
	return ""
}

// readRoutingKeys fills cfg.Secrets.RoutingKeys from PAGERDUTY_ROUTING_KEY
// (under "") and PAGERDUTY_ROUTING_KEY_<CLIENT> for each client of the file,
// and checks their form without ever showing them.
func readRoutingKeys(cfg *Config, getenv func(string) string, c *collector) {
	keys := map[string]Secret{}
	check := func(name, client string) {
		k := readSecret(name, getenv, c)
		if k == "" {
			return
		}
		if !reRoutingKey.MatchString(k.Reveal()) {
			c.addEnv(name, "must be a PagerDuty Events API v2 integration key: 32 letters and digits (value not shown)")
			return
		}
		keys[client] = k
	}
	check(RoutingKeyEnv, "")
	byEnv := map[string]string{} // variable → first client key using it
	for _, client := range cfg.ClientKeys() {
		name := RoutingKeyEnvFor(client)
		if other, dup := byEnv[name]; dup {
			if getenv(name) != "" || getenv(name+"_FILE") != "" {
				c.addEnv(name, "ambiguous: clients %q and %q both read it; rename one of them", other, client)
				delete(keys, other)
			}
			continue
		}
		byEnv[name] = client
		check(name, client)
	}
	if len(keys) > 0 {
		cfg.Secrets.RoutingKeys = keys
	}
}
