package service

import (
	"context"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// ListInput selects keys of a bucket. After is exclusive (marker,
// start-after or a decoded continuation token).
type ListInput struct {
	Bucket    string
	Prefix    string
	Delimiter string
	After     string
	MaxKeys   int
}

// ListResult is one page of a listing. Next is the last key or common
// prefix returned, to resume after when Truncated.
type ListResult struct {
	Objects        []*meta.Object
	CommonPrefixes []string
	Truncated      bool
	Next           string
}

// ListObjects lists keys in order, rolling keys that share a prefix up to
// the next delimiter into one common prefix.
func (s *Service) ListObjects(ctx context.Context, p Principal, in ListInput) (*ListResult, error) {
	b, err := s.meta.GetBucket(ctx, in.Bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	if err := s.authorize(ctx, p, access{action: ActListBucket, bucket: b, extra: listContext(in.Prefix, in.Delimiter, in.MaxKeys)}); err != nil {
		return nil, err
	}
	if in.MaxKeys < 0 {
		return nil, errs.InvalidArgument.WithMessage("max-keys must be non-negative")
	}
	max := min(in.MaxKeys, MaxListKeys)
	res := &ListResult{}
	if max == 0 {
		return res, nil
	}
	count := 0
	err = s.meta.ListObjectsDelimited(ctx, in.Bucket, in.Prefix, in.Delimiter, in.After, func(o *meta.Object, cp string) error {
		if count == max {
			res.Truncated = true
			return meta.ErrStop
		}
		count++
		if o == nil {
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			res.Next = cp
			return nil
		}
		res.Objects = append(res.Objects, o)
		res.Next = o.Key
		return nil
	})
	if err != nil {
		return nil, mapMeta(err)
	}
	return res, nil
}

// commonPrefix is the prefix key rolls up to in a listing by prefix and
// delimiter: up to and including the first delimiter after prefix. ok is
// false when the key does not roll up (no delimiter, or none after prefix).
func commonPrefix(key, prefix, delimiter string) (cp string, ok bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}
