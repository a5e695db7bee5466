package commands

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Modal private_metadata travels through the client and comes back in the
// view_submission, so it is sealed: bound by HMAC to the user the modal was
// opened for, its callback ID and an expiry. A submission whose seal does
// not verify (forged, replayed by someone else, or stale) is refused.

const modalLifetime = 24 * time.Hour

var errBadSeal = errors.New("modal metadata seal does not verify")

func seal(key []byte, userID, callbackID, metadata string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(modalLifetime).Unix(), 10)
	return exp + "." + mac(key, userID, callbackID, exp, metadata) + "." + metadata
}

func unseal(key []byte, userID, callbackID, sealed string, now time.Time) (string, error) {
	exp, rest, ok1 := strings.Cut(sealed, ".")
	sum, metadata, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return "", errBadSeal
	}
	if !hmac.Equal([]byte(sum), []byte(mac(key, userID, callbackID, exp, metadata))) {
		return "", errBadSeal
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > unix {
		return "", errBadSeal
	}
	return metadata, nil
}

func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}
