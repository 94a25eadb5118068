package s3

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
)

// ObjectSSE skips parsing when no encryption header is present; with any
// header set it must still answer exactly as ParseObjectSSE does.
func TestObjectSSEMatchesParse(t *testing.T) {
	cases := []map[string]string{
		nil,
		{"Content-Type": "text/plain", "X-Amz-Date": "20260101T000000Z"},
		{"X-Amz-Server-Side-Encryption": "AES256"},
		{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "true"},
		{"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "k"}, // without the mode: refused
		{"X-Amz-Server-Side-Encryption-Context": "e30="},     // likewise
		{"X-Amz-Server-Side-Encryption": "bogus"},
		{"X-Amz-Server-Side-Encryption-Customer-Key-Md5": "x"}, // no algorithm: refused
		{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"},
		{"X-Amz-Server-Side-Data-Encryption": "SM4", "X-Amz-Server-Side-Encryption": "aws:kms"},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c {
			h.Set(k, v)
		}
		for _, use := range []dialect.Use{dialect.Read, dialect.Write} {
			got, gotErr := Dialect{}.ObjectSSE(h, use)
			want, wantErr := ParseObjectSSE(func(n string) string { return h.Get(prefix + n) }, use)
			if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Errorf("%v (use %v): got %+v, %v; want %+v, %v", c, use, got, gotErr, want, wantErr)
			}
		}
	}
}

func TestHasKeyPrefix(t *testing.T) {
	h := http.Header{"x-amz-SERVER-side-encryption": {"AES256"}}
	if !hasKeyPrefix(h, "x-amz-server-side-") {
		t.Error("a non-canonical name was missed")
	}
	if hasKeyPrefix(http.Header{"X-Amz-Server": {"x"}}, "x-amz-server-side-") {
		t.Error("a shorter name matched")
	}
}
