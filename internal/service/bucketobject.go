package service

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// bucketObject reads a bucket and the current version of key (versionID
// "") or the version named: in one round trip where the store can
// (meta.BucketObjectReader, PostgreSQL). Where the store lets the read
// say (meta.RecordReader, bbolt), each inline part's bytes are kept as
// into keeps them, and with into nil not read at all: a HEAD sends none.
// The bucket is nil only with the bucket's error; with a bucket, err is
// the object's.
func (s *Service) bucketObject(ctx context.Context, bucket, key, versionID string, into func([]byte) []byte) (*meta.Bucket, *meta.Object, error) {
	if r, ok := s.meta.(meta.BucketObjectReader); ok {
		return r.GetBucketObject(ctx, bucket, key, versionID)
	}
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	var o *meta.Object
	if r, ok := s.meta.(meta.RecordReader); ok {
		o, err = r.ReadObject(ctx, bucket, key, versionID, into)
	} else if versionID == "" {
		o, err = s.meta.GetObject(ctx, bucket, key)
	} else {
		o, err = s.meta.GetObjectVersion(ctx, bucket, key, versionID)
	}
	return b, o, err
}
