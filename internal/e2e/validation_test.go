package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSDKPartNumber reads parts of an encrypted multipart object the way
// aws-sdk-go-v2 asks for them (GetObject/HeadObject PartNumber): the part's
// decrypted bytes, its Content-Range, the parts count and the object's
// ETag; a part that does not exist is 416 InvalidPartNumber.
func TestSDKPartNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mode{name: "partnumber"})
	c := e.root(t)
	ctx := context.Background()
	b := newBucket(t, c, "parts")
	up := must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAes256}))(t)
	parts := [][]byte{payload(0, 5<<20), payload(7, 1000)}
	var done []types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		out := must(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(p)}))(t)
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	co := must(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}))(t)
	size := len(parts[0]) + len(parts[1])

	g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(2)}))(t)
	if got := readAll(t, g.Body); !bytes.Equal(got, parts[1]) {
		t.Errorf("GetObject part 2: %d bytes, want the part's %d", len(got), len(parts[1]))
	}
	if want := fmt.Sprintf("bytes %d-%d/%d", len(parts[0]), size-1, size); aws.ToString(g.ContentRange) != want {
		t.Errorf("GetObject part 2: Content-Range %q, want %q", aws.ToString(g.ContentRange), want)
	}
	if aws.ToInt32(g.PartsCount) != 2 || aws.ToString(g.ETag) != aws.ToString(co.ETag) || g.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("GetObject part 2: parts count %d, ETag %s (object %s), SSE %q", aws.ToInt32(g.PartsCount), aws.ToString(g.ETag), aws.ToString(co.ETag), g.ServerSideEncryption)
	}
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(1)}))(t)
	if aws.ToInt64(h.ContentLength) != int64(len(parts[0])) || aws.ToInt32(h.PartsCount) != 2 {
		t.Errorf("HeadObject part 1: length %d, parts count %d", aws.ToInt64(h.ContentLength), aws.ToInt32(h.PartsCount))
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(3)})
	wantAPIError(t, err, 416, "InvalidPartNumber")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), PartNumber: aws.Int32(1), Range: aws.String("bytes=0-9")})
	wantAPIError(t, err, 400, "InvalidRequest")
}

// TestSDKWrongRegion: a client configured for another region than the
// server's gets AuthorizationHeaderMalformed.
func TestSDKWrongRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mode{name: "region"})
	b := newBucket(t, e.root(t), "region")
	c := s3.New(e.root(t).Options(), func(o *s3.Options) { o.Region = "eu-central-1" })
	_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(b)})
	wantAPIError(t, err, 400, "AuthorizationHeaderMalformed")
}
