// Package s3test is a fake S3 for GetBucketVersioning (REST-XML): path-style
// GET /{bucket}?versioning with a SigV4 Authorization header, S3's
// VersioningConfiguration body (empty for a bucket never versioned) and
// S3's XML errors (NoSuchBucket 404, AccessDenied 403 for an unsigned call).
package s3test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is the fake; methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	buckets map[string]string // bucket → "", "Enabled" or "Suspended"
	calls   int
}

// New starts a fake closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{buckets: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// SetBucket creates or changes a bucket's versioning status.
func (s *Server) SetBucket(name, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = status
}

// Calls counts the requests served.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func s3Error(w http.ResponseWriter, status int, code, msg, resource string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>`, code, msg, resource)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	w.Header().Set("x-amz-request-id", "4442587FB7D0A2F9")
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied", r.URL.Path)
		return
	}
	bucket := strings.Trim(r.URL.Path, "/")
	if r.Method != http.MethodGet || strings.Contains(bucket, "/") || !r.URL.Query().Has("versioning") {
		s3Error(w, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented", r.URL.Path)
		return
	}
	s.mu.Lock()
	status, ok := s.buckets[bucket]
	s.mu.Unlock()
	if !ok {
		s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "/"+bucket)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	if status == "" {
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`)
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>%s</Status></VersioningConfiguration>`, status)
}
