package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// S3's tag limits.
const (
	MaxObjectTags  = 10
	MaxBucketTags  = 50
	MaxTagKeyLen   = 128 // UTF-16 code units, as S3 counts
	MaxTagValueLen = 256
)

// Tagging actions.
const (
	ActGetObjectTagging    = "s3:GetObjectTagging"
	ActPutObjectTagging    = "s3:PutObjectTagging"
	ActDeleteObjectTagging = "s3:DeleteObjectTagging"
	ActGetBucketTagging    = "s3:GetBucketTagging"
	// ActPutBucketTagging also governs DeleteBucketTagging, as in S3.
	ActPutBucketTagging = "s3:PutBucketTagging"
)

const configTagging = "tagging"

// Policy condition keys of tags (lower case, as the evaluator keys its
// context; the tag key part is lower-cased too, since policy keys are
// matched case-insensitively).
const (
	condExistingTag = "s3:existingobjecttag/"
	condRequestTag  = "s3:requestobjecttag/"
	condRequestKeys = "s3:requestobjecttagkeys"
)

var (
	errTooManyObjectTags = errs.BadRequest.WithMessage("Object tags cannot be greater than 10")
	errTooManyBucketTags = errs.InvalidTag.WithMessage("Bucket tag count cannot be greater than 50")
	errTagKey            = errs.InvalidTag.WithMessage("The TagKey you have provided is invalid")
	errTagValue          = errs.InvalidTag.WithMessage("The TagValue you have provided is invalid")
	errTagDuplicate      = errs.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
	errTagReserved       = errs.InvalidTag.WithMessage("Your TagKey cannot be prefixed with aws:")
)

// NormalizeTags validates a tag set against S3's rules (at most max tags,
// unique keys of 1-128 and values of 0-256 UTF-16 units drawn from
// letters, digits, white space and _ . : / = + - @, no "aws:" keys) and
// returns it sorted by key, the order S3 returns tags in.
func NormalizeTags(tags []meta.Tag, max int) ([]meta.Tag, error) {
	if len(tags) > max {
		if max == MaxObjectTags {
			return nil, errTooManyObjectTags
		}
		return nil, errTooManyBucketTags
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if !validTagText(t.Key, 1, MaxTagKeyLen) {
			return nil, errTagKey
		}
		if !validTagText(t.Value, 0, MaxTagValueLen) {
			return nil, errTagValue
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, errTagReserved
		}
		if seen[t.Key] {
			return nil, errTagDuplicate
		}
		seen[t.Key] = true
	}
	if len(tags) == 0 {
		return nil, nil
	}
	out := append([]meta.Tag(nil), tags...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func validTagText(s string, minLen, maxLen int) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsNumber(r), unicode.Is(unicode.Z, r), strings.ContainsRune("_.:/=+-@", r):
		default:
			return false
		}
		n += utf16.RuneLen(r)
	}
	return n >= minLen && n <= maxLen
}

// tagContext adds tags to a condition context under prefix (and, for the
// request's tags, their keys under s3:RequestObjectTagKeys).
func tagContext(m map[string][]string, prefix string, tags []meta.Tag, keys bool) map[string][]string {
	if len(tags) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string][]string, len(tags)+1)
	}
	for _, t := range tags {
		k := prefix + strings.ToLower(t.Key)
		m[k] = append(m[k], t.Value)
		if keys {
			m[condRequestKeys] = append(m[condRequestKeys], t.Key)
		}
	}
	return m
}

// authorizeTagging checks, when a write carries tags, that p may also tag
// (S3 requires s3:PutObjectTagging for tags on PutObject, CopyObject and
// CreateMultipartUpload), with the request's tags as conditions.
func (s *Service) authorizeTagging(ctx context.Context, p Principal, b *meta.Bucket, key string, tags []meta.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	return s.authorize(ctx, p, access{action: ActPutObjectTagging, bucket: b, key: key, extra: tagContext(nil, condRequestTag, tags, true)})
}

// taggedObject loads the object whose tags an action reads or changes, and
// authorizes the action with its existing tags (and any new ones) as
// conditions. A missing object is NoSuchKey only to those allowed to act.
// versionID names a version ("": the current one); a named delete marker
// is returned (callers refuse it), a current one is NoSuchKey.
func (s *Service) taggedObject(ctx context.Context, p Principal, action, bucket, key, versionID string, newTags []meta.Tag) (*meta.Bucket, *meta.Object, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, nil, mapMeta(err)
	}
	extra := tagContext(nil, condRequestTag, newTags, true)
	o, err := s.objectVersion(ctx, bucket, key, versionID)
	if err != nil {
		if aerr := s.authorize(ctx, p, access{action: action, bucket: b, key: key, extra: extra}); aerr != nil {
			return nil, nil, aerr
		}
		return nil, nil, mapMeta(err)
	}
	if err := s.authorize(ctx, p, access{action: action, bucket: b, key: key, object: o, extra: extra}); err != nil {
		return nil, nil, err
	}
	return b, o, nil
}

// PutObjectTagging replaces an object's tag set (an empty set removes it).
func (s *Service) PutObjectTagging(ctx context.Context, p Principal, bucket, key, versionID string, tags []meta.Tag) error {
	tags, err := NormalizeTags(tags, MaxObjectTags)
	if err != nil {
		return err
	}
	return s.setObjectTags(ctx, p, ActPutObjectTagging, bucket, key, versionID, tags)
}

// DeleteObjectTagging removes an object's tag set.
func (s *Service) DeleteObjectTagging(ctx context.Context, p Principal, bucket, key, versionID string) error {
	return s.setObjectTags(ctx, p, ActDeleteObjectTagging, bucket, key, versionID, nil)
}

func (s *Service) setObjectTags(ctx context.Context, p Principal, action, bucket, key, versionID string, tags []meta.Tag) error {
	b, o, err := s.taggedObject(ctx, p, action, bucket, key, versionID, tags)
	if err != nil {
		return err
	}
	if o.DeleteMarker {
		return errs.MethodNotAllowed // a delete marker has no tags
	}
	return mapMeta(s.meta.UpdateObjectVersion(ctx, bucket, key, versionID, func(cur *meta.Object) error {
		if cur.ETag != o.ETag || !slices.Equal(cur.Tags, o.Tags) {
			// Changed since it was authorized: judge the existing tags
			// the change actually replaces.
			a := access{action: action, bucket: b, key: key, object: cur, extra: tagContext(nil, condRequestTag, tags, true)}
			if err := s.authorize(ctx, p, a); err != nil {
				return err
			}
		}
		cur.Tags = tags
		return nil
	}))
}

// GetObjectTagging returns an object's tags, sorted by key (none: empty).
func (s *Service) GetObjectTagging(ctx context.Context, p Principal, bucket, key, versionID string) ([]meta.Tag, error) {
	_, o, err := s.taggedObject(ctx, p, ActGetObjectTagging, bucket, key, versionID, nil)
	if err != nil {
		return nil, err
	}
	if o.DeleteMarker {
		return nil, errs.MethodNotAllowed
	}
	return o.Tags, nil
}

// PutBucketTagging replaces a bucket's tag set (an empty set removes it).
func (s *Service) PutBucketTagging(ctx context.Context, p Principal, bucket string, tags []meta.Tag) error {
	tags, err := NormalizeTags(tags, MaxBucketTags)
	if err != nil {
		return err
	}
	var doc []byte
	if len(tags) > 0 {
		if doc, err = json.Marshal(tags); err != nil {
			return err
		}
	}
	return s.setBucketConfig(ctx, p, ActPutBucketTagging, bucket, configTagging, doc)
}

// GetBucketTagging returns a bucket's tags, or NoSuchTagSet.
func (s *Service) GetBucketTagging(ctx context.Context, p Principal, bucket string) ([]meta.Tag, error) {
	doc, err := s.bucketConfig(ctx, p, ActGetBucketTagging, bucket, configTagging)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errs.NoSuchTagSet
	}
	var tags []meta.Tag
	if err := json.Unmarshal(doc, &tags); err != nil {
		return nil, fmt.Errorf("bucket %s tagging: %w", bucket, err)
	}
	return tags, nil
}

// DeleteBucketTagging removes a bucket's tags (none is not an error).
func (s *Service) DeleteBucketTagging(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActPutBucketTagging, bucket, configTagging, nil)
}
