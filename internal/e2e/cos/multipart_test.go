package e2ecos

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/sse"
)

// TestMultipartUpload: the SDK's Object.Upload (initiate, parallel
// UploadPart, Complete) checks x-cos-hash-crc64ecma on every part and the
// combined CRC-64 of the whole object on Complete; Object.Download checks
// the HEAD's CRC-64 against what its ranged GETs assembled.
func TestMultipartUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("mp-key")
	name, c := e.bucket("mp")
	dir := t.TempDir()

	t.Run("SSE-KMS", func(t *testing.T) {
		data := randBytes(11 * MiB) // parts of 5, 5 and 1 MiB
		file := filepath.Join(dir, "kms.bin")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opt := &cos.MultiUploadOptions{
			PartSize: 5, ThreadPoolSize: 2,
			OptIni: &cos.InitiateMultipartUploadOptions{ObjectPutHeaderOptions: kmsHeaders(key, "")},
		}
		res, resp, err := c.Object.Upload(e.ctx, "big-kms", file, opt)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		if res.Key != "big-kms" || resp.Header.Get("x-cos-hash-crc64ecma") != crc(data) {
			t.Fatalf("complete: %+v, crc %q", res, resp.Header.Get("x-cos-hash-crc64ecma"))
		}
		wantSSE(t, resp.Header, "cos/kms", key)
		h, err := c.Object.Head(e.ctx, "big-kms", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "cos/kms", key)
		if h.Header.Get("x-cos-hash-crc64ecma") != crc(data) || h.ContentLength != int64(len(data)) {
			t.Fatalf("HEAD: crc %q, length %d", h.Header.Get("x-cos-hash-crc64ecma"), h.ContentLength)
		}
		wantStored(t, e.stored(name, "big-kms"), sse.KMS, sse.AES256, key)

		out := filepath.Join(dir, "kms.out")
		if _, err := c.Object.Download(e.ctx, "big-kms", out, &cos.MultiDownloadOptions{PartSize: 4, ThreadPoolSize: 2}); err != nil {
			t.Fatalf("download: %v", err)
		}
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("download: %v, %d bytes", err, len(got))
		}
	})

	t.Run("SSE-C", func(t *testing.T) {
		k := newCustomerKey()
		data := randBytes(6 * MiB) // parts of 5 and 1 MiB
		file := filepath.Join(dir, "ssec.bin")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opt := &cos.MultiUploadOptions{
			PartSize: 5,
			OptIni:   &cos.InitiateMultipartUploadOptions{ObjectPutHeaderOptions: k.put()},
		}
		if _, _, err := c.Object.Upload(e.ctx, "big-ssec", file, opt); err != nil {
			t.Fatalf("upload: %v", err)
		}
		got, g := e.get(c, "big-ssec", k.get(""))
		if !bytes.Equal(got, data) || g.Header.Get("x-cos-hash-crc64ecma") != crc(data) {
			t.Fatalf("GET: %d bytes, crc %q", len(got), g.Header.Get("x-cos-hash-crc64ecma"))
		}
		_, err := c.Object.Get(e.ctx, "big-ssec", nil)
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidRequest")
		got, _ = e.get(c, "big-ssec", k.get("bytes=5242870-5242889")) // across the part boundary
		if !bytes.Equal(got, data[5242870:5242890]) {
			t.Fatal("range across parts: wrong data")
		}
	})

	t.Run("the SDK requires x-cos-hash-crc64ecma", func(t *testing.T) {
		// The contract the dialect meets: without the header the SDK
		// refuses an upload that the server stored.
		nc := e.clientAt(e.bucketURL(name, cosDomain), e.node.AccessKey, e.node.SecretKey, stripCRC{e.tr})
		_, err := nc.Object.Put(e.ctx, "nocrc", bytesReader("data"), nil)
		if err == nil || !strings.Contains(err.Error(), "verification failed") {
			t.Fatalf("err = %v, want the SDK's CRC verification failure", err)
		}
	})
}

// TestMinimumPartSize: COS accepts parts of 1 MB (S3 insists on 5 MiB);
// a smaller part that is not the last is EntityTooSmall.
func TestMinimumPartSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.bucket("parts")
	upload := func(key string, sizes ...int) error {
		ini, _, err := c.Object.InitiateMultipartUpload(e.ctx, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		opt := &cos.CompleteMultipartUploadOptions{}
		for i, n := range sizes {
			resp, err := c.Object.UploadPart(e.ctx, key, ini.UploadID, i+1, bytes.NewReader(randBytes(n)), nil)
			if err != nil {
				t.Fatal(err)
			}
			opt.Parts = append(opt.Parts, cos.Object{PartNumber: i + 1, ETag: resp.Header.Get("ETag")})
		}
		_, _, err = c.Object.CompleteMultipartUpload(e.ctx, key, ini.UploadID, opt)
		return err
	}
	if err := upload("one-mb-parts", MiB, MiB, 10); err != nil {
		t.Fatalf("1 MiB parts: %v", err)
	}
	wantCOSErr(t, upload("small-parts", MiB-1, MiB), http.StatusBadRequest, "EntityTooSmall")
}
