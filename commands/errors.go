package commands

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/383project/opsbot/store"
)

// ErrUnknownUser is returned by a Directory that cannot find a name.
var ErrUnknownUser = errors.New("unknown user")

// UserError is a mistake in what the person typed or clicked. It is shown to
// them alone, with an example of the right form, and nothing is changed.
type UserError struct {
	Msg     string // what was wrong, in plain words
	Example string // a correct invocation, shown as code; optional
}

func (e *UserError) Error() string { return e.Msg }

// userErrorf builds a UserError with an example.
func userErrorf(example, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Example: example}
}

// storeTrouble reports whether err is one the router explains in its own
// words (see Router.fail): Redis not answering (nothing changed), or an
// audited write the primary took but no replica confirmed in time.
func storeTrouble(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotReplicated)
}

// newRef returns a short random reference tying a user-facing "something
// went wrong" to the log line holding the details.
func newRef() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
