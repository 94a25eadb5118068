package service

import (
	"context"
	"encoding/json"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// PublicAccessBlock actions (S3: DeletePublicAccessBlock needs
// s3:PutBucketPublicAccessBlock).
const (
	ActGetPublicAccessBlock = "s3:GetBucketPublicAccessBlock"
	ActPutPublicAccessBlock = "s3:PutBucketPublicAccessBlock"
)

const configPublicAccessBlock = "publicAccessBlock"

// PublicAccessBlock is a bucket's Block Public Access configuration.
type PublicAccessBlock struct {
	// BlockPublicAcls refuses requests that set a public ACL (bucket or
	// object, by PutAcl, PutObject, CopyObject or CreateMultipartUpload).
	BlockPublicAcls bool
	// IgnorePublicAcls makes public ACLs grant nothing.
	IgnorePublicAcls bool
	// BlockPublicPolicy refuses a bucket policy that is public.
	BlockPublicPolicy bool
	// RestrictPublicBuckets makes a public bucket policy grant nothing to
	// anonymous requests (every user is in the bucket owner's account).
	RestrictPublicBuckets bool
}

// PublicPolicies is implemented by a Policies that can tell whether a
// bucket policy is public (grants access to anonymous requests without
// pinning a source network, account or ARN).
type PublicPolicies interface {
	PublicBucketPolicy(doc []byte) bool
}

var (
	errPublicACLBlocked    = errs.AccessDenied.WithMessage("Access Denied: public ACLs are blocked by the bucket's BlockPublicAcls setting")
	errPublicPolicyBlocked = errs.AccessDenied.WithMessage("Access Denied: public policies are blocked by the bucket's BlockPublicPolicy setting")
)

// publicACL reports whether a canned ACL grants to everyone (AllUsers) or
// to every authenticated user (AuthenticatedUsers), which S3 counts as
// public.
func publicACL(acl string) bool {
	switch acl {
	case ACLPublicRead, ACLPublicReadWrite, ACLAuthenticatedRead:
		return true
	}
	return false
}

// publicAccessBlock returns b's configuration (zero: nothing blocked).
func publicAccessBlock(b *meta.Bucket) PublicAccessBlock {
	doc := b.Config[configPublicAccessBlock]
	if doc == nil {
		return PublicAccessBlock{} // before c, which escapes: no allocation per request
	}
	var c PublicAccessBlock
	if err := json.Unmarshal(doc, &c); err != nil {
		// Fail closed: an unreadable setting blocks everything.
		return PublicAccessBlock{true, true, true, true}
	}
	return c
}

// checkACL refuses setting a public ACL on a bucket that blocks them.
func checkACL(b *meta.Bucket, acl string) error {
	if publicACL(acl) && publicAccessBlock(b).BlockPublicAcls {
		return errPublicACLBlocked
	}
	return nil
}

// publicPolicy reports whether doc is a public bucket policy.
func (s *Service) publicPolicy(doc []byte) bool {
	pp, ok := s.policies.(PublicPolicies)
	return ok && doc != nil && pp.PublicBucketPolicy(doc)
}

// PutPublicAccessBlock stores a bucket's Block Public Access settings.
func (s *Service) PutPublicAccessBlock(ctx context.Context, p Principal, bucket string, c PublicAccessBlock) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutPublicAccessBlock, bucket, configPublicAccessBlock, doc)
}

// GetPublicAccessBlock returns a bucket's Block Public Access settings, or
// NoSuchPublicAccessBlockConfiguration.
func (s *Service) GetPublicAccessBlock(ctx context.Context, p Principal, bucket string) (PublicAccessBlock, error) {
	b, err := s.bucketFor(ctx, p, ActGetPublicAccessBlock, bucket, "")
	if err != nil {
		return PublicAccessBlock{}, err
	}
	if b.Config[configPublicAccessBlock] == nil {
		return PublicAccessBlock{}, errs.NoSuchPublicAccessBlock
	}
	return publicAccessBlock(b), nil
}

// DeletePublicAccessBlock removes a bucket's Block Public Access settings.
func (s *Service) DeletePublicAccessBlock(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActPutPublicAccessBlock, bucket, configPublicAccessBlock, nil)
}
