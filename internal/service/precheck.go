package service

import (
	"context"
	"errors"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Precheck authorizes an operation before its request document is read, so
// that a caller who may not act never has up to megabytes of XML or JSON
// read and parsed on its behalf. The operation authorizes again with what
// the document says (the keys of a multi-delete, the parts of a Complete);
// Precheck refuses only what that later check would refuse whatever the
// document.
//
// action is the operation's canonical action: ActCreateBucket is decided
// at the account level; ActDeleteObject with no key is a multi-object
// delete, whose keys are not known yet; any other action is decided on
// bucket (and key).
func (s *Service) Precheck(ctx context.Context, p Principal, action, bucket, key string) error {
	switch {
	case action == ActCreateBucket:
		return s.authorizeAccount(ctx, p, ActCreateBucket, arn(bucket, ""))
	case action == ActDeleteObject && key == "":
		return s.mayDeleteSome(ctx, p, bucket)
	}
	_, err := s.bucketFor(ctx, p, action, bucket, key)
	return err
}

// PrecheckComplete authorizes a CompleteMultipartUpload before its part
// list is read: as the upload's writes are (with its encryption in the
// policy context). An upload that is gone is left to the operation, which
// answers a repeated Complete with the object it made.
func (s *Service) PrecheckComplete(ctx context.Context, p Principal, bucket, key, uploadID string) error {
	_, err := s.upload(ctx, p, ActPutObject, bucket, key, uploadID)
	if errors.Is(err, errs.NoSuchUpload) {
		return nil
	}
	return err
}

// mayDeleteSome refuses an anonymous multi-object delete when no key of
// bucket could be deleted: no policy that might allow a key and no ACL that
// opens writes (what authorize would conclude for every key). A signed
// caller is answered per key, as S3 does (200 with AccessDenied entries).
func (s *Service) mayDeleteSome(ctx context.Context, p Principal, bucket string) error {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return mapMeta(err)
	}
	switch {
	case !p.Anonymous():
		return nil
	case s.policies != nil && (b.Config[configPolicy] != nil || len(p.Policies) > 0):
		return nil // decided per key
	case aclGrants(p, access{action: ActDeleteObject, bucket: b}):
		return nil
	}
	return s.denied(ctx, p, ActDeleteObject, arn(bucket, ""), "no grant (not owner, no policy or ACL allows)")
}
