package cos

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func doc(inner string) []byte {
	return []byte("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>" + inner +
		"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>")
}

func TestParseEncryption(t *testing.T) {
	d := Dialect{}
	for _, c := range []struct {
		in   []byte
		want *sse.Config
		err  *errs.Error
	}{
		{doc("<SSEAlgorithm>AES256</SSEAlgorithm>"), &sse.Config{Mode: sse.Managed, Algorithm: sse.AES256}, nil},
		{doc("<SSEAlgorithm>SM4</SSEAlgorithm>"), &sse.Config{Mode: sse.Managed, Algorithm: sse.SM4}, nil},
		{doc("<SSEAlgorithm>KMS</SSEAlgorithm>"), &sse.Config{Mode: sse.KMS, Algorithm: sse.AES256}, nil},
		{doc("<SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID><KMSAlgorithm>SM4</KMSAlgorithm>"), &sse.Config{Mode: sse.KMS, Algorithm: sse.SM4, KeyID: "k"}, nil},
		{doc("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"), nil, errs.InvalidArgument},
		{doc("<SSEAlgorithm>SM4</SSEAlgorithm><KMSAlgorithm>SM4</KMSAlgorithm>"), nil, errs.InvalidArgument},
		{doc("<SSEAlgorithm>KMS</SSEAlgorithm><KMSAlgorithm>DES</KMSAlgorithm>"), nil, errs.InvalidArgument},
		{doc("<SSEAlgorithm>aws:kms</SSEAlgorithm>"), nil, errs.InvalidArgument},
		{[]byte("<ServerSideEncryptionConfiguration/>"), nil, errs.MalformedXML},
		{[]byte("<ServerSideEncryptionConfiguration><Rule>"), nil, errs.MalformedXML},
	} {
		got, err := d.ParseEncryption(c.in)
		if c.err != nil {
			if e := errs.As(err); e == nil || e.Code != c.err.Code {
				t.Errorf("%s: err = %v, want %s", c.in, err, c.err.Code)
			}
			continue
		}
		if err != nil || got.Mode != c.want.Mode || got.Algorithm != c.want.Algorithm || got.KeyID != c.want.KeyID {
			t.Errorf("%s: %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		// The document round-trips.
		out, _ := xml.Marshal(d.EncryptionDocument(got))
		if again, err := d.ParseEncryption(out); err != nil || again.Mode != got.Mode || again.Algorithm != got.Algorithm || again.KeyID != got.KeyID {
			t.Errorf("round trip of %s: %s -> %+v, %v", c.in, out, again, err)
		}
	}
}

func TestObjectSSE(t *testing.T) {
	d := Dialect{}
	h := func(kv ...string) http.Header {
		hh := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hh.Set(kv[i], kv[i+1])
		}
		return hh
	}
	for _, c := range []struct {
		name string
		h    http.Header
		use  dialect.Use
		want *sse.Spec
		err  *errs.Error
	}{
		{"none", h(), dialect.Write, nil, nil},
		{"AES256", h("x-cos-server-side-encryption", "AES256"), dialect.Write, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}, nil},
		{"SM4", h("x-cos-server-side-encryption", "SM4"), dialect.Write, &sse.Spec{Mode: sse.Managed, Algorithm: sse.SM4}, nil},
		{"cos/kms", h("x-cos-server-side-encryption", "cos/kms", "x-cos-server-side-encryption-cos-kms-key-id", "k", "x-cos-server-side-encryption-context", "e30="), dialect.Write,
			&sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "k", Context: "e30="}, nil},
		{"aws:kms is not COS", h("x-cos-server-side-encryption", "aws:kms"), dialect.Write, nil, errs.InvalidArgument},
		{"key id alone", h("x-cos-server-side-encryption-cos-kms-key-id", "k"), dialect.Write, nil, errs.InvalidArgument},
		{"key id with AES256", h("x-cos-server-side-encryption", "AES256", "x-cos-server-side-encryption-cos-kms-key-id", "k"), dialect.Write, nil, errs.InvalidArgument},
		{"S3 header ignored", h("x-amz-server-side-encryption", "AES256"), dialect.Write, nil, nil},
		{"read ignores the mode (Object.Upload repeats it on parts)", h("x-cos-server-side-encryption", "cos/kms"), dialect.Read, nil, nil},
		{"SSE-C without algorithm", h("x-cos-server-side-encryption-customer-key", "a"), dialect.Read, nil, errs.InvalidArgument},
	} {
		got, err := d.ObjectSSE(c.h, c.use)
		if c.err != nil {
			if e := errs.As(err); e == nil || e.Code != c.err.Code {
				t.Errorf("%s: err = %v, want %s", c.name, err, c.err.Code)
			}
			continue
		}
		if err != nil || (got == nil) != (c.want == nil) || got != nil && (got.Mode != c.want.Mode || got.Algorithm != c.want.Algorithm || got.KeyID != c.want.KeyID || got.Context != c.want.Context) {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}

func TestSetObjectSSE(t *testing.T) {
	d := Dialect{}
	for _, c := range []struct {
		enc  *meta.Encryption
		want map[string]string
	}{
		{&meta.Encryption{Mode: "managed", Algorithm: "AES256"}, map[string]string{"x-cos-server-side-encryption": "AES256"}},
		{&meta.Encryption{Mode: "managed", Algorithm: "SM4"}, map[string]string{"x-cos-server-side-encryption": "SM4"}},
		{&meta.Encryption{Mode: "kms", Algorithm: "SM4", KeyID: "k", Context: "e30="}, map[string]string{
			"x-cos-server-side-encryption": "cos/kms", "x-cos-server-side-encryption-cos-kms-key-id": "k", "x-cos-server-side-encryption-context": "e30="}},
		{&meta.Encryption{Mode: "customer", Algorithm: "AES256"}, map[string]string{
			"x-cos-server-side-encryption-customer-algorithm": "AES256", "x-cos-server-side-encryption-customer-key-MD5": "md5"}},
	} {
		h := http.Header{}
		d.SetObjectSSE(h, c.enc, &sse.Spec{Mode: sse.Customer, CustomerKeyMD5: "md5"})
		if len(h) != len(c.want) {
			t.Errorf("%+v: %v", c.enc, h)
		}
		for k, v := range c.want {
			if h.Get(k) != v {
				t.Errorf("%+v: %s = %q, want %q", c.enc, k, h.Get(k), v)
			}
		}
	}
}

func TestWriteError(t *testing.T) {
	d := Dialect{}
	for _, c := range []struct {
		err    *errs.Error
		status int
		code   string
	}{
		{errs.NoEncryptionConfig, 404, "NoSuchEncryptionConfiguration"},
		{errs.InvalidEncryptionAlgorithm, 400, "InvalidArgument"},
		{errs.AuthorizationHeaderMalformed, 403, "AccessDenied"},
		{errs.KMSNotFound, 400, "InvalidArgument"},
		{errs.KeyTooLong, 400, "KeyTooLong"},
		{errs.NoSuchBucket, 404, "NoSuchBucket"},
		{errs.AccessDenied, 403, "AccessDenied"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://b-1250000000.cos.test:9000/dir/a%20b", nil)
		w := httptest.NewRecorder()
		d.WriteError(w, r, c.err, "/b-1250000000/dir/a b", "RID")
		var body ErrorBody
		if err := xml.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != c.status || body.Code != c.code || body.RequestID != "RID" || body.TraceID == "" ||
			body.Resource != "b-1250000000.cos.test/dir/a%20b" || body.Message == "" {
			t.Errorf("%s: %d %+v", c.err.Code, w.Code, body)
		}
	}
	// HEAD: status only.
	r := httptest.NewRequest(http.MethodHead, "http://b-1250000000.cos.test/k", nil)
	w := httptest.NewRecorder()
	d.WriteError(w, r, errs.NoSuchKey, "", "RID")
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", w.Code, w.Body)
	}
}
