package server

import (
	"net/http"
	"runtime/pprof"
)

// labelRequests labels the goroutine serving each request with pprof
// labels, so that one CPU profile of a mixed load splits by workload:
//
//	op    the request method
//	path  the path's first two segments: bucket and the key's first
//	      segment in path-style requests ("/bkt/sse-s3-r3")
//
// The labels stay on the connection's goroutine after the handler
// returns, so net/http's writing of the response counts with the request
// (until the next request on the connection relabels it); goroutines the
// handler starts inherit them. A group commit runs in its leader's
// goroutine and counts with that request. The bench's keys start with
// their mode: `go tool pprof -tagfocus 'path=/sse-s3-r' -tagignore op=PUT`
// is the SSE-S3 GETs of an interleaved run.
func labelRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.SetGoroutineLabels(pprof.WithLabels(r.Context(), pprof.Labels("op", r.Method, "path", labelPath(r.URL.Path))))
		h.ServeHTTP(w, r)
	})
}

// labelPath is p up to its third slash.
func labelPath(p string) string {
	n := 0
	for i := range len(p) {
		if p[i] == '/' {
			if n++; n == 3 {
				return p[:i]
			}
		}
	}
	return p
}
