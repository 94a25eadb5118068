package e2eoss

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Keys with a space, a '+' and '/' (the v1 SDK sends '/' as %2F).
const (
	keyPlain   = "before/plain a+b.txt"
	keyDefault = "dir/default a+b c.bin"
)

// sseHeaders is the encryption an object response announces.
type sseHeaders struct{ Alg, DataEnc, KeyID string }

func sseOf(h http.Header) sseHeaders {
	return sseHeaders{h.Get("x-oss-server-side-encryption"), h.Get("x-oss-server-side-data-encryption"), h.Get("x-oss-server-side-encryption-key-id")}
}

func wantSSE(t *testing.T, what string, h http.Header, want sseHeaders) {
	t.Helper()
	if got := sseOf(h); got != want {
		t.Errorf("%s: encryption headers %+v, want %+v", what, got, want)
	}
	if h.Get("x-oss-request-id") == "" {
		t.Errorf("%s: no x-oss-request-id", what)
	}
}

// readBack GETs and HEADs an object and checks its bytes, its CRC-64 and
// its encryption headers.
func readBack(t *testing.T, c client, b, k string, data []byte, want sseHeaders, o sseOpt) {
	t.Helper()
	got, h, err := c.get(b, k, o, "")
	if err != nil {
		t.Fatalf("get %s: %v", k, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("get %s: %d bytes differ from the %d written", k, len(got), len(data))
	}
	if h.Get("x-oss-hash-crc64ecma") != crc(data) {
		t.Errorf("get %s: x-oss-hash-crc64ecma %q, want %s", k, h.Get("x-oss-hash-crc64ecma"), crc(data))
	}
	wantSSE(t, "get "+k, h, want)
	hh, err := c.head(b, k, o)
	if err != nil {
		t.Fatalf("head %s: %v", k, err)
	}
	wantSSE(t, "head "+k, hh, want)
}

// stored checks how the service stored an object: the canonical mode and
// data algorithm the OSS headers stand for.
func stored(t *testing.T, n *testnode.Node, b, k string, o sseOpt) {
	t.Helper()
	obj, _, err := n.Service.HeadObject(context.Background(), service.Principal{User: iam.RootUser, Root: true}, service.GetObjectInput{Bucket: b, Key: k})
	must(t, err)
	mode, alg := "", ""
	if e := obj.Encryption; e != nil {
		mode, alg = e.Mode, e.Algorithm
	}
	want := map[string][2]string{
		"": {"", ""}, "AES256": {"managed", "AES256"}, "SM4": {"managed", "SM4"}, "KMS": {"kms", "AES256"},
	}[o.Alg]
	if o.DataEnc == "SM4" {
		want[1] = "SM4"
	}
	if mode != want[0] || alg != want[1] {
		t.Errorf("%s stored as %q/%q, want %q/%q", k, mode, alg, want[0], want[1])
	}
}

// TestObjectEncryption: an object written before the bucket default stays
// unencrypted; objects written after it get the default; request headers
// override it (AES256, SM4, KMS with a key, KMS with SM4); the headers are
// echoed on PUT, GET, HEAD and copy; ranges, listings and presigned GETs
// (V1 or V4, after the client) work on encrypted objects.
func TestObjectEncryption(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	for _, k := range []string{"oss-default-key", "oss-object-key"} {
		if _, err := n.Keyring.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	forEach(t, n, func(t *testing.T, c client) {
		b := bucketName("obj")
		must(t, c.createBucket(b, sseOpt{}))

		plain := randBytes(100_000)
		h, err := c.put(b, keyPlain, plain, sseOpt{})
		must(t, err)
		wantSSE(t, "put plain", h, sseHeaders{})

		// The default: KMS with SM4 data encryption and a named key.
		must(t, c.putEnc(b, rule{Alg: "KMS", KeyID: "oss-default-key", DataEnc: "SM4"}))
		def := sseHeaders{"KMS", "SM4", "oss-default-key"}
		data := randBytes(200_000)
		h, err = c.put(b, keyDefault, data, sseOpt{})
		must(t, err)
		wantSSE(t, "put under default", h, def)
		readBack(t, c, b, keyDefault, data, def, sseOpt{})
		// Written before the default: still plaintext.
		readBack(t, c, b, keyPlain, plain, sseHeaders{}, sseOpt{})

		// Request headers override the default.
		for i, tc := range []struct {
			o    sseOpt
			want sseHeaders
		}{
			{sseOpt{Alg: "AES256"}, sseHeaders{Alg: "AES256"}},
			{sseOpt{Alg: "SM4"}, sseHeaders{Alg: "SM4"}},
			{sseOpt{Alg: "KMS", KeyID: "oss-object-key"}, sseHeaders{Alg: "KMS", KeyID: "oss-object-key"}},
			{sseOpt{Alg: "KMS", KeyID: "oss-object-key", DataEnc: "SM4"}, sseHeaders{"KMS", "SM4", "oss-object-key"}},
		} {
			k := "dir/override " + string(rune('a'+i)) + "+/x y.bin"
			d := randBytes(70_000 + i)
			h, err := c.put(b, k, d, tc.o)
			must(t, err)
			wantSSE(t, "put override", h, tc.want)
			readBack(t, c, b, k, d, tc.want, sseOpt{})
			stored(t, n, b, k, tc.o)
		}
		stored(t, n, b, keyDefault, sseOpt{Alg: "KMS", DataEnc: "SM4"})
		stored(t, n, b, keyPlain, sseOpt{})
		// KMS without a key id: the default CMK, whose id is echoed.
		h, err = c.put(b, "kms default key", data[:1000], sseOpt{Alg: "KMS"})
		must(t, err)
		if sseOf(h).Alg != "KMS" || sseOf(h).KeyID == "" || sseOf(h).DataEnc != "" {
			t.Errorf("KMS with the default key: %+v", sseOf(h))
		}

		// Invalid object headers.
		_, err = c.put(b, "bad", data[:10], sseOpt{Alg: "DES"})
		wantErr(t, err, http.StatusBadRequest, "InvalidEncryptionAlgorithmError")
		_, err = c.put(b, "bad", data[:10], sseOpt{Alg: "AES256", KeyID: "oss-object-key"})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = c.put(b, "bad", data[:10], sseOpt{Alg: "AES256", DataEnc: "SM4"})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
		_, err = c.put(b, "bad", data[:10], sseOpt{Alg: "KMS", KeyID: "no-such-key"})
		wantErr(t, err, http.StatusBadRequest, "InvalidArgument")

		// A range of an encrypted object: no whole-object CRC on it.
		got, h, err := c.get(b, keyDefault, sseOpt{}, "65530-131080")
		must(t, err)
		if !bytes.Equal(got, data[65530:131081]) {
			t.Errorf("range: wrong bytes")
		}
		if h.Get("x-oss-hash-crc64ecma") != "" {
			t.Errorf("range response carries the object's CRC-64")
		}
		wantSSE(t, "range", h, def)

		// Copies: an unencrypted source takes the destination default; a
		// copy follows the request's headers first.
		h, err = c.copy(b, keyPlain, "copies/of plain+1", sseOpt{})
		must(t, err)
		wantSSE(t, "copy plain", h, def)
		readBack(t, c, b, "copies/of plain+1", plain, def, sseOpt{})
		h, err = c.copy(b, keyDefault, "copies/of default+2", sseOpt{Alg: "SM4"})
		must(t, err)
		wantSSE(t, "copy to SM4", h, sseHeaders{Alg: "SM4"})
		readBack(t, c, b, "copies/of default+2", data, sseHeaders{Alg: "SM4"}, sseOpt{})

		// Listings return the keys as written.
		keys, err := c.list(b, "copies/")
		must(t, err)
		if want := []string{"copies/of default+2", "copies/of plain+1"}; !slices.Equal(keys, want) {
			t.Errorf("list: %q, want %q", keys, want)
		}

		// Presigned GET of an encrypted object, in the client's signature
		// version; a tampered URL is refused.
		u, err := c.presignGet(b, keyDefault)
		must(t, err)
		resp, err := n.Client.Get(u)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("presigned GET: %d, %d bytes", resp.StatusCode, len(body))
		}
		if sseOf(resp.Header) != def {
			t.Errorf("presigned GET headers %+v", sseOf(resp.Header))
		}
		bad := strings.Replace(u, "default", "defaulT", 1)
		resp, err = n.Client.Get(bad)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("tampered presigned GET: %d", resp.StatusCode)
		}

		// HEAD errors travel in x-oss-err: the SDKs report the real code.
		_, err = c.head(b, "no such key", sseOpt{})
		wantErr(t, err, http.StatusNotFound, "NoSuchKey")
		_, err = c.head(bucketName("missing"), "k", sseOpt{})
		if e := wantErr(t, err, http.StatusNotFound, "NoSuchBucket"); e.EC != "0015-00000101" {
			t.Errorf("HEAD NoSuchBucket EC %q", e.EC)
		}
	})
}

// TestMultipartEncryption: a multipart upload under the initiation's
// encryption headers (KMS with SM4, SM4, or KMS AES) and under the bucket
// default; the parts' CRC-64s and the combined one are checked by the
// adapters (and the SDKs); parts but the last need OSS's 100 KiB.
func TestMultipartEncryption(t *testing.T) {
	n := startNode(t)
	if _, err := n.Keyring.CreateKey(context.Background(), "oss-mp-key"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		o    sseOpt
		want sseHeaders
	}{
		"v2sdk-V4": {sseOpt{Alg: "KMS", KeyID: "oss-mp-key", DataEnc: "SM4"}, sseHeaders{"KMS", "SM4", "oss-mp-key"}},
		"v2sdk-V1": {sseOpt{Alg: "SM4"}, sseHeaders{Alg: "SM4"}},
		"v1sdk-V1": {sseOpt{Alg: "KMS", KeyID: "oss-mp-key"}, sseHeaders{Alg: "KMS", KeyID: "oss-mp-key"}},
		"v1sdk-V4": {sseOpt{}, sseHeaders{Alg: "AES256"}}, // the bucket default
	}
	forEach(t, n, func(t *testing.T, c client) {
		b := bucketName("mp")
		must(t, c.createBucket(b, sseOpt{Alg: "AES256"}))
		tc := cases[c.name()]
		// OSS's minimum part (but the last) is 100 KiB.
		parts := [][]byte{randBytes(200 << 10), randBytes(100 << 10), randBytes(12_345)}
		k := "mp/a b+c.bin"
		h, err := c.multipart(b, k, parts, tc.o)
		must(t, err)
		wantSSE(t, "complete", h, tc.want)
		all := slices.Concat(parts...)
		readBack(t, c, b, k, all, tc.want, sseOpt{})
		got, _, err := c.get(b, k, sseOpt{}, "204000-205000")
		must(t, err)
		if !bytes.Equal(got, all[204000:205001]) {
			t.Error("range across the part boundary: wrong bytes")
		}
		_, err = c.multipart(b, "mp/small", [][]byte{randBytes(100<<10 - 1), randBytes(10)}, tc.o)
		wantErr(t, err, http.StatusBadRequest, "EntityTooSmall")
	})
}
