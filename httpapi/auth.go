package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireBearer serves h only to requests that carry
// "Authorization: Bearer <token>"; any other request gets 401 with a
// WWW-Authenticate challenge and never reaches h. The token is compared in
// constant time (both sides hashed first, so not even its length leaks)
// and never echoed. An empty token is a programming error: the caller
// decides whether to require one.
func RequireBearer(token string, h http.Handler) http.Handler {
	if token == "" {
		panic("httpapi: RequireBearer with an empty token")
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, got, ok := strings.Cut(auth, " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "send the freeze token: Authorization: Bearer $OPSBOT_FREEZE_TOKEN"})
			return
		}
		h.ServeHTTP(w, r)
	})
}
