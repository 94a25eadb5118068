package e2esse

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCopyMatrix copies between every pair of source and destination modes
// among none, SSE-S3, SSE-KMS and SSE-C, with CopyObject and with
// UploadPartCopy (whole source, and a range across segment boundaries),
// and checks content, destination headers and the ETag rule.
func TestCopyMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	e.kmsKey("key-2")
	bucket := e.bucket("copy")
	srcModes := []mode{none, sseS3, sseKMS("key-1"), sseC(e.customerKey(), "SSE-C")}
	// Destinations use other keys than the sources (SSE-C: another
	// customer key; SSE-KMS: another CMK) so a copy cannot get by reusing
	// the source's key material.
	dstModes := []mode{none, sseS3, sseKMS("key-2"), sseC(e.customerKey(), "SSE-C")}
	data := randBytes(2*seg + 999)
	for _, src := range srcModes {
		e.putObject(t, bucket, "src-"+src.name, data, src)
	}
	for _, src := range srcModes {
		for _, dst := range dstModes {
			t.Run(src.name+"->"+dst.name, func(t *testing.T) {
				t.Parallel()
				srcKey := "src-" + src.name
				copySource := aws.String(bucket + "/" + srcKey)

				// CopyObject.
				dstKey := "copy-" + src.name + "-" + dst.name
				out, err := e.c.CopyObject(e.ctx, dst.copyDst(src.copySrc(&s3.CopyObjectInput{
					Bucket: aws.String(bucket), Key: aws.String(dstKey), CopySource: copySource,
				})))
				if err != nil {
					t.Fatalf("CopyObject: %v", err)
				}
				dst.checkHeaders(t, "CopyObject", raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
				got, gout := e.getObject(t, bucket, dstKey, "", dst)
				if !bytes.Equal(got, data) {
					t.Fatalf("copy read back %d bytes, not the %d of the source", len(got), len(data))
				}
				dst.checkHeaders(t, "GET copy", raw(t, gout.ResultMetadata).Header, echo{keyMD5: true})
				etag := aws.ToString(out.CopyObjectResult.ETag)
				if plain := quoted(md5hex(data)); (dst.kind == kNone || dst.kind == kS3) != (etag == plain) {
					t.Errorf("copy ETag %s (plaintext MD5 %s): must equal it exactly for none and SSE-S3", etag, plain)
				}
				if aws.ToString(gout.ETag) != etag {
					t.Errorf("GET ETag %s, CopyObject said %s", aws.ToString(gout.ETag), etag)
				}
				if rg, _ := e.getObject(t, bucket, dstKey, "bytes=65530-65541", dst); !bytes.Equal(rg, data[65530:65542]) {
					t.Errorf("range of the copy differs")
				}

				// UploadPartCopy: one upload copying the whole source, one
				// copying a range across two segment boundaries.
				for _, r := range []struct {
					name       string
					rng        *string
					start, end int
				}{{"whole", nil, 0, len(data) - 1}, {"range", aws.String("bytes=65000-131100"), 65000, 131100}} {
					mpKey := "upc-" + r.name + "-" + src.name + "-" + dst.name
					cr, err := e.c.CreateMultipartUpload(e.ctx, dst.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(mpKey)}))
					if err != nil {
						t.Fatalf("CreateMultipartUpload: %v", err)
					}
					dst.checkHeaders(t, "CreateMultipartUpload", raw(t, cr.ResultMetadata).Header, echo{keyMD5: true})
					pc, err := e.c.UploadPartCopy(e.ctx, src.partCopy(dst, &s3.UploadPartCopyInput{
						Bucket: aws.String(bucket), Key: aws.String(mpKey), UploadId: cr.UploadId,
						PartNumber: aws.Int32(1), CopySource: copySource, CopySourceRange: r.rng,
					}))
					if err != nil {
						t.Fatalf("UploadPartCopy %s: %v", r.name, err)
					}
					dst.checkHeaders(t, "UploadPartCopy", raw(t, pc.ResultMetadata).Header, echo{keyMD5: true})
					want := data[r.start : r.end+1]
					if petag := aws.ToString(pc.CopyPartResult.ETag); (dst.kind == kNone || dst.kind == kS3) != (petag == quoted(md5hex(want))) {
						t.Errorf("UploadPartCopy %s ETag %s (plaintext MD5 %s)", r.name, petag, md5hex(want))
					}
					comp, err := e.c.CompleteMultipartUpload(e.ctx, dst.complete(&s3.CompleteMultipartUploadInput{
						Bucket: aws.String(bucket), Key: aws.String(mpKey), UploadId: cr.UploadId,
						MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc.CopyPartResult.ETag}}},
					}))
					if err != nil {
						t.Fatalf("CompleteMultipartUpload: %v", err)
					}
					dst.checkHeaders(t, "CompleteMultipartUpload", raw(t, comp.ResultMetadata).Header, echo{keyMD5: true})
					got, gout := e.getObject(t, bucket, mpKey, "", dst)
					if !bytes.Equal(got, want) {
						t.Fatalf("UploadPartCopy %s: read back %d bytes, want %d", r.name, len(got), len(want))
					}
					dst.checkHeaders(t, "GET UploadPartCopy object", raw(t, gout.ResultMetadata).Header, echo{keyMD5: true})
				}
			})
		}
	}
}

// TestCopyErrors: an SSE-C source needs its key in the copy-source
// headers (400 InvalidRequest without it, 403 AccessDenied with a wrong
// one), for CopyObject and UploadPartCopy; copy-source SSE-C headers on a
// source not stored with SSE-C are refused; an object re-keyed in place
// (copy onto itself with a new SSE-C key) reads only with the new key.
func TestCopyErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bucket := e.bucket("copy-errors")
	ca, cb := sseC(e.customerKey(), "SSE-C(A)"), sseC(e.customerKey(), "SSE-C(B)")
	data := randBytes(seg + 1)
	e.putObject(t, bucket, "ssec", data, ca)
	e.putObject(t, bucket, "plain", data, none)
	src := aws.String(bucket + "/ssec")

	cr, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		srcKey mode
		status int
		code   string
	}{
		{"no copy-source key", none, 400, "InvalidRequest"},
		{"wrong copy-source key", cb, 403, "AccessDenied"},
	} {
		_, err := e.c.CopyObject(e.ctx, c.srcKey.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("dst"), CopySource: src}))
		wantAPIError(t, "CopyObject, "+c.name, err, c.status, c.code)
		_, err = e.c.CopyObject(e.ctx, ca.copyDst(c.srcKey.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("dst"), CopySource: src})))
		wantAPIError(t, "CopyObject to SSE-C, "+c.name, err, c.status, c.code)
		_, err = e.c.UploadPartCopy(e.ctx, c.srcKey.partCopy(none, &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), CopySource: src}))
		wantAPIError(t, "UploadPartCopy, "+c.name, err, c.status, c.code)
	}
	// Only the destination key (not the copy-source one) given: still no
	// source key.
	_, err = e.c.CopyObject(e.ctx, ca.copyDst(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("dst"), CopySource: src}))
	wantAPIError(t, "CopyObject with destination key only", err, 400, "InvalidRequest")
	_, err = e.c.CopyObject(e.ctx, ca.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("dst"), CopySource: aws.String(bucket + "/plain")}))
	wantAPIError(t, "CopyObject of a plain source with a copy-source key", err, 400, "InvalidRequest")
	_, err = e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dst")})
	wantAPIError(t, "HEAD after refused copies", err, 404, "NotFound")

	// Re-key in place: A -> B.
	out, err := e.c.CopyObject(e.ctx, cb.copyDst(ca.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("ssec"), CopySource: src})))
	if err != nil {
		t.Fatalf("re-keying in place: %v", err)
	}
	cb.checkHeaders(t, "CopyObject re-key", raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
	_, err = e.c.GetObject(e.ctx, ca.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("ssec")}))
	wantAPIError(t, "GET with the old key", err, 403, "AccessDenied")
	if got, _ := e.getObject(t, bucket, "ssec", "", cb); !bytes.Equal(got, data) {
		t.Errorf("re-keyed object read back %d bytes", len(got))
	}
}
