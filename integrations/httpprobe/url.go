package httpprobe

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// ErrInvalidURL marks every error ValidateURL returns; the text after it
// names what is wrong.
var ErrInvalidURL = errors.New("invalid URL")

// MaxURLLength is the longest URL ValidateURL accepts.
const MaxURLLength = 2048

const urlExample = "https://example.com/health"

// ValidateURL checks a user-typed probe URL: http or https only, a host,
// no user name or password, an optional port in 1-65535, no spaces or control
// characters, at most MaxURLLength bytes. A literal IP host g forbids (see
// Guard) and a cloud metadata host name are refused too; other host names
// cannot be judged here and are checked by the dialer at connect time.
// Errors wrap ErrInvalidURL.
func ValidateURL(raw string, g Guard) (*url.URL, error) {
	bad := func(format string, a ...any) (*url.URL, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidURL}, a...)...)
	}
	switch {
	case strings.TrimSpace(raw) == "":
		return bad("it is empty (example: %s)", urlExample)
	case len(raw) > MaxURLLength:
		return bad("it is too long (%d characters, at most %d)", len(raw), MaxURLLength)
	case strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return bad("it contains spaces or control characters (encode a space as %%20)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad("it cannot be parsed: %v", err)
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "":
		return bad("it has no scheme (start it with https://, e.g. %s)", urlExample)
	case scheme != "http" && scheme != "https":
		return bad("scheme %q is not allowed (use http or https)", u.Scheme)
	}
	if u.User != nil {
		return bad("it must not contain a user name or password")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("it has no host (example: %s)", urlExample)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("port %q is out of range (1-65535)", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("it has an empty port after %q", u.Host)
	}
	if err := g.checkHost(u.Hostname()); err != nil {
		return bad("%w", err) // errors.As finds the *BlockedAddrError or *BlockedHostError
	}
	return u, nil
}
