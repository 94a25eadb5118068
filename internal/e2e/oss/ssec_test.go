package e2eoss

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestSSEC: SSE-C through the x-oss-server-side-encryption-customer-*
// headers (an extension with S3 semantics): put; get and head without the
// key (400 InvalidRequest), with the wrong key (403 AccessDenied), with the
// right key; a range; a copy re-encrypted under a new key with the
// copy-source key; a copy into the bucket default; multipart; a key MD5
// that does not match (400 InvalidArgument). HEAD errors reach the SDKs
// through x-oss-err.
func TestSSEC(t *testing.T) {
	n := startNode(t)
	forEach(t, n, func(t *testing.T, c client) {
		b := bucketName("ssec")
		must(t, c.createBucket(b, sseOpt{}))
		keyA, keyB := randBytes(32), randBytes(32)
		a, bk := sseOpt{Cust: keyA}, sseOpt{Cust: keyB}
		data := randBytes(150_000)
		const k = "ssec/a b+c.bin"

		h, err := c.put(b, k, data, a)
		must(t, err)
		wantCustomer(t, "put", h, keyA)

		_, _, err = c.get(b, k, sseOpt{}, "")
		wantErr(t, err, http.StatusBadRequest, "InvalidRequest")
		_, _, err = c.get(b, k, bk, "")
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		_, err = c.head(b, k, sseOpt{})
		wantErr(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.head(b, k, bk)
		wantErr(t, err, http.StatusForbidden, "AccessDenied")

		got, h, err := c.get(b, k, a, "")
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("SSE-C get: wrong bytes")
		}
		wantCustomer(t, "get", h, keyA)
		if h.Get("x-oss-hash-crc64ecma") != crc(data) {
			t.Errorf("SSE-C get: CRC %q", h.Get("x-oss-hash-crc64ecma"))
		}
		h, err = c.head(b, k, a)
		must(t, err)
		wantCustomer(t, "head", h, keyA)
		got, _, err = c.get(b, k, a, "100-65636")
		must(t, err)
		if !bytes.Equal(got, data[100:65637]) {
			t.Error("SSE-C range: wrong bytes")
		}

		// Copy: source key A, destination key B.
		h, err = c.copy(b, k, k+".copy", sseOpt{Cust: keyB, CopyCust: keyA})
		must(t, err)
		wantCustomer(t, "copy", h, keyB)
		got, _, err = c.get(b, k+".copy", bk, "")
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Error("SSE-C copy: wrong bytes")
		}
		_, _, err = c.get(b, k+".copy", a, "")
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		// Copy without the source key; with a wrong one.
		_, err = c.copy(b, k, k+".nokey", sseOpt{})
		wantErr(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.copy(b, k, k+".wrongkey", sseOpt{CopyCust: keyB})
		wantErr(t, err, http.StatusForbidden, "AccessDenied")
		// Copy into the bucket default.
		must(t, c.putEnc(b, rule{Alg: "SM4"}))
		h, err = c.copy(b, k, k+".managed", sseOpt{CopyCust: keyA})
		must(t, err)
		wantSSE(t, "copy to default", h, sseHeaders{Alg: "SM4"})
		readBack(t, c, b, k+".managed", data, sseHeaders{Alg: "SM4"}, sseOpt{})

		// Multipart with a customer key on every call.
		parts := [][]byte{randBytes(100 << 10), randBytes(1000)}
		_, err = c.multipart(b, "ssec/mp", parts, a)
		must(t, err)
		got, h, err = c.get(b, "ssec/mp", a, "")
		must(t, err)
		if !bytes.Equal(got, slices.Concat(parts...)) {
			t.Error("SSE-C multipart: wrong bytes")
		}
		wantCustomer(t, "multipart get", h, keyA)
		_, _, err = c.get(b, "ssec/mp", sseOpt{}, "")
		wantErr(t, err, http.StatusBadRequest, "InvalidRequest")

		// The key MD5 must match the key.
		_, err = c.put(b, "ssec/badmd5", data[:10], sseOpt{Cust: keyA, BadMD5: true})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
		// SSE-C with another mode is refused.
		_, err = c.put(b, "ssec/mixed", data[:10], sseOpt{Cust: keyA, Alg: "KMS"})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
	})
}

func wantCustomer(t *testing.T, what string, h http.Header, key []byte) {
	t.Helper()
	want := custHeaders(key, false)
	p := "x-oss-server-side-encryption-customer-"
	if h.Get(p+"algorithm") != "AES256" || h.Get(p+"key-MD5") != want[p+"key-MD5"] {
		t.Errorf("%s: SSE-C headers %q / %q", what, h.Get(p+"algorithm"), h.Get(p+"key-MD5"))
	}
	if h.Get(p+"key") != "" {
		t.Errorf("%s: the customer key is echoed", what)
	}
	if sseOf(h).Alg != "" {
		t.Errorf("%s: x-oss-server-side-encryption %q on an SSE-C object", what, sseOf(h).Alg)
	}
}

// TestSSECNeedsTLS: over plain HTTP, an SSE-C request is refused (400
// InvalidRequest) unless the operator allowed it.
func TestSSECNeedsTLS(t *testing.T) {
	n := testnode.Start(t, testnode.Options{Dialects: []string{"oss"}})
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	b := bucketName("plainhttp")
	must(t, c.createBucket(b, sseOpt{}))
	_, err := c.put(b, "k", []byte("x"), sseOpt{Cust: randBytes(32)})
	wantErr(t, err, http.StatusBadRequest, "InvalidRequest")
}
