package server

import "testing"

func TestLabelPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/bkt", "/bkt"},
		{"/bkt/", "/bkt/"},
		{"/bkt/sse-s3-r3", "/bkt/sse-s3-r3"},
		{"/bkt/sse-s3-r3/4096/w1-7", "/bkt/sse-s3-r3"},
		{"/bkt//x", "/bkt/"},
		{"", ""},
	} {
		if got := labelPath(tc.in); got != tc.want {
			t.Errorf("labelPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
