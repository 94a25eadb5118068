package service

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// ActGetObjectAttributes is needed, with s3:GetObject, for
// GetObjectAttributes (as in S3).
const ActGetObjectAttributes = "s3:GetObjectAttributes"

// GetObjectAttributes returns an object's metadata for GetObjectAttributes:
// the caller needs s3:GetObject and s3:GetObjectAttributes, and the
// customer key of an SSE-C object.
func (s *Service) GetObjectAttributes(ctx context.Context, p Principal, in GetObjectInput) (*meta.Object, error) {
	in.Range, in.Conditions = nil, Conditions{}
	b, o, _, err := s.lookup(ctx, p, in, nil)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, access{action: ActGetObjectAttributes, bucket: b, key: in.Key, object: o}); err != nil {
		return nil, err
	}
	return o, nil
}
