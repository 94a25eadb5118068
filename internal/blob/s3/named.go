package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

// The store names blobs up front, so the service journals a blob before
// its first byte reaches the tier (meta.PendingBlobs): a node killed in
// mid-write leaves an entry whose sweep removes what the tier holds of it,
// the unfinished multipart upload included.
var (
	_ blob.Namer       = (*Store)(nil)
	_ blob.NamedLinker = (*Store)(nil)
)

// NewID implements blob.Namer.
func (s *Store) NewID() (string, error) { return newID() }

// CreateAs implements blob.Namer. IDs are 128 random bits, so Commit does
// not check for an existing object under id: conditional writes are not
// something every S3-compatible store offers, and a clash is not a risk.
func (s *Store) CreateAs(ctx context.Context, id string) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, fmt.Errorf("blob/s3: invalid blob id %q", id)
	}
	return &writer{s: s, ctx: ctx, id: id, buf: s.getBuf()}, nil
}

// LinkAs implements blob.NamedLinker: Link under newID.
func (s *Store) LinkAs(ctx context.Context, id, newID string) error {
	if !validID(newID) {
		return fmt.Errorf("blob/s3: invalid blob id %q", newID)
	}
	return s.linkAs(ctx, id, newID)
}

// abortUploadsOf aborts the unfinished multipart uploads of blob id: what
// a writer killed before Commit or Abort left on the tier.
func (s *Store) abortUploadsOf(ctx context.Context, id string) error {
	key := s.key(id)
	in := &awss3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(key)}
	for {
		out, err := s.c.ListMultipartUploads(ctx, in)
		if err != nil {
			return s.fail("list uploads", id, err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) != key {
				continue
			}
			if err := s.abortUpload(key, u.UploadId); err != nil {
				return s.fail("abort upload", id, err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// missing is Delete's answer for a blob that is not (or not yet) an
// object: its unfinished uploads are aborted, and the answer is
// blob.ErrNotFound unless that fails.
func (s *Store) missing(ctx context.Context, id string, err error) error {
	if !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	if aerr := s.abortUploadsOf(ctx, id); aerr != nil {
		return aerr
	}
	return err
}
