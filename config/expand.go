package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	reVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// reSecretVar names variables that must not be copied into the file's
	// values: a bad value would be quoted back in a problem message.
	reSecretVar = regexp.MustCompile(`(?i)token|secret|passw|(^|_)KEY(_FILE)?$|ROUTING_KEY|^REDIS_URL(_FILE)?$`)
)

// expand replaces ${VAR} and ${VAR:-default} in scalar n at path. The result
// is text, never parsed as YAML again; a plain (unquoted) scalar's type is
// re-resolved from it, so "db: ${REDIS_DB}" can decode into an int.
func (w *walker) expand(n *yaml.Node, path string) {
	if w.seen[n] || !strings.Contains(n.Value, "$") {
		return
	}
	w.seen[n] = true
	out, err := expandString(n.Value, w.getenv)
	if err != nil {
		w.c.addLine(n.Line, path, err.Error())
		return
	}
	if out == n.Value {
		return
	}
	n.Value = out
	if n.Style == 0 {
		n.Tag = ""
	}
}

// expandString expands s. An unset or empty variable without a default is an
// error naming it; "$${" stands for a literal "${"; a "$" not followed by "{"
// is kept as is.
func expandString(s string, getenv func(string) string) (string, error) {
	var b strings.Builder
	var missing []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", errors.New(`unterminated "${" (write "$${" for a literal "${")`)
			}
			name, def, hasDef := strings.Cut(s[2:end], ":-")
			switch {
			case !reVarName.MatchString(name):
				return "", fmt.Errorf("%q is not a variable name: write ${NAME} or ${NAME:-default}", truncate(name, 40))
			case reSecretVar.MatchString(name):
				return "", fmt.Errorf("${%s} looks like a secret: secrets are read from the environment by opsbot itself, never through the file", name)
			}
			v := getenv(name)
			if v == "" {
				if !hasDef {
					missing = append(missing, name)
				}
				v = def
			}
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set (give a default with ${%s:-value})",
			strings.Join(missing, ", "), missing[0])
	}
	return b.String(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
