package awsapi

import (
	"bytes"
	"io"
	"net/http"
)

// bufferedBodies hands net/http a private copy of each request body. The
// SDK closes its body as soon as the response arrives; when that beats the
// Transport's final EOF read of the body (likely with large query-protocol
// forms), the Transport closes the connection under the response being
// read: "use of closed network connection" (aws-sdk-go-v2 issue #2737).
// AWS request bodies are small (forms, JSON, CBOR), so the copy is cheap.
type bufferedBodies struct{ next http.RoundTripper }

func (b bufferedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return b.next.RoundTrip(r)
}

// httpClient wraps hc (nil: a default client) so request bodies are buffered.
func httpClient(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		c := *hc
		out = &c
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if _, done := next.(bufferedBodies); !done {
		out.Transport = bufferedBodies{next: next}
	}
	return out
}
