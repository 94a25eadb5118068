package e2esse

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestRanges reads ranges of encrypted objects: within a segment, across
// segment (64 KiB) boundaries, across multipart part boundaries (which do
// not fall on segment boundaries here), suffix and open-ended ranges, for
// SSE-S3, SSE-KMS and SSE-C, single-part and multipart, with unencrypted
// objects as the control.
func TestRanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("ranges")

	const (
		singleSize = 5*seg + 1234 // six segments, the last short
		part1      = partMin + 1000
		part2      = seg + 4464 // two segments in part 2
	)
	type obj struct {
		key   string
		size  int
		parts []int // part sizes; nil for single PUT
	}
	objs := []obj{
		{key: "single", size: singleSize},
		{key: "multipart", size: part1 + part2, parts: []int{part1, part2}},
	}
	type rng struct {
		header     string
		start, end int // expected inclusive range; computed per size below
	}
	rangesFor := func(size int, parts []int) []rng {
		r := []rng{
			{"bytes=0-0", 0, 0},
			{fmt.Sprintf("bytes=%d-%d", size-1, size-1), size - 1, size - 1},
			{"bytes=0-", 0, size - 1},
			{fmt.Sprintf("bytes=%d-%d", seg-1, seg), seg - 1, seg},            // across the first segment boundary
			{fmt.Sprintf("bytes=%d-%d", seg, 2*seg-1), seg, 2*seg - 1},        // exactly one segment
			{fmt.Sprintf("bytes=%d-%d", seg-3, 3*seg+3), seg - 3, 3*seg + 3},  // spans four segments
			{fmt.Sprintf("bytes=%d-%d", 1000, 1000+100), 1000, 1100},          // inside one segment
			{fmt.Sprintf("bytes=%d-%d", 2*seg, size+1000), 2 * seg, size - 1}, // end past the object: clamped
			{fmt.Sprintf("bytes=%d-", size-seg-7), size - seg - 7, size - 1},  // open-ended, across the last boundary
			{"bytes=-1", size - 1, size - 1},                                  // suffix
			{"bytes=-100", size - 100, size - 1},
			{fmt.Sprintf("bytes=-%d", seg+100), size - seg - 100, size - 1}, // suffix across a segment boundary
			{fmt.Sprintf("bytes=-%d", size+5), 0, size - 1},                 // suffix longer than the object
		}
		if parts != nil {
			b := parts[0] // first byte of part 2
			r = append(r,
				rng{fmt.Sprintf("bytes=%d-%d", b-1, b), b - 1, b},                               // the two bytes around the part boundary
				rng{fmt.Sprintf("bytes=%d-%d", b-seg-10, b+seg+10), b - seg - 10, b + seg + 10}, // several segments each side
				rng{fmt.Sprintf("bytes=%d-%d", b, b), b, b},                                     // first byte of part 2
				rng{fmt.Sprintf("bytes=%d-%d", b-1000, b-1), b - 1000, b - 1},                   // the short last segment of part 1
				rng{fmt.Sprintf("bytes=-%d", parts[1]+1), b - 1, size - 1},                      // suffix reaching back into part 1
				rng{fmt.Sprintf("bytes=%d-", b+seg), b + seg, size - 1},                         // the last segment of part 2
			)
		}
		return r
	}

	modes := []mode{none, sseS3, sseKMS("key-1"), sseC(e.customerKey(), "SSE-C")}
	for _, m := range modes {
		for _, o := range objs {
			t.Run(m.name+"/"+o.key, func(t *testing.T) {
				t.Parallel()
				data := randBytes(o.size)
				key := o.key + "-" + m.name
				if o.parts == nil {
					e.putObject(t, bucket, key, data, m)
				} else {
					e.multipartUpload(t, bucket, key, m, data, o.parts)
				}
				for _, r := range rangesFor(o.size, o.parts) {
					got, out := e.getObject(t, bucket, key, r.header, m)
					want := data[r.start : r.end+1]
					if !bytes.Equal(got, want) {
						t.Errorf("%s: got %d bytes, want %d (bytes %d-%d); first differing byte at %d", r.header, len(got), len(want), r.start, r.end, firstDiff(got, want))
					}
					wantCR := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end, o.size)
					if cr := aws.ToString(out.ContentRange); cr != wantCR {
						t.Errorf("%s: Content-Range %q, want %q", r.header, cr, wantCR)
					}
					if aws.ToInt64(out.ContentLength) != int64(len(want)) {
						t.Errorf("%s: Content-Length %d, want %d", r.header, aws.ToInt64(out.ContentLength), len(want))
					}
					if h := raw(t, out.ResultMetadata); h.StatusCode != 206 {
						t.Errorf("%s: status %d, want 206", r.header, h.StatusCode)
					}
					m.checkHeaders(t, "GET "+r.header, raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
				}
				// A range starting past the end is not satisfiable.
				_, err := e.c.GetObject(e.ctx, m.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-", o.size))}))
				wantAPIError(t, "range past the end", err, 416, "InvalidRange")
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// multipartUpload uploads data in parts of the given sizes under m (parts
// sent last to first, to show order does not matter) and completes it.
func (e *env) multipartUpload(t testing.TB, bucket, key string, m mode, data []byte, sizes []int) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	cr, err := e.c.CreateMultipartUpload(e.ctx, m.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
	if err != nil {
		t.Fatalf("CreateMultipartUpload (%s): %v", m.name, err)
	}
	parts := make([]types.CompletedPart, len(sizes))
	offs := make([]int, len(sizes))
	for i := 1; i < len(sizes); i++ {
		offs[i] = offs[i-1] + sizes[i-1]
	}
	for i := len(sizes) - 1; i >= 0; i-- {
		n := int32(i + 1)
		up, err := e.c.UploadPart(e.ctx, m.part(&s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(data[offs[i] : offs[i]+sizes[i]]),
		}))
		if err != nil {
			t.Fatalf("UploadPart %d (%s): %v", n, m.name, err)
		}
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(n), ETag: up.ETag}
	}
	out, err := e.c.CompleteMultipartUpload(e.ctx, m.complete(&s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}))
	if err != nil {
		t.Fatalf("CompleteMultipartUpload (%s): %v", m.name, err)
	}
	return out
}
