package service

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func customerSpec() *sse.Spec {
	return &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256, CustomerKey: random(32), CustomerKeyMD5: "md5"}
}

// blobPath is where the fs store keeps a blob.
func (f *fixture) blobPath(id string) string {
	return filepath.Join(f.dir, "blobs", id[:2], id[2:4], id)
}

func (f *fixture) read(t *testing.T, key string, spec *sse.Spec) []byte {
	t.Helper()
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: key, SSE: spec})
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	defer ob.Body.Close()
	b, err := io.ReadAll(ob.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	return b
}

// putMultipart stores data as a two-part upload under spec.
func (f *fixture) putMultipart(t *testing.T, key string, data []byte, spec *sse.Spec) *meta.Object {
	t.Helper()
	ctx := context.Background()
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: key, SSE: spec})
	if err != nil {
		t.Fatal(err)
	}
	cut := 5 << 20
	var parts []CompletePart
	for i, chunk := range [][]byte{data[:cut], data[cut:]} {
		p, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: key, UploadID: u.ID, PartNumber: i + 1, SSE: spec,
			Body: Body{Reader: bytes.NewReader(chunk), Size: int64(len(chunk))}})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: i + 1, ETag: p.ETag})
	}
	o, err := f.svc.CompleteMultipartUpload(ctx, f.p, CompleteUploadInput{Bucket: "bkt", Key: key, UploadID: u.ID, Parts: parts, SSE: spec})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestCopyKeepsSealedData: a copy between encrypted modes with the same data
// algorithm keeps the source's stored bytes (its blobs are the same files,
// not rewritten), rewraps the object key for the destination, reads back
// intact, survives the source's deletion, and follows the ETag rules: the
// plaintext MD5 kept for SSE-S3, a fresh opaque ETag for SSE-KMS and SSE-C.
func TestCopyKeepsSealedData(t *testing.T) {
	managed := &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	kmsSpec := &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}
	srcC, dstC := customerSpec(), customerSpec()
	tests := []struct {
		name      string
		src, dst  *sse.Spec
		srcKey    *sse.Spec // SSE-C key to read the source
		multipart bool
	}{
		{"SSE-S3 to SSE-S3", managed, managed, nil, false},
		{"SSE-S3 to SSE-KMS", managed, kmsSpec, nil, false},
		{"SSE-KMS to SSE-KMS", kmsSpec, kmsSpec, nil, false},
		{"SSE-KMS to SSE-C", kmsSpec, dstC, nil, false},
		{"SSE-C to SSE-C, new key", srcC, dstC, srcC, false},
		{"SSE-S3 multipart to SSE-C", managed, dstC, nil, true},
		{"SSE-S3 multipart to SSE-S3", managed, managed, nil, true},
		{"SSE-S3 to SSE-S3 with a bucket key", managed, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256, BucketKey: true}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			data := random(6<<20 + 333)
			var src *meta.Object
			if tc.multipart {
				src = f.putMultipart(t, "src", data, tc.src)
			} else {
				src = f.put(t, "src", data, tc.src)
			}
			dst, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "dst", SrcSSE: tc.srcKey, SSE: tc.dst})
			if err != nil {
				t.Fatal(err)
			}
			if len(dst.Parts) != len(src.Parts) || dst.Multipart != src.Multipart {
				t.Fatalf("copy has %d parts (multipart %v), source %d", len(dst.Parts), dst.Multipart, len(src.Parts))
			}
			for i := range src.Parts {
				a, err1 := os.Stat(f.blobPath(src.Parts[i].BlobID))
				b, err2 := os.Stat(f.blobPath(dst.Parts[i].BlobID))
				if err1 != nil || err2 != nil || src.Parts[i].BlobID == dst.Parts[i].BlobID || !os.SameFile(a, b) {
					t.Fatalf("part %d: copy's blob is not a second name of the source's (%v %v)", i, err1, err2)
				}
			}
			if dst.Encryption.Mode != string(tc.dst.Mode) || bytes.Equal(dst.Encryption.WrappedKey, src.Encryption.WrappedKey) {
				t.Fatalf("copy's encryption: mode %s, wrapped key reused: %v", dst.Encryption.Mode, bytes.Equal(dst.Encryption.WrappedKey, src.Encryption.WrappedKey))
			}
			switch {
			case tc.dst.Mode == sse.Managed && !tc.multipart:
				if sum := md5.Sum(data); dst.ETag != hex.EncodeToString(sum[:]) {
					t.Fatalf("SSE-S3 copy ETag %s, want the plaintext MD5", dst.ETag)
				}
			case tc.dst.Mode == sse.Managed:
				if dst.ETag != src.ETag {
					t.Fatalf("ETag %s, want the source's %s", dst.ETag, src.ETag)
				}
			default:
				if sum := md5.Sum(data); dst.ETag == src.ETag || strings.HasPrefix(dst.ETag, hex.EncodeToString(sum[:])) {
					t.Fatalf("opaque ETag expected, got %s (source %s)", dst.ETag, src.ETag)
				}
				if tc.multipart != strings.HasSuffix(dst.ETag, "-2") {
					t.Fatalf("ETag %s: multipart suffix", dst.ETag)
				}
			}
			if err := f.svc.DeleteObject(ctx, f.p, "bkt", "src"); err != nil {
				t.Fatal(err)
			}
			dstKey := tc.dst
			if dstKey.Mode != sse.Customer {
				dstKey = nil
			}
			if got := f.read(t, "dst", dstKey); !bytes.Equal(got, data) {
				t.Fatal("copy reads back wrong after the source's delete")
			}
			if tc.dst.Mode == sse.Customer {
				if _, err := f.svc.GetObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "dst", SSE: customerSpec()}); !errors.Is(err, errs.AccessDenied) {
					t.Fatalf("copy read with another customer key: %v, want AccessDenied", err)
				}
			}
		})
	}
}

// TestCopyReseals: where the copy can't keep the source's sealed bytes it
// writes new ones (a different file), and still reads back intact.
func TestCopyReseals(t *testing.T) {
	managed := &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	kmsSpec := &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}
	sm4 := &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4}
	tests := []struct {
		name     string
		src, dst *sse.Spec
		checksum string
	}{
		{"plaintext to SSE-S3", nil, managed, ""},
		{"SSE-S3 to plaintext bucket default", managed, nil, ""},
		{"SM4 to AES", sm4, kmsSpec, ""},
		{"SSE-KMS to SSE-S3 needs the plaintext MD5", kmsSpec, managed, ""},
		{"a checksum the source lacks", managed, managed, "CRC32C"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			data := random(1<<20 + 7)
			src := f.put(t, "src", data, tc.src)
			dst, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "dst", SSE: tc.dst, ChecksumAlgorithm: tc.checksum})
			if err != nil {
				t.Fatal(err)
			}
			a, _ := os.Stat(f.blobPath(src.Parts[0].BlobID))
			b, _ := os.Stat(f.blobPath(dst.Parts[0].BlobID))
			if a == nil || b == nil || os.SameFile(a, b) {
				t.Fatal("want a re-sealed copy in a blob of its own")
			}
			if (dst.Encryption != nil) != (tc.dst != nil) {
				t.Fatalf("copy encryption %+v", dst.Encryption)
			}
			if tc.checksum != "" && dst.Checksums[tc.checksum] == "" {
				t.Fatalf("checksum %s not computed: %v", tc.checksum, dst.Checksums)
			}
			if got := f.read(t, "dst", nil); !bytes.Equal(got, data) {
				t.Fatal("copy reads back wrong")
			}
		})
	}
}

// TestCopyLinkFailsCleanly: when a source blob is gone by the time the copy
// links it (the source was replaced meanwhile), the copy fails NoSuchKey,
// installs nothing and leaves no link of the parts it did link.
func TestCopyLinkFailsCleanly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	managed := &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	src := f.putMultipart(t, "src", random(6<<20), managed)
	before := f.blobFiles(t)
	if err := os.Remove(f.blobPath(src.Parts[1].BlobID)); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "dst", SSE: managed})
	if !errors.Is(err, errs.NoSuchKey) {
		t.Fatalf("copy of a vanished blob: %v, want NoSuchKey", err)
	}
	if _, err := f.svc.GetObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "dst"}); !errors.Is(err, errs.NoSuchKey) {
		t.Fatalf("copy installed: %v", err)
	}
	if got := f.blobFiles(t); got != before-1 {
		t.Fatalf("%d blob files, want %d: a link was left behind", got, before-1)
	}
}

// TestListUploadsPagesPrefixes: paging ListMultipartUploads with a
// delimiter returns each common prefix once and resumes after it.
func TestListUploadsPagesPrefixes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, k := range []string{"a", "d/1", "d/2", "z"} {
		if _, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	in := ListUploadsInput{Bucket: "bkt", Delimiter: "/", MaxUploads: 2}
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatalf("no end of listing: %v", got)
		}
		res, err := f.svc.ListMultipartUploads(ctx, f.p, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.Uploads {
			got = append(got, u.Key)
		}
		got = append(got, res.CommonPrefixes...)
		if !res.Truncated {
			break
		}
		in.KeyMarker, in.UploadIDMarker = res.NextKey, res.NextUploadID
	}
	slices.Sort(got)
	if want := []string{"a", "d/", "z"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

// TestCompleteRefusesOver5TiB: parts adding up to more than S3's 5 TiB
// object limit are refused at Complete (part sizes set in the metadata:
// nobody writes 5 TiB in a test), and the upload stays.
func TestCompleteRefusesOver5TiB(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "huge"})
	if err != nil {
		t.Fatal(err)
	}
	var parts []CompletePart
	for n := 1; n <= 3; n++ {
		etag := hex.EncodeToString(random(16))
		if _, err := f.meta.PutPart(ctx, "bkt", u.ID, &meta.Part{Number: n, Size: 2 << 40, ETag: etag}); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: n, ETag: etag})
	}
	_, err = f.svc.CompleteMultipartUpload(ctx, f.p, CompleteUploadInput{Bucket: "bkt", Key: "huge", UploadID: u.ID, Parts: parts})
	if !errors.Is(err, errs.EntityTooLarge) {
		t.Fatalf("Complete of 6 TiB: %v, want EntityTooLarge", err)
	}
	if _, err := f.svc.ListParts(ctx, f.p, "bkt", "huge", u.ID, 0, 1000); err != nil {
		t.Fatalf("upload gone after a refused Complete: %v", err)
	}
}
