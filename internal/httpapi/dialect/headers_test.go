package dialect

import (
	"net/http"
	"testing"
)

// Headers reads and sets what h.Get(prefix+name) and h.Set(prefix+name)
// would, for listed names without allocating, and for others too.
func TestHeaders(t *testing.T) {
	x := NewHeaders("x-amz-", RequestHeaders, SSEHeaders)
	for _, name := range append(append([]string{"not-listed", "meta-Mixed"}, RequestHeaders...), SSEHeaders...) {
		if got, want := x.Key(name), http.CanonicalHeaderKey("x-amz-"+name); got != want {
			t.Errorf("Key(%q) = %q, want %q", name, got, want)
		}
		h := http.Header{}
		h.Set("x-amz-"+name, "v1")
		if got := x.Get(h, name); got != "v1" {
			t.Errorf("Get(%q) = %q, want v1", name, got)
		}
		got := http.Header{}
		x.Set(got, name, "v2")
		if got.Get("x-amz-"+name) != "v2" || len(got) != 1 {
			t.Errorf("Set(%q): %v", name, got)
		}
	}
	if got := x.Get(http.Header{}, "tagging"); got != "" {
		t.Errorf("Get of an absent header: %q", got)
	}
	h := http.Header{}
	h.Set("x-amz-server-side-encryption-customer-key-md5", "m")
	if n := testing.AllocsPerRun(100, func() { x.Get(h, "server-side-encryption-customer-key-md5") }); n != 0 {
		t.Errorf("%v allocations per lookup of a listed name, want 0", n)
	}
}

func TestHeadersAny(t *testing.T) {
	x := NewHeaders("x-amz-")
	for _, tc := range []struct {
		h    http.Header
		want bool
	}{
		{http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}, true},
		{http.Header{"x-amz-SERVER-side-encryption": {"AES256"}}, true}, // not canonical
		{http.Header{"X-Amz-Server": {"x"}}, false},                     // shorter
		{http.Header{"X-Oss-Server-Side-Encryption": {"x"}}, false},     // another prefix
		{http.Header{"X-Amz-Date": {"x"}, "Content-Length": {"1"}}, false},
	} {
		if got := x.Any(tc.h, "server-side-"); got != tc.want {
			t.Errorf("Any(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
