package oss

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e := errs.As(err)
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if e == nil || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestObjectSSE(t *testing.T) {
	key := strings.Repeat("k", 32)
	sum := md5.Sum([]byte(key))
	cust := []string{
		"x-oss-server-side-encryption-customer-algorithm", "AES256",
		"x-oss-server-side-encryption-customer-key", base64.StdEncoding.EncodeToString([]byte(key)),
		"x-oss-server-side-encryption-customer-key-MD5", base64.StdEncoding.EncodeToString(sum[:]),
	}
	for _, tc := range []struct {
		name string
		h    http.Header
		use  dialect.Use
		want *sse.Spec
		code string
	}{
		{"none", hdr(), dialect.Write, nil, ""},
		{"AES256", hdr("x-oss-server-side-encryption", "AES256"), dialect.Write, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}, ""},
		{"SM4", hdr("x-oss-server-side-encryption", "SM4"), dialect.Write, &sse.Spec{Mode: sse.Managed, Algorithm: sse.SM4}, ""},
		{"KMS", hdr("x-oss-server-side-encryption", "KMS"), dialect.Write, &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}, ""},
		{"KMS key SM4", hdr("x-oss-server-side-encryption", "KMS", "x-oss-server-side-encryption-key-id", "k1", "x-oss-server-side-data-encryption", "SM4"),
			dialect.Write, &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4, KeyID: "k1"}, ""},
		{"invalid algorithm", hdr("x-oss-server-side-encryption", "aws:kms"), dialect.Write, nil, "InvalidEncryptionAlgorithmError"},
		{"invalid data algorithm", hdr("x-oss-server-side-encryption", "KMS", "x-oss-server-side-data-encryption", "DES"), dialect.Write, nil, "InvalidEncryptionAlgorithmError"},
		{"key id with AES256", hdr("x-oss-server-side-encryption", "AES256", "x-oss-server-side-encryption-key-id", "k1"), dialect.Write, nil, "InvalidArgument"},
		{"SM4 data with SM4", hdr("x-oss-server-side-encryption", "SM4", "x-oss-server-side-data-encryption", "SM4"), dialect.Write, nil, "InvalidArgument"},
		{"key id alone", hdr("x-oss-server-side-encryption-key-id", "k1"), dialect.Write, nil, "InvalidArgument"},
		{"SSE-C", hdr(cust...), dialect.Write, &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256}, ""},
		{"SSE-C and KMS", hdr(append(cust, "x-oss-server-side-encryption", "KMS")...), dialect.Write, nil, "InvalidArgument"},
		{"read ignores the mode", hdr("x-oss-server-side-encryption", "KMS"), dialect.Read, nil, ""},
		{"read takes SSE-C", hdr(cust...), dialect.Read, &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Dialect{}.ObjectSSE(tc.h, tc.use)
			wantCode(t, err, tc.code)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("spec %+v", got)
				}
				return
			}
			if got == nil || got.Mode != tc.want.Mode || got.Algorithm != tc.want.Algorithm || got.KeyID != tc.want.KeyID {
				t.Fatalf("spec %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSetObjectSSE(t *testing.T) {
	for _, tc := range []struct {
		enc  meta.Encryption
		want map[string]string
	}{
		{meta.Encryption{Mode: "managed", Algorithm: "AES256"}, map[string]string{"x-oss-server-side-encryption": "AES256"}},
		{meta.Encryption{Mode: "managed", Algorithm: "SM4"}, map[string]string{"x-oss-server-side-encryption": "SM4"}},
		{meta.Encryption{Mode: "kms", Algorithm: "SM4", KeyID: "k"}, map[string]string{
			"x-oss-server-side-encryption": "KMS", "x-oss-server-side-data-encryption": "SM4", "x-oss-server-side-encryption-key-id": "k"}},
		{meta.Encryption{Mode: "kms", Algorithm: "AES256", BucketKey: true}, map[string]string{"x-oss-server-side-encryption": "KMS"}},
	} {
		h := http.Header{}
		Dialect{}.SetObjectSSE(h, &tc.enc, nil)
		if len(h) != len(tc.want) {
			t.Errorf("%+v: %v", tc.enc, h)
		}
		for k, v := range tc.want {
			if h.Get(k) != v {
				t.Errorf("%+v: %s = %q, want %q", tc.enc, k, h.Get(k), v)
			}
		}
	}
	h := http.Header{}
	Dialect{}.SetObjectSSE(h, &meta.Encryption{Mode: "customer"}, &sse.Spec{Mode: sse.Customer, CustomerKeyMD5: "md5"})
	if h.Get("x-oss-server-side-encryption-customer-algorithm") != "AES256" || h.Get("x-oss-server-side-encryption-customer-key-MD5") != "md5" {
		t.Errorf("SSE-C echo %v", h)
	}
}

func TestEncryptionDocument(t *testing.T) {
	for _, doc := range []string{
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>SM4</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>9468da86-3509-4f8d-a61e-6eab1eac****</KMSMasterKeyID><KMSDataEncryption>SM4</KMSDataEncryption></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
	} {
		c, err := Dialect{}.ParseEncryption([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: canonical form invalid: %v", doc, err)
		}
		out, _ := xml.Marshal(Dialect{}.EncryptionDocument(c))
		if string(out) != doc {
			t.Errorf("round trip:\n%s\n%s", doc, out)
		}
	}
	for doc, code := range map[string]string{
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`:                                              "InvalidEncryptionAlgorithmError",
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`:                                          "InvalidEncryptionAlgorithmError",
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`:         "InvalidArgument",
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>SM4</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`:            "InvalidArgument",
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`: "InvalidArgument",
		`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`:            "MalformedXML",
		`<ServerSideEncryptionRule/>`: "MalformedXML",
	} {
		_, err := Dialect{}.ParseEncryption([]byte(doc))
		wantCode(t, err, code)
	}
	e := errs.As(func() error {
		_, err := (Dialect{}).ParseEncryption([]byte(`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`))
		return err
	}())
	if e.Message != MsgInvalidEncryptionAlgorithm {
		t.Errorf("message %q", e.Message)
	}
}

func TestBucketSSE(t *testing.T) {
	c, err := Dialect{}.BucketSSE(hdr("x-oss-server-side-encryption", "KMS", "x-oss-server-side-data-encryption", "SM4"))
	if err != nil || c.Mode != sse.KMS || c.Algorithm != sse.SM4 {
		t.Fatalf("%+v %v", c, err)
	}
	c, err = Dialect{}.BucketSSE(hdr())
	if c != nil || err != nil {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = Dialect{}.BucketSSE(hdr("x-oss-server-side-data-encryption", "SM4"))
	wantCode(t, err, "InvalidArgument")
}

func TestWriteError(t *testing.T) {
	for _, tc := range []struct {
		err            *errs.Error
		method         string
		status         int
		code, msg, ec  string
		bucket, objKey string
	}{
		{errs.NoEncryptionConfig, "GET", 404, "NoSuchServerSideEncryptionRule", "The server side encryption rule does not exist.", "0005-00000004", "bkt", ""},
		{errs.NoSuchBucket, "GET", 404, "NoSuchBucket", "The specified bucket does not exist.", "0015-00000101", "bkt", ""},
		{errs.NoSuchKey, "HEAD", 404, "NoSuchKey", "The specified key does not exist.", "0026-00000001", "", "a/b"},
		{errs.BucketAlreadyOwnedByYou, "PUT", 409, "BucketAlreadyExists", errs.BucketAlreadyExists.Message, "0015-00000104", "bkt", ""},
		{errs.AccessDenied, "HEAD", 403, "AccessDenied", "Access Denied", "", "", ""},
		{errs.InvalidArgument.WithMessage("specific"), "PUT", 400, "InvalidArgument", "specific", "", "", ""},
		{errs.BadDigest, "PUT", 400, "InvalidDigest", "The Content-MD5 you specified did not match what we received.", "", "", ""},
		{errs.KMSNotFound, "PUT", 400, "InvalidArgument", "The specified KMS key does not exist.", "", "", ""},
		{errs.MissingContentMD5, "POST", 400, "MissingArgument", "Missing Some Required Arguments.", "0016-00000606", "", ""},
		{errs.InvalidRequest.WithMessage("other"), "POST", 400, "InvalidRequest", "other", "", "", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, "http://oss.test/bkt/a/b", nil)
		Dialect{}.WriteError(w, r, tc.err, "/bkt/a/b", "RID")
		if w.Code != tc.status || w.Header().Get("x-oss-ec") != tc.ec {
			t.Errorf("%s: %d ec %q", tc.code, w.Code, w.Header().Get("x-oss-ec"))
		}
		doc := w.Body.Bytes()
		if tc.method == "HEAD" {
			if len(doc) != 0 {
				t.Errorf("%s: HEAD body", tc.code)
			}
			doc, _ = base64.StdEncoding.DecodeString(w.Header().Get("x-oss-err"))
		}
		var b ErrorBody
		if err := xml.Unmarshal(doc, &b); err != nil {
			t.Fatalf("%s: %v %q", tc.code, err, doc)
		}
		if b.Code != tc.code || b.Message != tc.msg || b.EC != tc.ec || b.RequestID != "RID" || b.HostID != "oss.test" ||
			b.BucketName != tc.bucket || b.Key != tc.objKey {
			t.Errorf("%s: %+v", tc.code, b)
		}
	}
	w := httptest.NewRecorder()
	Dialect{}.WriteError(w, httptest.NewRequest("GET", "/bkt/k", nil), errs.NotModified, "/bkt/k", "RID")
	if w.Code != 304 || w.Body.Len() != 0 || w.Header().Get("x-oss-err") != "" {
		t.Errorf("304: %d %q", w.Code, w.Body.String())
	}
}

func TestCopySourceHeader(t *testing.T) {
	// v1 SDK: url.QueryEscape; v2 SDK: path escaping. Both decode alike.
	for _, v := range []string{"/bkt/dir%2Fa+b%2Bc.txt", "/bkt/dir/a%20b%2Bc.txt"} {
		got := Dialect{}.Header(hdr("x-oss-copy-source", v), "copy-source")
		if got != "/bkt/dir%2Fa%20b%2Bc.txt" && got != "/bkt/dir/a%20b%2Bc.txt" {
			t.Errorf("%s -> %s", v, got)
		}
	}
}

func TestCannedACL(t *testing.T) {
	for _, tc := range []struct {
		h       http.Header
		object  bool
		acl     string
		present bool
		code    string
	}{
		{hdr(), false, service.ACLDefault, false, ""},
		{hdr(), true, service.ACLDefault, false, ""},
		{hdr("x-oss-acl", "public-read"), false, service.ACLPublicRead, true, ""},
		{hdr("x-oss-object-acl", "default"), true, service.ACLDefault, true, ""},
		{hdr("x-oss-acl", "default"), false, "", true, "InvalidArgument"},
		{hdr("x-oss-object-acl", "authenticated-read"), true, "", true, "InvalidArgument"},
		{hdr("x-oss-acl", "public-read"), true, service.ACLDefault, false, ""}, // the bucket header on an object
	} {
		acl, present, err := Dialect{}.CannedACL(tc.h, tc.object)
		wantCode(t, err, tc.code)
		if err == nil && (acl != tc.acl || present != tc.present) {
			t.Errorf("%v object=%v: %q %v", tc.h, tc.object, acl, present)
		}
	}
	out, _ := xml.Marshal(Dialect{}.ACLDocument("root", service.ACLDefault, true))
	if want := `<AccessControlPolicy><Owner><ID>root</ID><DisplayName>root</DisplayName></Owner><AccessControlList><Grant>default</Grant></AccessControlList></AccessControlPolicy>`; string(out) != want {
		t.Errorf("%s", out)
	}
}
