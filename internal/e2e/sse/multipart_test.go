package e2esse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestMultipartSSE runs a full multipart upload under SSE-S3, SSE-KMS and
// SSE-C: headers on Create, every UploadPart and Complete; SSE-C keys
// required and checked on every part; ListParts; read back whole and by
// range; ETags that do not reveal plaintext MD5s for SSE-KMS and SSE-C.
func TestMultipartSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("multipart")
	modes := []mode{sseS3, sseKMS("key-1"), sseKMS(""), sseC(e.customerKey(), "SSE-C")}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			key := "mp-" + m.name
			p1, p2 := randBytes(partMin+3), randBytes(seg+100)
			cr, err := e.c.CreateMultipartUpload(e.ctx, m.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			m.checkHeaders(t, "CreateMultipartUpload", raw(t, cr.ResultMetadata).Header, echo{keyMD5: true})

			if m.kind == kSSEC {
				// A part without the SSE-C headers, with another key, or
				// with a mismatching MD5 is refused.
				_, err := e.c.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1[:100])})
				wantAPIError(t, "UploadPart without SSE-C headers", err, 400, "InvalidRequest")
				other := sseC(e.customerKey(), "other")
				_, err = e.c.UploadPart(e.ctx, other.part(&s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1[:100])}))
				wantAPIError(t, "UploadPart with another key", err, 403, "AccessDenied")
				in := m.part(&s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1[:100])})
				in.SSECustomerKeyMD5 = aws.String(md5b64(other.key))
				_, err = e.c.UploadPart(e.ctx, in)
				wantAPIError(t, "UploadPart with a mismatching key MD5", err, 400, "InvalidArgument")
				// None of them left a part behind.
				lp, err := e.c.ListParts(e.ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId})
				if err != nil {
					t.Fatal(err)
				}
				if len(lp.Parts) != 0 {
					t.Errorf("refused parts were stored: %d parts listed", len(lp.Parts))
				}
			} else {
				// An SSE-C key on a part of an upload not created with
				// SSE-C is refused: the encryption was fixed at Create.
				stray := sseC(e.customerKey(), "stray")
				_, err := e.c.UploadPart(e.ctx, stray.part(&s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1[:100])}))
				wantAPIError(t, "UploadPart with SSE-C headers on a non-SSE-C upload", err, 400, "InvalidRequest")
			}

			// Part 2 first, then part 1: order does not matter.
			var etags [3]string
			for _, p := range []struct {
				n    int32
				data []byte
			}{{2, p2}, {1, p1}} {
				up, err := e.c.UploadPart(e.ctx, m.part(&s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(p.n), Body: bytes.NewReader(p.data)}))
				if err != nil {
					t.Fatalf("UploadPart %d: %v", p.n, err)
				}
				m.checkHeaders(t, fmt.Sprintf("UploadPart %d", p.n), raw(t, up.ResultMetadata).Header, echo{keyMD5: true})
				etags[p.n] = aws.ToString(up.ETag)
				if (m.kind == kS3) != (etags[p.n] == quoted(md5hex(p.data))) {
					t.Errorf("part %d ETag %s vs plaintext MD5 %s: must be equal only for SSE-S3", p.n, etags[p.n], md5hex(p.data))
				}
			}

			lp, err := e.c.ListParts(e.ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId})
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if len(lp.Parts) != 2 {
				t.Fatalf("ListParts: %d parts, want 2", len(lp.Parts))
			}
			for i, want := range []struct {
				size int
				etag string
			}{{len(p1), etags[1]}, {len(p2), etags[2]}} {
				p := lp.Parts[i]
				if aws.ToInt32(p.PartNumber) != int32(i+1) || aws.ToInt64(p.Size) != int64(want.size) || aws.ToString(p.ETag) != want.etag {
					t.Errorf("ListParts[%d] = #%d %d bytes %s, want #%d %d bytes %s", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag), i+1, want.size, want.etag)
				}
			}

			comp, err := e.c.CompleteMultipartUpload(e.ctx, m.complete(&s3.CompleteMultipartUploadInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
					{PartNumber: aws.Int32(1), ETag: aws.String(etags[1])},
					{PartNumber: aws.Int32(2), ETag: aws.String(etags[2])},
				}},
			}))
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			m.checkHeaders(t, "CompleteMultipartUpload", raw(t, comp.ResultMetadata).Header, echo{keyMD5: true})
			etag := aws.ToString(comp.ETag)
			plainETag := quoted(multipartETag(p1, p2))
			if (m.kind == kS3) != (etag == plainETag) {
				t.Errorf("multipart ETag %s vs plaintext multipart ETag %s: equal only for SSE-S3", etag, plainETag)
			}
			if !strings.HasSuffix(strings.Trim(etag, `"`), "-2") {
				t.Errorf("multipart ETag %s does not end in -2", etag)
			}

			all := append(append([]byte(nil), p1...), p2...)
			got, out := e.getObject(t, bucket, key, "", m)
			if !bytes.Equal(got, all) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(all))
			}
			m.checkHeaders(t, "GET", raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
			// No part count on a whole-object read (only with partNumber, as S3).
			if aws.ToString(out.ETag) != etag || out.PartsCount != nil {
				t.Errorf("GET ETag %s parts %v, want %s and no part count", aws.ToString(out.ETag), out.PartsCount, etag)
			}
			for _, r := range [][2]int{{len(p1) - 5, len(p1) + 5}, {0, len(p1)}, {len(p1) - seg, len(all) - 1}, {len(p1) + seg - 1, len(p1) + seg}} {
				got, _ := e.getObject(t, bucket, key, fmt.Sprintf("bytes=%d-%d", r[0], r[1]), m)
				if !bytes.Equal(got, all[r[0]:r[1]+1]) {
					t.Errorf("range %d-%d differs", r[0], r[1])
				}
			}
			if m.kind == kSSEC {
				_, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				wantAPIError(t, "GET of the multipart SSE-C object without key", err, 400, "InvalidRequest")
			}
		})
	}
}
