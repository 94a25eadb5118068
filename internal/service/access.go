package service

import (
	"context"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// PolicyValidator checks a bucket policy document before it is stored.
type PolicyValidator interface {
	ValidateBucketPolicy(doc []byte) error
}

// PutBucketPolicy stores a bucket policy after validating it.
func (s *Service) PutBucketPolicy(ctx context.Context, p Principal, bucket string, doc []byte) error {
	v, ok := s.policies.(PolicyValidator)
	if !ok {
		return errs.NotImplemented.WithMessage("Bucket policies are not enabled on this server.")
	}
	if err := v.ValidateBucketPolicy(doc); err != nil {
		return err
	}
	b, err := s.bucketFor(ctx, p, ActPutBucketPolicy, bucket, "")
	if err != nil {
		return err
	}
	if publicAccessBlock(b).BlockPublicPolicy && s.publicPolicy(doc) {
		return errPublicPolicyBlocked
	}
	return s.setBucketConfig(ctx, p, ActPutBucketPolicy, bucket, configPolicy, doc)
}

// GetBucketPolicy returns a bucket's policy document.
func (s *Service) GetBucketPolicy(ctx context.Context, p Principal, bucket string) ([]byte, error) {
	doc, err := s.bucketConfig(ctx, p, ActGetBucketPolicy, bucket, configPolicy)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errs.NoSuchBucketPolicy
	}
	return doc, nil
}

// DeleteBucketPolicy removes a bucket's policy (none is not an error).
func (s *Service) DeleteBucketPolicy(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActDeleteBucketPolicy, bucket, configPolicy, nil)
}

// PutBucketACL sets a bucket's canned ACL.
func (s *Service) PutBucketACL(ctx context.Context, p Principal, bucket, acl string) error {
	if !ValidACL(acl, false) {
		return errs.InvalidArgument.WithMessage("Unsupported canned ACL: " + acl)
	}
	b, err := s.bucketFor(ctx, p, ActPutBucketACL, bucket, "")
	if err != nil {
		return err
	}
	if err := checkACL(b, acl); err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutBucketACL, bucket, configACL, []byte(acl))
}

// GetBucketACL returns a bucket's owner and canned ACL.
func (s *Service) GetBucketACL(ctx context.Context, p Principal, bucket string) (owner, acl string, err error) {
	b, err := s.bucketFor(ctx, p, ActGetBucketACL, bucket, "")
	if err != nil {
		return "", "", err
	}
	return b.Owner, bucketACL(b), nil
}

func bucketACL(b *meta.Bucket) string {
	if acl := string(b.Config[configACL]); acl != "" {
		return acl
	}
	return ACLPrivate
}

// PutObjectACL sets the canned ACL ("" follows the bucket's) of an
// object's current version, or with versionID of that version (which S3
// authorizes as PutObjectVersionAcl).
func (s *Service) PutObjectACL(ctx context.Context, p Principal, bucket, key, versionID, acl string) error {
	if !ValidACL(acl, true) {
		return errs.InvalidArgument.WithMessage("Unsupported canned ACL: " + acl)
	}
	action := ActPutObjectACL
	if versionID != "" {
		action = ActPutObjectVersionACL
	}
	// The object's tags are conditions (s3:ExistingObjectTag/<key>).
	b, o, err := s.taggedObject(ctx, p, action, bucket, key, versionID, nil)
	if err != nil {
		return err
	}
	if o.DeleteMarker {
		return errs.MethodNotAllowed // a delete marker has no ACL
	}
	if err := checkACL(b, acl); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateObjectVersion(ctx, bucket, key, versionID, func(o *meta.Object) error {
		o.ACL = acl
		return nil
	}))
}

// GetObjectACL returns the owner and canned ACL ("" follows the bucket's)
// of an object's current version, or of version versionID.
func (s *Service) GetObjectACL(ctx context.Context, p Principal, bucket, key, versionID string) (owner, acl string, err error) {
	action := ActGetObjectACL
	if versionID != "" {
		action = ActGetObjectVersionACL
	}
	_, o, err := s.taggedObject(ctx, p, action, bucket, key, versionID, nil)
	if err != nil {
		return "", "", err
	}
	if o.DeleteMarker {
		return "", "", errs.MethodNotAllowed
	}
	return o.Owner, o.ACL, nil
}
