package commands

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Modal private_metadata travels through the client and comes back in the
// view_submission, so it is sealed: bound by HMAC to the user the modal was
// opened for, its callback ID, an expiry and a random nonce. A submission
// whose seal does not verify (forged, sent by someone else, or stale) is
// refused; the nonce makes each sealed form single use (Router.Submit
// claims it in the FormNonces store, so a replay changes nothing).

const modalLifetime = 24 * time.Hour

var errBadSeal = errors.New("modal metadata seal does not verify")

// newNonce is 96 random bits, URL-safe.
func newNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func seal(key []byte, userID, callbackID, metadata string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(modalLifetime).Unix(), 10)
	nonce := newNonce()
	return exp + "." + nonce + "." + mac(key, userID, callbackID, exp, nonce, metadata) + "." + metadata
}

// unseal verifies sealed and returns the metadata and the form's nonce.
func unseal(key []byte, userID, callbackID, sealed string, now time.Time) (metadata, nonce string, err error) {
	parts := strings.SplitN(sealed, ".", 4)
	if len(parts) != 4 || parts[1] == "" {
		return "", "", errBadSeal
	}
	exp, nonce, sum, metadata := parts[0], parts[1], parts[2], parts[3]
	if !hmac.Equal([]byte(sum), []byte(mac(key, userID, callbackID, exp, nonce, metadata))) {
		return "", "", errBadSeal
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > unix {
		return "", "", errBadSeal
	}
	return metadata, nonce, nil
}

func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}
