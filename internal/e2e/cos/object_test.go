package e2ecos

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// stored returns an object's stored encryption (nil: plaintext), read
// from the service: what the wire echoes is checked separately.
func (e *env) stored(bucket, key string, customer ...customerKey) *meta.Encryption {
	e.t.Helper()
	var spec *sse.Spec
	if len(customer) > 0 {
		var err error
		if spec, err = sse.CustomerSpec(customer[0].alg, customer[0].key, customer[0].md5); err != nil {
			e.t.Fatal(err)
		}
	}
	p, err := e.node.IAM.Principal(e.ctx, e.node.AccessKey)
	if err != nil {
		e.t.Fatal(err)
	}
	o, _, err := e.node.Service.HeadObject(e.ctx, p, service.GetObjectInput{Bucket: bucket, Key: key, SSE: spec})
	if err != nil {
		e.t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return o.Encryption
}

func wantStored(t *testing.T, enc *meta.Encryption, mode sse.Mode, alg, keyID string) {
	t.Helper()
	if mode == sse.None {
		if enc != nil {
			t.Fatalf("stored encryption %+v, want none", enc)
		}
		return
	}
	if enc == nil || sse.Mode(enc.Mode) != mode || enc.Algorithm != alg || enc.KeyID != keyID {
		t.Fatalf("stored encryption %+v, want %s %s key %q", enc, mode, alg, keyID)
	}
}

func kmsHeaders(keyID, encCtx string) *cos.ObjectPutHeaderOptions {
	h := http.Header{}
	h.Set("x-cos-server-side-encryption", "cos/kms")
	if keyID != "" {
		h.Set("x-cos-server-side-encryption-cos-kms-key-id", keyID)
	}
	if encCtx != "" {
		h.Set("x-cos-server-side-encryption-context", encCtx)
	}
	return &cos.ObjectPutHeaderOptions{XOptionHeader: &h}
}

// TestObjectEncryption: the bucket default applies to objects written
// after it is set (never to existing ones), and request headers override
// it (seed 002).
func TestObjectEncryption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obj-key")
	name, c := e.bucket("obj")
	data := randBytes(200 << 10)

	resp := e.put(c, "before", data, nil)
	wantSSE(t, resp.Header, "", "")

	if _, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}}); err != nil {
		t.Fatal(err)
	}

	t.Run("default applies to new objects", func(t *testing.T) {
		wantSSE(t, e.put(c, "after", data, nil).Header, "AES256", "")
		h, err := c.Object.Head(e.ctx, "after", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "AES256", "")
		if h.Header.Get("x-cos-hash-crc64ecma") != crc(data) {
			t.Fatalf("HEAD x-cos-hash-crc64ecma %q, want %s", h.Header.Get("x-cos-hash-crc64ecma"), crc(data))
		}
		got, g := e.get(c, "after", nil)
		wantSSE(t, g.Header, "AES256", "")
		if !bytes.Equal(got, data) || g.Header.Get("x-cos-hash-crc64ecma") != crc(data) {
			t.Fatalf("GET: %d bytes, crc %q", len(got), g.Header.Get("x-cos-hash-crc64ecma"))
		}
		wantStored(t, e.stored(name, "after"), sse.Managed, sse.AES256, "")
	})
	t.Run("existing object stays unencrypted", func(t *testing.T) {
		h, err := c.Object.Head(e.ctx, "before", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "", "")
		got, _ := e.get(c, "before", nil)
		if !bytes.Equal(got, data) {
			t.Fatal("GET before: wrong data")
		}
		wantStored(t, e.stored(name, "before"), sse.None, "", "")
	})
	t.Run("SM4 header overrides", func(t *testing.T) {
		resp := e.put(c, "sm4", data, &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "SM4"})
		wantSSE(t, resp.Header, "SM4", "")
		got, g := e.get(c, "sm4", nil)
		wantSSE(t, g.Header, "SM4", "")
		if !bytes.Equal(got, data) {
			t.Fatal("GET sm4: wrong data")
		}
		wantStored(t, e.stored(name, "sm4"), sse.Managed, sse.SM4, "")
	})
	t.Run("KMS header with key and context overrides", func(t *testing.T) {
		encCtx := base64.StdEncoding.EncodeToString([]byte(`{"project":"strongroom"}`))
		resp := e.put(c, "kms", data, kmsHeaders(key, encCtx))
		wantSSE(t, resp.Header, "cos/kms", key)
		if resp.Header.Get("x-cos-server-side-encryption-context") != encCtx {
			t.Fatalf("context not echoed: %v", resp.Header)
		}
		h, err := c.Object.Head(e.ctx, "kms", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "cos/kms", key)
		got, _ := e.get(c, "kms", nil)
		if !bytes.Equal(got, data) {
			t.Fatal("GET kms: wrong data")
		}
		wantStored(t, e.stored(name, "kms"), sse.KMS, sse.AES256, key)
	})
	t.Run("KMS header, default key", func(t *testing.T) {
		// The server's default CMK is used and named in the response.
		resp := e.put(c, "kms-default", data, kmsHeaders("", ""))
		def := resp.Header.Get("x-cos-server-side-encryption-cos-kms-key-id")
		if def == "" || def == key {
			t.Fatalf("default key id %q", def)
		}
		wantSSE(t, resp.Header, "cos/kms", def)
		wantStored(t, e.stored(name, "kms-default"), sse.KMS, sse.AES256, def)
	})
	t.Run("KMS default with SM4", func(t *testing.T) {
		r := cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSMasterKeyID: key, KMSAlgorithm: "SM4"}
		if _, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &r}); err != nil {
			t.Fatal(err)
		}
		wantSSE(t, e.put(c, "kms-sm4", data, nil).Header, "cos/kms", key)
		wantStored(t, e.stored(name, "kms-sm4"), sse.KMS, sse.SM4, key)
		got, _ := e.get(c, "kms-sm4", nil)
		if !bytes.Equal(got, data) {
			t.Fatal("GET kms-sm4: wrong data")
		}
		// The earlier objects keep their own encryption.
		wantStored(t, e.stored(name, "after"), sse.Managed, sse.AES256, "")
		wantStored(t, e.stored(name, "before"), sse.None, "", "")
	})
	t.Run("invalid headers", func(t *testing.T) {
		_, err := c.Object.Put(e.ctx, "bad", bytesReader("x"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "DES"}})
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
		h := http.Header{}
		h.Set("x-cos-server-side-encryption-cos-kms-key-id", key)
		_, err = c.Object.Put(e.ctx, "bad", bytesReader("x"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{XOptionHeader: &h}})
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = c.Object.Put(e.ctx, "bad", bytesReader("x"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: kmsHeaders("no-such-key", "")})
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = c.Object.Get(e.ctx, "no-such-object", nil)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchKey")
	})
	t.Run("copy follows the destination default, then the request", func(t *testing.T) {
		src := e.bucketURL(name, cosDomain).Host + "/before"
		if _, _, err := c.Object.Copy(e.ctx, "copy-default", src, nil); err != nil {
			t.Fatal(err)
		}
		wantStored(t, e.stored(name, "copy-default"), sse.KMS, sse.SM4, key)
		opt := &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{XCosServerSideEncryption: "AES256"}}
		_, resp, err := c.Object.Copy(e.ctx, "copy-aes", src, opt)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, resp.Header, "AES256", "")
		got, g := e.get(c, "copy-aes", nil)
		if !bytes.Equal(got, data) || g.Header.Get("x-cos-hash-crc64ecma") != crc(data) {
			t.Fatal("GET copy-aes: wrong data or CRC")
		}
	})
}

// TestSSEC: SSE-C with the SDK's typed fields over HTTPS.
func TestSSEC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, c := e.bucket("ssec")
	k1, k2 := newCustomerKey(), newCustomerKey()
	data := randBytes(300 << 10)

	resp := e.put(c, "c", data, k1.put())
	if resp.Header.Get("x-cos-server-side-encryption-customer-algorithm") != "AES256" ||
		resp.Header.Get("x-cos-server-side-encryption-customer-key-MD5") != k1.md5 {
		t.Fatalf("PUT echo: %v", resp.Header)
	}
	if s := e.stored(name, "c", k1); s == nil || sse.Mode(s.Mode) != sse.Customer {
		t.Fatalf("stored %+v", s)
	}

	t.Run("get without key", func(t *testing.T) {
		_, err := c.Object.Get(e.ctx, "c", nil)
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.Object.Head(e.ctx, "c", nil)
		wantCOSErr(t, err, http.StatusBadRequest, "")
	})
	t.Run("wrong key", func(t *testing.T) {
		_, err := c.Object.Get(e.ctx, "c", k2.get(""))
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
		_, err = c.Object.Head(e.ctx, "c", &cos.ObjectHeadOptions{XCosSSECustomerAglo: k2.alg, XCosSSECustomerKey: k2.key, XCosSSECustomerKeyMD5: k2.md5})
		wantCOSErr(t, err, http.StatusForbidden, "")
	})
	t.Run("key and MD5 disagree", func(t *testing.T) {
		bad := k1
		bad.md5 = k2.md5
		_, err := c.Object.Get(e.ctx, "c", bad.get(""))
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("right key", func(t *testing.T) {
		got, g := e.get(c, "c", k1.get(""))
		if !bytes.Equal(got, data) {
			t.Fatal("wrong data")
		}
		if g.Header.Get("x-cos-server-side-encryption-customer-algorithm") != "AES256" ||
			g.Header.Get("x-cos-server-side-encryption-customer-key-MD5") != k1.md5 {
			t.Fatalf("GET echo: %v", g.Header)
		}
		h, err := c.Object.Head(e.ctx, "c", &cos.ObjectHeadOptions{XCosSSECustomerAglo: k1.alg, XCosSSECustomerKey: k1.key, XCosSSECustomerKeyMD5: k1.md5})
		if err != nil || h.Header.Get("x-cos-server-side-encryption-customer-key-MD5") != k1.md5 {
			t.Fatalf("HEAD: %v %v", err, h)
		}
	})
	t.Run("range", func(t *testing.T) {
		for rng, want := range map[string][]byte{
			"bytes=100-70099": data[100:70100], // across a 64 KiB segment boundary
			"bytes=-10":       data[len(data)-10:],
			"bytes=131072-":   data[131072:],
		} {
			got, g := e.get(c, "c", k1.get(rng))
			if g.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want) {
				t.Fatalf("%s: status %d, %d bytes", rng, g.StatusCode, len(got))
			}
		}
	})
	t.Run("copy with the copy-source key", func(t *testing.T) {
		k3 := newCustomerKey()
		src := e.bucketURL(name, cosDomain).Host + "/c"
		opt := &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{
			XCosCopySourceSSECustomerAglo: k1.alg, XCosCopySourceSSECustomerKey: k1.key, XCosCopySourceSSECustomerKeyMD5: k1.md5,
			XCosSSECustomerAglo: k3.alg, XCosSSECustomerKey: k3.key, XCosSSECustomerKeyMD5: k3.md5,
		}}
		if _, _, err := c.Object.Copy(e.ctx, "c-copy", src, opt); err != nil {
			t.Fatal(err)
		}
		got, _ := e.get(c, "c-copy", k3.get(""))
		if !bytes.Equal(got, data) {
			t.Fatal("copy: wrong data")
		}
		_, err := c.Object.Get(e.ctx, "c-copy", k1.get(""))
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")

		// To SSE-COS.
		opt = &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{
			XCosCopySourceSSECustomerAglo: k1.alg, XCosCopySourceSSECustomerKey: k1.key, XCosCopySourceSSECustomerKeyMD5: k1.md5,
			XCosServerSideEncryption: "AES256",
		}}
		if _, _, err := c.Object.Copy(e.ctx, "c-managed", src, opt); err != nil {
			t.Fatal(err)
		}
		got, g := e.get(c, "c-managed", nil)
		wantSSE(t, g.Header, "AES256", "")
		if !bytes.Equal(got, data) {
			t.Fatal("copy to SSE-COS: wrong data")
		}

		// Without the source key; with a wrong one.
		_, _, err = c.Object.Copy(e.ctx, "c-nokey", src, nil)
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidRequest")
		opt = &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{
			XCosCopySourceSSECustomerAglo: k2.alg, XCosCopySourceSSECustomerKey: k2.key, XCosCopySourceSSECustomerKeyMD5: k2.md5,
		}}
		_, _, err = c.Object.Copy(e.ctx, "c-wrongkey", src, opt)
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
	})
}

// TestSSECNeedsTLS: SSE-C keys are refused over plain HTTP.
func TestSSECNeedsTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	_, c := e.bucket("plain")
	_, err := c.Object.Put(e.ctx, "c", bytesReader("secret"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: newCustomerKey().put()})
	wantCOSErr(t, err, http.StatusBadRequest, "InvalidRequest")
	// Everything else works over HTTP.
	e.put(c, "p", []byte("plain"), &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "AES256"})
}

// TestCopyMetadataDirective: COS spells the directive Copy / Replaced; the
// dialect maps them to S3's COPY / REPLACE. Replaced takes the request's
// metadata and content type, Copy keeps the source's.
func TestCopyMetadataDirective(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, c := e.bucket("mdir")
	meta := http.Header{}
	meta.Set("x-cos-meta-color", "blue")
	e.put(c, "src", []byte("data"), &cos.ObjectPutHeaderOptions{ContentType: "text/plain", XCosMetaXXX: &meta})
	src := e.bucketURL(name, cosDomain).Host + "/src"

	repl := http.Header{}
	repl.Set("x-cos-meta-color", "green")
	opt := &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{
		XCosMetadataDirective: "Replaced", ContentType: "image/png", XCosMetaXXX: &repl}}
	if _, _, err := c.Object.Copy(e.ctx, "replaced", src, opt); err != nil {
		t.Fatalf("Replaced: %v", err)
	}
	opt = &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{
		XCosMetadataDirective: "Copy", ContentType: "image/png", XCosMetaXXX: &repl}}
	if _, _, err := c.Object.Copy(e.ctx, "copied", src, opt); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	for key, want := range map[string][2]string{"replaced": {"green", "image/png"}, "copied": {"blue", "text/plain"}} {
		h, err := c.Object.Head(e.ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{h.Header.Get("x-cos-meta-color"), h.Header.Get("Content-Type")}; got != want {
			t.Errorf("%s: meta and type %v, want %v", key, got, want)
		}
	}
	opt = &cos.ObjectCopyOptions{ObjectCopyHeaderOptions: &cos.ObjectCopyHeaderOptions{XCosMetadataDirective: "Sideways"}}
	_, _, err := c.Object.Copy(e.ctx, "bad", src, opt)
	wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
}
