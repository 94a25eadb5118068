package obs

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const (
	keyB64 = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=" // "12345678901234567890123456789012"
	keyMD5 = "dnF5x6K/8ZZRzpfSlMMM+w=="
)

func TestObjectSSE(t *testing.T) {
	var d Dialect
	cases := []struct {
		name string
		h    http.Header
		use  dialect.Use
		want *sse.Spec
		err  *errs.Error
	}{
		{name: "none", h: hdr()},
		{name: "kms", h: hdr("x-obs-server-side-encryption", "kms"), want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}},
		{name: "kms SM4 key project", h: hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-data-encryption", "SM4",
			"x-obs-server-side-encryption-kms-key-id", "k1", "x-obs-sse-kms-key-project-id", "p1"),
			want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4, KeyID: "k1", ProjectID: "p1"}},
		{name: "S3 spelling", h: hdr("x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "k1"),
			want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "k1"}},
		{name: "mixed prefixes", h: hdr("x-amz-server-side-encryption", "aws:kms", "x-obs-server-side-data-encryption", "SM4"),
			want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4}},
		{name: "x-obs- preferred", h: hdr("x-amz-server-side-encryption", "AES256", "x-obs-server-side-encryption", "kms"),
			want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}},
		{name: "OBS full key form", h: hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-encryption-kms-key-id", "cn-north-4:0123abcd:key/4f1cd4de-ab64"),
			want: &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "4f1cd4de-ab64"}},
		{name: "AES256", h: hdr("x-obs-server-side-encryption", "AES256"), want: &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}},
		{name: "obs", h: hdr("x-obs-server-side-encryption", "obs", "x-obs-server-side-data-encryption", "AES256"), want: &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}},
		{name: "SSE-C", h: hdr("x-obs-server-side-encryption-customer-algorithm", "AES256", "x-obs-server-side-encryption-customer-key", keyB64,
			"x-obs-server-side-encryption-customer-key-MD5", keyMD5),
			want: &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256, CustomerKey: []byte("12345678901234567890123456789012"), CustomerKeyMD5: keyMD5}},
		{name: "read ignores SSE-KMS", use: dialect.Read, h: hdr("x-obs-server-side-encryption", "kms")},

		{name: "unknown method", h: hdr("x-obs-server-side-encryption", "DES"), err: errModeUnsupported},
		{name: "unknown data algorithm", h: hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-data-encryption", "DES"), err: errDataAlgorithm},
		{name: "SM4 with SSE-OBS", h: hdr("x-obs-server-side-encryption", "obs", "x-obs-server-side-data-encryption", "SM4"), err: errNeedsKMS},
		{name: "key with SSE-OBS", h: hdr("x-obs-server-side-encryption", "AES256", "x-obs-server-side-encryption-kms-key-id", "k"), err: errNeedsKMS},
		{name: "key alone", h: hdr("x-obs-server-side-encryption-kms-key-id", "k"), err: errNeedsKMS},
		{name: "project without key", h: hdr("x-obs-server-side-encryption", "kms", "x-obs-sse-kms-key-project-id", "p"), err: errProjectNeedsKey},
		{name: "SSE-C with kms", h: hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-encryption-customer-algorithm", "AES256",
			"x-obs-server-side-encryption-customer-key", keyB64, "x-obs-server-side-encryption-customer-key-MD5", keyMD5), err: errSSECWithOthers},
		{name: "SSE-C other algorithm", h: hdr("x-obs-server-side-encryption-customer-algorithm", "SM4",
			"x-obs-server-side-encryption-customer-key", keyB64, "x-obs-server-side-encryption-customer-key-MD5", keyMD5), err: errs.InvalidEncryptionAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := d.ObjectSSE(c.h, c.use)
			if c.err != nil {
				if e := errs.As(err); e == nil || e.Code != c.err.Code || e.Message != c.err.Message {
					t.Fatalf("error %v; want %v", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestBucketSSEAndEcho(t *testing.T) {
	var d Dialect
	c, err := d.BucketSSE(hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-encryption-kms-key-id", "k1",
		"x-obs-sse-kms-key-project-id", "p1", "x-obs-server-side-data-encryption", "SM4"))
	want := &sse.Config{Mode: sse.KMS, Algorithm: sse.SM4, KeyID: "k1", ProjectID: "p1"}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v %v", c, err)
	}
	h := http.Header{}
	d.SetBucketSSE(h, c)
	if h.Get("x-obs-server-side-encryption") != "kms" || h.Get("x-obs-server-side-encryption-kms-key-id") != "k1" ||
		h.Get("x-obs-sse-kms-key-project-id") != "p1" || h.Get("x-obs-server-side-data-encryption") != "SM4" {
		t.Fatalf("echo %v", h)
	}
	h = http.Header{}
	d.SetBucketSSE(h, &sse.Config{Mode: sse.Managed})
	if len(h) != 1 || h.Get("x-obs-server-side-encryption") != "obs" {
		t.Fatalf("echo %v", h)
	}
	// SSE-C is not a bucket default.
	if c, err := d.BucketSSE(hdr("x-obs-server-side-encryption-customer-algorithm", "AES256")); c != nil || err != nil {
		t.Fatalf("SSE-C on CreateBucket: %+v %v", c, err)
	}
}

func TestSetObjectSSE(t *testing.T) {
	var d Dialect
	for _, c := range []struct {
		enc  *meta.Encryption
		req  *sse.Spec
		want http.Header
	}{
		{enc: nil, want: http.Header{}},
		{enc: &meta.Encryption{Mode: "managed", Algorithm: "AES256"}, want: hdr("x-obs-server-side-encryption", "AES256")},
		{enc: &meta.Encryption{Mode: "kms", Algorithm: "SM4", KeyID: "k1", ProjectID: "p1"},
			want: hdr("x-obs-server-side-encryption", "kms", "x-obs-server-side-data-encryption", "SM4",
				"x-obs-server-side-encryption-kms-key-id", "k1", "x-obs-sse-kms-key-project-id", "p1")},
		{enc: &meta.Encryption{Mode: "customer", Algorithm: "AES256"}, req: &sse.Spec{Mode: sse.Customer, CustomerKeyMD5: keyMD5},
			want: hdr("x-obs-server-side-encryption-customer-algorithm", "AES256", "x-obs-server-side-encryption-customer-key-MD5", keyMD5)},
	} {
		h := http.Header{}
		d.SetObjectSSE(h, c.enc, c.req)
		if !reflect.DeepEqual(h, c.want) {
			t.Fatalf("%+v: %v; want %v", c.enc, h, c.want)
		}
	}
}

func TestParseEncryption(t *testing.T) {
	var d Dialect
	doc := func(inner string) []byte {
		return []byte("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>" + inner +
			"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>")
	}
	for _, c := range []struct {
		body []byte
		want *sse.Config
		err  *errs.Error
	}{
		{body: doc("<SSEAlgorithm>kms</SSEAlgorithm><KMSMasterKeyID>k1</KMSMasterKeyID><ProjectID>p1</ProjectID>"),
			want: &sse.Config{Mode: sse.KMS, KeyID: "k1", ProjectID: "p1"}},
		{body: doc("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption>"), want: &sse.Config{Mode: sse.KMS, Algorithm: sse.SM4}},
		{body: doc("<SSEAlgorithm>AES256</SSEAlgorithm>"), want: &sse.Config{Mode: sse.Managed}},
		{body: doc("<SSEAlgorithm>DES</SSEAlgorithm>"), err: errDocAlgorithm},
		{body: doc("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k1</KMSMasterKeyID>"), err: errDocKeyWithOBS},
		{body: doc("<SSEAlgorithm>kms</SSEAlgorithm><ProjectID>p1</ProjectID>"), err: errDocProject},
		{body: doc("<SSEAlgorithm>AES256</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption>"), err: errDocData},
		{body: doc("<SSEAlgorithm>kms</SSEAlgorithm><KMSDataEncryption>DES</KMSDataEncryption>"), err: errDocData},
		{body: []byte("<ServerSideEncryptionConfiguration/>"), err: errs.MalformedXML},
		{body: []byte("not xml"), err: errs.MalformedXML},
	} {
		got, err := d.ParseEncryption(c.body)
		if c.err != nil {
			if e := errs.As(err); e == nil || e.Message != c.err.Message {
				t.Fatalf("%s: error %v; want %v", c.body, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s: %+v %v", c.body, got, err)
		}
		// The document round-trips.
		b, _ := xml.Marshal(d.EncryptionDocument(got))
		again, err := d.ParseEncryption(b)
		if err != nil || !reflect.DeepEqual(again, got) && !(got.Algorithm == sse.AES256 && again.Algorithm == "") {
			t.Fatalf("round trip %s: %+v %v", b, again, err)
		}
		if !strings.Contains(string(b), `xmlns="`+NS+`"`) {
			t.Fatalf("no namespace: %s", b)
		}
	}
}

func TestWriteError(t *testing.T) {
	var d Dialect
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		w := httptest.NewRecorder()
		d.WriteError(w, httptest.NewRequest(method, "/b?encryption", nil), errs.NoEncryptionConfig, "/b", "REQ1")
		if w.Code != 404 || w.Header().Get("x-obs-error-code") != "NoSuchEncryptionConfiguration" ||
			w.Header().Get("x-obs-error-message") != ErrNoSuchEncryptionConfiguration.Message {
			t.Fatalf("%s: %d %v", method, w.Code, w.Header())
		}
		if method == http.MethodHead {
			if w.Body.Len() != 0 {
				t.Fatalf("HEAD with a body")
			}
			continue
		}
		var e Error
		if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != "NoSuchEncryptionConfiguration" || e.RequestID != "REQ1" || e.Resource != "/b" {
			t.Fatalf("body %s: %v", w.Body, err)
		}
	}
	w := httptest.NewRecorder()
	d.WriteError(w, httptest.NewRequest(http.MethodGet, "/b/k", nil), errs.NotModified, "/b/k", "REQ2")
	if w.Code != 304 || w.Header().Get("x-obs-error-code") != "" {
		t.Fatalf("304: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	d.WriteError(w, httptest.NewRequest(http.MethodHead, "/b/k", nil), errs.AccessDenied.WithMessage("line\nbreak é"), "/b/k", "REQ3")
	if w.Code != 403 || w.Header().Get("x-obs-error-code") != "AccessDenied" || w.Header().Get("x-obs-error-message") != "line break  " {
		t.Fatalf("403: %d %q", w.Code, w.Header().Get("x-obs-error-message"))
	}
}

func TestKeyID(t *testing.T) {
	for in, want := range map[string]string{
		"k1": "k1", "alias/k1": "alias/k1", "region:domain:key/uuid-1": "uuid-1",
		"arn:aws:kms:r:a:key/k1": "arn:aws:kms:r:a:key/k1", "r:d:alias/x": "r:d:alias/x", "r::key/x": "r::key/x", "r:d:key/": "r:d:key/",
	} {
		if got := KeyID(in); got != want {
			t.Errorf("KeyID(%q) = %q; want %q", in, got, want)
		}
	}
}
