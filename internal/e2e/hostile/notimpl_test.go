package hostile

import (
	"net/http"
	"strings"
	"testing"
)

// TestNotImplementedNamesTheOperation: a request no operation matches, or
// one the dialect lacks, is 501 NotImplemented with a message that says
// what was asked, not the generic "a header you provided implies…".
func TestNotImplementedNamesTheOperation(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	c.do(t, http.MethodPut, "/"+b+"/k", "", []byte("x"), nil).want(t, "put", 200, "")
	for _, tc := range []struct {
		method, path, query string
		want                []string
	}{
		{http.MethodPut, "/" + b, "frobnicate", []string{"PUT on a bucket", "?frobnicate"}},
		{http.MethodDelete, "/" + b, "analytics&id=x", []string{"DELETE on a bucket", "analytics", "id"}},
		{http.MethodPost, "/" + b, "select", []string{"POST on a bucket", "?select"}},
		{http.MethodGet, "/" + b + "/k", "torrent", []string{"GetObjectTorrent"}},
	} {
		r := c.do(t, tc.method, tc.path, tc.query, nil, nil)
		r.want(t, tc.method+" ?"+tc.query, http.StatusNotImplemented, "NotImplemented")
		for _, w := range tc.want {
			if !strings.Contains(r.err.Message, w) {
				t.Errorf("%s ?%s: message %q does not name %q", tc.method, tc.query, r.err.Message, w)
			}
		}
	}
}
