package all

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Every dialect reads a request's headers as h.Get(prefix+name) did, sets
// its response headers as h.Set did, and reads the encryption headers of
// a request without making strings (each lookup once made two).
func TestDialectHeaders(t *testing.T) {
	sseName := map[string]struct{ mode, kms, value string }{
		"s3":  {"server-side-encryption", "server-side-encryption-aws-kms-key-id", "aws:kms"},
		"oss": {"server-side-encryption", "server-side-encryption-key-id", "KMS"},
		"cos": {"server-side-encryption", "server-side-encryption-cos-kms-key-id", "cos/kms"},
		"obs": {"server-side-encryption", "server-side-encryption-kms-key-id", "kms"},
	}
	for _, d := range Dialects() {
		t.Run(d.Name(), func(t *testing.T) {
			p := d.Prefix()
			for _, name := range append([]string{"not-listed"}, dialect.RequestHeaders...) {
				if name == "copy-source" || name == "metadata-directive" {
					continue // dialects rewrite these values (their own tests)
				}
				h := http.Header{}
				h.Set(p+name, "v")
				if got := d.Header(h, name); got != "v" {
					t.Errorf("Header(%q) = %q, want v", name, got)
				}
			}
			for _, enc := range []*meta.Encryption{
				{Mode: string(sse.Managed), Algorithm: sse.AES256},
				{Mode: string(sse.KMS), Algorithm: sse.SM4, KeyID: "k", Context: "e30=", BucketKey: true},
				{Mode: string(sse.Customer), Algorithm: sse.AES256},
			} {
				got := http.Header{}
				d.SetObjectSSE(got, enc, &sse.Spec{Mode: sse.Customer, CustomerKeyMD5: "md5"})
				want := http.Header{}
				for k, v := range got {
					want.Set(k, v[0])
				}
				if len(got) == 0 || !reflect.DeepEqual(got, want) {
					t.Errorf("SetObjectSSE(%+v): %v, want canonical names %v", enc, got, want)
				}
			}
			n := sseName[d.Name()]
			h := http.Header{}
			h.Set(p+n.mode, n.value)
			h.Set(p+n.kms, "k")
			allocs := testing.AllocsPerRun(100, func() {
				if spec, err := d.ObjectSSE(h, dialect.Write); err != nil || spec == nil || spec.Mode != sse.KMS || spec.KeyID != "k" {
					t.Fatalf("ObjectSSE: %+v, %v", spec, err)
				}
			})
			if allocs > 1 { // the spec itself
				t.Errorf("%v allocations to read the encryption headers, want at most 1", allocs)
			}
		})
	}
}
