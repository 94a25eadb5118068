package s3

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
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
		{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256", // a whole SSE-C key
			"X-Amz-Server-Side-Encryption-Customer-Key":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"X-Amz-Server-Side-Encryption-Customer-Key-Md5": "zeBJmX9gmZsPYGBQ5u4MKw=="},
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

// SetObjectSSE and SetRequestID set what http.Header.Set would.
func TestResponseHeadersCanonical(t *testing.T) {
	encs := []*meta.Encryption{
		{Mode: string(sse.Managed)},
		{Mode: string(sse.KMS), Algorithm: sse.SM4, KeyID: "k", Context: "e30=", BucketKey: true},
		{Mode: string(sse.Customer)},
	}
	req := &sse.Spec{Mode: sse.Customer, CustomerKeyMD5: "md5"}
	for _, enc := range encs {
		got := http.Header{}
		Dialect{}.SetObjectSSE(got, enc, req)
		want := http.Header{}
		for k, v := range got {
			want.Set(k, v[0])
		}
		if len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: %v, want canonical %v", enc, got, want)
		}
		for k := range got {
			if !strings.HasPrefix(strings.ToLower(k), prefix) {
				t.Errorf("header %s", k)
			}
		}
	}
	got := http.Header{}
	Dialect{}.SetRequestID(got, "id1")
	want := http.Header{}
	want.Set("x-amz-request-id", "id1")
	want.Set("x-amz-id-2", "id1")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SetRequestID: %v, want %v", got, want)
	}
}

// Reading the encryption headers of a request makes no strings: the
// lookups use ready canonical names (they made two strings each, about
// twenty allocations per encrypted request).
func TestObjectSSELookupsAllocateNothing(t *testing.T) {
	h := http.Header{}
	h.Set("X-Amz-Server-Side-Encryption", "aws:kms")
	h.Set("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true")
	n := testing.AllocsPerRun(100, func() {
		if spec, err := (Dialect{}).ObjectSSE(h, dialect.Write); err != nil || spec == nil || !spec.BucketKey {
			t.Fatalf("%+v, %v", spec, err)
		}
	})
	if n > 1 { // the spec itself
		t.Errorf("%v allocations to read the encryption headers, want at most 1", n)
	}
}
