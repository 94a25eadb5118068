package server_test

import (
	"net/http"
	"testing"
)

// TestObjectResponseHeaders: a GET of a small object answers with the
// headers S3 sends and no Server header, and in plaintext and SSE-S3 with
// at most 8 of them: net/http grows, clones and sorts the map of a
// response with more (Go's map turns from one group into a table past 8
// entries), which costs a 4 KiB GET about 1.5 µs and 1.4 KiB of garbage.
// SSE-KMS with a bucket key has 10: its three encryption headers (S3's)
// take it past 8 whatever else is left out.
func TestObjectResponseHeaders(t *testing.T) {
	data := make([]byte, 4<<10)
	base := []string{"Accept-Ranges", "Content-Length", "Content-Type", "Etag", "Last-Modified", "X-Amz-Id-2", "X-Amz-Request-Id"}
	for _, tc := range []struct {
		mode string
		max  int
		sse  []string
	}{
		{"plain", 8, nil},
		{"sse-s3", 8, []string{"X-Amz-Server-Side-Encryption"}},
		{"sse-kms-bk", 10, []string{"X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var hdr map[string]string
			for _, m := range hotModes {
				if m.name == tc.mode {
					hdr = m.hdr
				}
			}
			n := hotNode(t)
			if w := serve(t, n, signed(n, http.MethodPut, "/bkt/k", data, hdr)); w.code != http.StatusOK {
				t.Fatalf("put: %d %s", w.code, w.body.String())
			}
			w := serve(t, n, signed(n, http.MethodGet, "/bkt/k", nil, nil))
			if w.code != http.StatusOK || w.n != len(data) {
				t.Fatalf("get: %d, %d bytes", w.code, w.n)
			}
			for _, name := range append(append([]string(nil), base...), tc.sse...) {
				if w.h.Get(name) == "" {
					t.Errorf("no %s header", name)
				}
			}
			if v := w.h.Get("Server"); v != "" {
				t.Errorf("Server: %q, want none", v)
			}
			if len(w.h) > tc.max {
				t.Errorf("%d response headers, want at most %d: %v", len(w.h), tc.max, w.h)
			}
		})
	}
}
