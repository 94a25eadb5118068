package service

import (
	"context"

	"strongroom/internal/meta"
)

// ActGetObjectAttributes is needed, with s3:GetObject, for
// GetObjectAttributes (as in S3).
const ActGetObjectAttributes = "s3:GetObjectAttributes"

// GetObjectAttributes returns an object's metadata for GetObjectAttributes:
// the caller needs s3:GetObject and s3:GetObjectAttributes, and the
// customer key of an SSE-C object.
func (s *Service) GetObjectAttributes(ctx context.Context, p Principal, in GetObjectInput) (*meta.Object, error) {
	in.Range, in.Conditions = nil, Conditions{}
	o, err := s.HeadObject(ctx, p, in)
	if err != nil {
		return nil, err
	}
	b, err := s.meta.GetBucket(ctx, in.Bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	if err := s.authorize(ctx, p, access{action: ActGetObjectAttributes, bucket: b, key: in.Key, object: o}); err != nil {
		return nil, err
	}
	return o, nil
}
