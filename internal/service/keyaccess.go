package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// rootUser is the root account's user name (iam.RootUser, which imports
// this package); no user may take it.
const rootUser = "root"

// Key uses a KMS key grant allows.
const (
	KeyEncrypt = "encrypt" // wrap new object keys: PUT, POST, copy, multipart create
	KeyDecrypt = "decrypt" // unwrap object keys: GET, copy source, upload part
)

// checkWriteKey refuses a write that would encrypt under a KMS key p may not
// encrypt under (the request's key, else the bucket default's), or under a
// key pending deletion or destroyed.
func (s *Service) checkWriteKey(ctx context.Context, p Principal, b *meta.Bucket, req *sse.Spec) error {
	def, err := bucketDefault(b)
	if err != nil {
		return err
	}
	spec, err := sse.Resolve(req, def)
	if err != nil || spec == nil || spec.Mode != sse.KMS {
		return err
	}
	return s.checkKeyUse(ctx, p, spec.KeyID, KeyEncrypt)
}

// checkReadKey refuses to unwrap the object key of stored encryption enc
// for p when p may not decrypt under its KMS key, or the key is pending
// deletion or destroyed.
func (s *Service) checkReadKey(ctx context.Context, p Principal, enc *meta.Encryption) error {
	if enc == nil || sse.Mode(enc.Mode) != sse.KMS {
		return nil // managed keys use the default key; SSE-C no KMS key
	}
	return s.checkKeyUse(ctx, p, enc.KeyID, KeyDecrypt)
}

// checkKeyUse decides whether p may use KMS key keyID for use. The
// default key (the aws/s3 of this server) is every user's and can never
// be scheduled for deletion; any other key is usable by the root account,
// its owner and its grantees, unless it is pending deletion or destroyed.
// A store without key policies (one the server refuses; a wrapper that
// hides them) knows no owner or grant: its keys are root's, it fails closed.
func (s *Service) checkKeyUse(ctx context.Context, p Principal, keyID, use string) error {
	id, ok := policyKeyID(keyID)
	if !ok {
		return nil
	}
	pol, err := s.keyPolicy(ctx, id)
	if err != nil {
		return err
	}
	if e := KeyStateError(pol); e != nil {
		s.refusedKey(ctx, p, id, use, e.Code)
		return e
	}
	// The root account's name stands for it where the service acts for a
	// bucket's owner (inventory reports of a root-owned bucket).
	if p.Root || p.User == rootUser || MayUseKey(pol, p.User, use) {
		return nil
	}
	s.refusedKey(ctx, p, id, use, "no grant")
	return errs.KMSAccessDenied.WithMessage(fmt.Sprintf("Access Denied: %s is not authorized to %s with KMS key %q.", principalName(p), use, id))
}

// KeyStateError is the error for using a key pending deletion or
// destroyed, nil for a usable key.
func KeyStateError(pol *meta.KeyPolicy) *errs.Error {
	switch {
	case pol == nil:
		return nil
	case !pol.Destroyed.IsZero():
		return errs.KMSInvalidState.WithMessage(fmt.Sprintf("The KMS key %q was destroyed: data under it is crypto-shredded and cannot be read.", pol.Key))
	case !pol.DeletionDate.IsZero():
		return errs.KMSInvalidState.WithMessage(fmt.Sprintf("The KMS key %q is pending deletion.", pol.Key))
	}
	return nil
}

// MayUseKey reports whether user (not the root account) owns the key of
// pol or holds a grant for use. A key without a policy is root's.
func MayUseKey(pol *meta.KeyPolicy, user, use string) bool {
	if pol == nil || user == "" {
		return false
	}
	if pol.Owner == user {
		return true
	}
	g, ok := pol.Grants[user]
	switch {
	case !ok:
		return false
	case use == KeyEncrypt:
		return g.Encrypt
	case use == KeyDecrypt:
		return g.Decrypt
	}
	return false
}

// refusedKey logs and audits a refused key use (never key material).
func (s *Service) refusedKey(ctx context.Context, p Principal, keyID, use, reason string) {
	s.log.InfoContext(ctx, "key use refused", "principal", principalName(p), "key", keyID, "use", use, "reason", reason)
	audit.Record(ctx, s.audit, audit.Event{Type: audit.TypeDenied, Action: "kms:" + use, Outcome: audit.Denied,
		Principal: principalName(p), Target: keyID, Reason: reason})
}

// checkDefaultKey refuses a bucket default encryption under a KMS key p
// may not encrypt under, when the default is set rather than when used.
func (s *Service) checkDefaultKey(ctx context.Context, p Principal, c *sse.Config) error {
	if c == nil || c.Mode != sse.KMS {
		return nil
	}
	return s.checkKeyUse(ctx, p, c.KeyID, KeyEncrypt)
}

// keyShredded reports whether enc's KMS key was destroyed; known answers
// per key id are kept in seen (one inventory file's).
func (s *Service) keyShredded(ctx context.Context, enc *meta.Encryption, seen map[string]bool) bool {
	kp, ok := s.meta.(meta.KeyPolicies)
	if !ok || enc == nil || sse.Mode(enc.Mode) != sse.KMS || enc.KeyID == "" {
		return false
	}
	id, err := kms.ParseKeyID(enc.KeyID)
	if err != nil {
		return false
	}
	if v, ok := seen[id]; ok {
		return v
	}
	pol, err := kp.GetKeyPolicy(ctx, id)
	v := err == nil && !pol.Destroyed.IsZero()
	seen[id] = v
	return v
}

// kmsRefused audits a key use the KMS itself refused (a disabled or
// unknown key); the request id ties it to the request's principal in the
// access log. Outages and other failures are not refusals.
func (s *Service) kmsRefused(ctx context.Context, err error, keyID, use string) {
	e := errs.As(err)
	if e == nil || (e.Code != errs.KMSDisabled.Code && e.Code != errs.KMSNotFound.Code) {
		return
	}
	if keyID == "" {
		keyID = kms.DefaultKeyName
	}
	audit.Record(ctx, s.audit, audit.Event{Type: audit.TypeDenied, Action: "kms:" + use, Outcome: audit.Denied,
		Target: keyID, Reason: e.Code})
}

// policyKeyID is the canonical id of a key that takes grants; ok is false
// for none, the default key (everyone's) and a malformed id (the KMS's to
// refuse: KMS.NotFoundException).
func policyKeyID(keyID string) (string, bool) {
	if keyID == "" {
		return "", false
	}
	id, err := kms.ParseKeyID(keyID)
	if err != nil || id == kms.DefaultKeyName {
		return "", false
	}
	return id, true
}

// keyPolicy reads key id's policy; nil when it has none (root's key) or
// the store keeps none (fail closed: root only).
func (s *Service) keyPolicy(ctx context.Context, id string) (*meta.KeyPolicy, error) {
	kp, ok := s.meta.(meta.KeyPolicies)
	if !ok {
		return nil, nil
	}
	pol, err := kp.GetKeyPolicy(ctx, id)
	if errors.Is(err, meta.ErrNoSuchKeyPolicy) {
		return nil, nil
	}
	return pol, err
}
