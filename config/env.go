package config

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// maxSecretFileSize bounds a NAME_FILE secret; tokens are far smaller.
const maxSecretFileSize = 64 << 10

// applyEnv applies the non-secret environment overrides, which win over the
// file, and remembers which YAML path each one set so problems name the
// variable instead of a file line.
func applyEnv(cfg *Config, getenv func(string) string, c *collector) {
	overrides := []struct {
		name, path string
		dst        *string
	}{
		{"SLACK_API_URL", "slack.api_url", &cfg.Slack.APIURL},
		{"OPSBOT_HTTP_ADDR", "http.addr", &cfg.HTTP.Addr},
		{"OPSBOT_REDIS_PREFIX", "redis.prefix", &cfg.Redis.Prefix},
		{"OPSBOT_REDIS_MASTER_NAME", "redis.master_name", &cfg.Redis.MasterName},
		{"OPSBOT_TIMEZONE", "timezone", &cfg.TimeZone},
		{"OPSBOT_LOG_LEVEL", "log.level", &cfg.Log.Level},
		{"OPSBOT_LOG_FORMAT", "log.format", &cfg.Log.Format},
	}
	for _, o := range overrides {
		if v := getenv(o.name); v != "" {
			*o.dst = v
			c.env[o.path] = o.name
		}
	}
	if v := getenv("OPSBOT_REDIS_ADDRS"); v != "" {
		cfg.Redis.Addrs = nil
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.env[fmt.Sprintf("redis.addrs[%d]", len(cfg.Redis.Addrs))] = "OPSBOT_REDIS_ADDRS"
				cfg.Redis.Addrs = append(cfg.Redis.Addrs, a)
			}
		}
	}
	for id := range strings.SplitSeq(getenv("OPSBOT_ADMINS"), ",") {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(cfg.Admins, id) {
			continue
		}
		c.env[fmt.Sprintf("admins[%d]", len(cfg.Admins))] = "OPSBOT_ADMINS"
		cfg.Admins = append(cfg.Admins, id)
	}
}

// readSecrets fills cfg.Secrets from the environment: each NAME, or the file
// named by NAME_FILE (its trailing newline trimmed), never both.
func readSecrets(cfg *Config, getenv func(string) string, c *collector) {
	s := &cfg.Secrets
	for _, v := range []struct {
		name string
		dst  *Secret
	}{
		{"SLACK_BOT_TOKEN", &s.SlackBotToken},
		{"SLACK_APP_TOKEN", &s.SlackAppToken},
		{"REDIS_URL", &s.RedisURL},
		{"PAGERDUTY_TOKEN", &s.PagerDutyToken},
		{"STATUSCAKE_TOKEN", &s.StatusCakeToken},
		{"GITHUB_TOKEN", &s.GitHubToken},
		{"DETECTIFY_API_KEY", &s.DetectifyKey},
		{"DETECTIFY_API_SECRET", &s.DetectifySecret},
		{"OPSBOT_FREEZE_TOKEN", &s.FreezeToken},
		{"UDEMY_CLIENT_ID", &s.UdemyClientID},
		{"UDEMY_CLIENT_SECRET", &s.UdemyClientSecret},
		{"LOADERIO_API_KEY", &s.LoaderIOKey},
	} {
		*v.dst = readSecret(v.name, getenv, c)
	}
	readRoutingKeys(cfg, getenv, c)
}

// readSecret returns the secret in the environment variable name, or in the
// file named by name_FILE (its trailing newline trimmed), never both; "" when
// neither is set or on a problem, which it reports.
func readSecret(name string, getenv func(string) string, c *collector) Secret {
	val, file := getenv(name), getenv(name+"_FILE")
	switch {
	case val != "" && file != "":
		c.addEnv(name, "set %s or %s_FILE, not both", name, name)
	case val != "":
		return Secret(val)
	case file != "":
		data, err := readSecretFile(file)
		if err != nil {
			c.addEnv(name+"_FILE", "%v", err)
			return ""
		}
		return Secret(data)
	}
	return ""
}

// readSecretFile reads a secret from a file, trimming the trailing newline
// that editors and `echo` add. The error never contains the file's content.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", path, err)
	}
	if len(data) > maxSecretFileSize {
		return "", fmt.Errorf("secret file %s is larger than %d KiB", path, maxSecretFileSize>>10)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}
