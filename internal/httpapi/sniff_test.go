package httpapi

import (
	"net/http"
	"testing"
)

// sniff names a dialect by the signature scheme, query or vendor headers
// (in any case), and ignores a vendor header that may go unsigned.
func TestSniff(t *testing.T) {
	cases := []struct {
		name   string
		url    string
		header map[string]string
		want   string
	}{
		{"plain S3", "/b/k", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=x", "X-Amz-Date": "d"}, "s3"},
		{"OSS signature", "/b/k", map[string]string{"Authorization": "OSS ak:sig"}, "oss"},
		{"COS signature", "/b/k", map[string]string{"Authorization": "q-sign-algorithm=sha1"}, "cos"},
		{"OBS signature", "/b/k", map[string]string{"Authorization": "OBS ak:sig"}, "obs"},
		{"OSS query", "/b/k?OSSAccessKeyId=a", nil, "oss"},
		{"COS header", "/b/k", map[string]string{"X-Cos-Meta-A": "1"}, "cos"},
		{"OBS header", "/b/k", map[string]string{"x-obs-acl": "private"}, "obs"},
		{"OSS header", "/b/k", map[string]string{"X-OSS-Meta-A": "1"}, "oss"},
		{"short names", "/b/k", map[string]string{"X-A": "1", "Host": "h"}, "s3"},
	}
	for _, c := range cases {
		r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1"+c.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.header {
			r.Header[k] = []string{v}
		}
		if got := sniff(r); got != c.want {
			t.Errorf("%s: sniff = %q, want %q", c.name, got, c.want)
		}
	}
}
