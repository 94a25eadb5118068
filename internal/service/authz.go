package service

import (
	"context"
	"errors"
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Canonical actions (S3 names; dialects map their own names onto these).
const (
	ActListAllMyBuckets  = "s3:ListAllMyBuckets"
	ActCreateBucket      = "s3:CreateBucket"
	ActDeleteBucket      = "s3:DeleteBucket"
	ActListBucket        = "s3:ListBucket"
	ActGetBucketLocation = "s3:GetBucketLocation"
	ActListUploads       = "s3:ListBucketMultipartUploads"
	ActGetObject         = "s3:GetObject"
	ActPutObject         = "s3:PutObject"
	ActDeleteObject      = "s3:DeleteObject"
	ActListParts         = "s3:ListMultipartUploadParts"
	ActAbortUpload       = "s3:AbortMultipartUpload"
	ActGetEncryption     = "s3:GetEncryptionConfiguration"
	ActPutEncryption     = "s3:PutEncryptionConfiguration"
	// ActDeleteEncryption is granted by s3:PutEncryptionConfiguration (as
	// in S3) and by the vendors' own DeleteBucketEncryption actions.
	ActDeleteEncryption    = "s3:DeleteEncryptionConfiguration"
	ActGetBucketPolicy     = "s3:GetBucketPolicy"
	ActPutBucketPolicy     = "s3:PutBucketPolicy"
	ActDeleteBucketPolicy  = "s3:DeleteBucketPolicy"
	ActGetBucketACL        = "s3:GetBucketAcl"
	ActPutBucketACL        = "s3:PutBucketAcl"
	ActGetObjectACL        = "s3:GetObjectAcl"
	ActPutObjectACL        = "s3:PutObjectAcl"
	ActGetBucketVersioning = "s3:GetBucketVersioning"
	ActPutBucketVersioning = "s3:PutBucketVersioning"
	ActListBucketVersions  = "s3:ListBucketVersions"
	ActGetObjectVersion    = "s3:GetObjectVersion"
	ActDeleteObjectVersion = "s3:DeleteObjectVersion"
	ActGetObjectVersionACL = "s3:GetObjectVersionAcl"
	ActPutObjectVersionACL = "s3:PutObjectVersionAcl"
)

// Decision is a policy evaluation outcome.
type Decision int

// Decisions.
const (
	NotApplicable Decision = iota
	Allow
	Deny
)

// AuthzRequest is what a policy is evaluated against.
type AuthzRequest struct {
	Principal string // user name; "" for anonymous
	Action    string // canonical action
	Resource  string // arn:aws:s3:::bucket[/key]
	Context   map[string][]string
}

// Policies evaluates policy documents. The node wires it to the policy
// language (internal/iam/policy); the service only asks for decisions.
type Policies interface {
	// Decide evaluates a bucket policy document (nil: none) and a user's
	// attached policies (canned names or documents) together: an explicit
	// Deny anywhere wins, then any Allow. source names the deciding
	// statement for the audit log.
	Decide(bucketPolicy []byte, identity []string, r *AuthzRequest) (d Decision, source string)
}

// Canned ACLs (canonical values; dialects map theirs).
const (
	ACLDefault           = "" // objects: inherit the bucket's ACL
	ACLPrivate           = "private"
	ACLPublicRead        = "public-read"
	ACLPublicReadWrite   = "public-read-write"
	ACLAuthenticatedRead = "authenticated-read"
)

// ValidACL reports whether acl is a canonical canned ACL.
func ValidACL(acl string, object bool) bool {
	switch acl {
	case ACLPrivate, ACLPublicRead, ACLPublicReadWrite, ACLAuthenticatedRead:
		return true
	case ACLDefault:
		return object
	}
	return false
}

// Bucket configuration names.
const (
	configPolicy = "policy"
	configACL    = "acl"
)

// access is one authorization question.
type access struct {
	action string
	bucket *meta.Bucket
	key    string       // "" for bucket-level actions
	object *meta.Object // for object-ACL grants on reads
	extra  map[string][]string
	quiet  bool // a probe, not a request: a refusal is not audited
}

func arn(bucket, key string) string {
	if key == "" {
		return "arn:aws:s3:::" + bucket
	}
	return "arn:aws:s3:::" + bucket + "/" + key
}

// authorize decides a request: an explicit Deny in the bucket policy or
// the user's policies refuses, even root (as in AWS, where a bucket
// policy's Deny binds the account root too, so a guardrail such as "deny
// unencrypted PUTs" holds for everyone); root and the bucket owner may
// always manage the bucket policy, so a policy can never lock its bucket
// away for good. Otherwise root and the owner are allowed, then an Allow
// from a policy, then the canned ACLs grant; else it is refused. Every
// refusal is audited.
func (s *Service) authorize(ctx context.Context, p Principal, a access) error {
	owner := !p.Anonymous() && a.bucket.Owner == p.User
	d, stmt := NotApplicable, ""
	if s.evaluatesPolicies(p, a.bucket) {
		extra := a.extra
		if a.object != nil { // s3:ExistingObjectTag/<key>
			extra = tagContext(mergeContext(nil, extra), condExistingTag, a.object.Tags, false)
		}
		r := &AuthzRequest{Principal: p.User, Action: a.action, Resource: arn(a.bucket.Name, a.key), Context: mergeContext(p.conditions(), extra)}
		d, stmt = s.policies.Decide(a.bucket.Config[configPolicy], p.Policies, r)
	}
	pab := publicAccessBlock(a.bucket)
	if d == Allow && p.Anonymous() && pab.RestrictPublicBuckets && s.publicPolicy(a.bucket.Config[configPolicy]) {
		// Only the bucket policy can allow an anonymous request.
		d, stmt = NotApplicable, ""
	}
	source := "no grant (not owner, no policy or ACL allows)"
	switch {
	case d == Deny:
		source = "explicit deny: " + stmt
		if (p.Root || owner) && policyManagement(a.action) {
			return nil
		}
	case p.Root, owner, d == Allow:
		return nil
	case !pab.IgnorePublicAcls && aclGrants(p, a):
		return nil
	}
	if !a.quiet {
		s.denied(ctx, p, a.action, arn(a.bucket.Name, a.key), source)
	}
	return errs.AccessDenied
}

// evaluatesPolicies reports whether authorize consults policies for p on
// b (a bucket policy, or policies attached to p), and so whether an
// access needs its condition context (extra) built.
func (s *Service) evaluatesPolicies(p Principal, b *meta.Bucket) bool {
	return s.policies != nil && (b.Config[configPolicy] != nil || len(p.Policies) > 0)
}

// policyManagement reports whether action reads or changes a bucket policy.
func policyManagement(action string) bool {
	return action == ActPutBucketPolicy || action == ActDeleteBucketPolicy || action == ActGetBucketPolicy
}

// authorizeAccount decides an action on no existing bucket (creating one,
// listing one's own). Anonymous requests may not; a user without attached
// policies may (every account can own buckets); a user with policies needs
// one that allows the action, as in IAM, so a readonly user can't create
// a bucket and then own it.
func (s *Service) authorizeAccount(ctx context.Context, p Principal, action, resource string) error {
	switch {
	case p.Root:
		return nil
	case p.Anonymous():
		return s.denied(ctx, p, action, resource, "anonymous")
	case s.policies == nil || len(p.Policies) == 0:
		return nil
	}
	d, stmt := s.policies.Decide(nil, p.Policies, &AuthzRequest{Principal: p.User, Action: action, Resource: resource, Context: p.conditions()})
	if d == Allow {
		return nil
	}
	source := "no attached policy allows it"
	if d == Deny {
		source = "explicit deny: " + stmt
	}
	return s.denied(ctx, p, action, resource, source)
}

// denied logs and audits a refusal, with the request's id, and returns
// AccessDenied.
func (s *Service) denied(ctx context.Context, p Principal, action, resource, source string) error {
	s.log.InfoContext(ctx, "access denied", "principal", principalName(p), "action", action, "resource", resource, "source", source)
	audit.Record(ctx, s.audit, audit.Event{Type: audit.TypeDenied, Action: action, Outcome: audit.Denied,
		Principal: principalName(p), Resource: resource, Reason: source})
	return errs.AccessDenied
}

func principalName(p Principal) string {
	if p.Anonymous() {
		return "anonymous"
	}
	return p.User
}

func mergeContext(base, extra map[string][]string) map[string][]string {
	if len(extra) == 0 {
		return base
	}
	m := make(map[string][]string, len(base)+len(extra))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// aclGrants applies the canned ACLs: a bucket ACL opens listing (and, with
// public-read-write, writing); an object ACL opens reading; an object with
// the default ACL follows its bucket's.
func aclGrants(p Principal, a access) bool {
	bucketACL := string(a.bucket.Config[configACL])
	permits := func(acl string, write bool) bool {
		switch acl {
		case ACLPublicReadWrite:
			return true
		case ACLPublicRead:
			return !write
		case ACLAuthenticatedRead:
			return !write && !p.Anonymous()
		}
		return false
	}
	switch a.action {
	case ActListBucket, ActListUploads, ActGetBucketLocation, ActListBucketVersions:
		return permits(bucketACL, false)
	case ActPutObject, ActDeleteObject, ActAbortUpload, ActListParts, ActDeleteObjectVersion:
		return bucketACL == ACLPublicReadWrite
	case ActGetObject, ActGetObjectVersion:
		if a.object == nil {
			return false
		}
		acl := a.object.ACL
		if acl == ACLDefault {
			acl = bucketACL
		}
		return permits(acl, false)
	}
	return false
}

// sseContext is the condition context of an encrypted write, in S3's key
// names and values (a policy in any dialect's names is mapped to these).
func sseContext(spec *sse.Spec, enc *meta.Encryption) map[string][]string {
	mode, keyID, alg := sse.None, "", ""
	switch {
	case spec != nil:
		mode, keyID, alg = spec.Mode, spec.KeyID, spec.Algorithm
	case enc != nil:
		mode, keyID, alg = sse.Mode(enc.Mode), enc.KeyID, enc.Algorithm
	}
	m := map[string][]string{}
	switch mode {
	case sse.Managed:
		v := "AES256"
		if alg == sse.SM4 {
			v = "SM4" // OSS/COS managed SM4
		}
		m["s3:x-amz-server-side-encryption"] = []string{v}
	case sse.KMS:
		m["s3:x-amz-server-side-encryption"] = []string{"aws:kms"}
		if keyID != "" {
			m["s3:x-amz-server-side-encryption-aws-kms-key-id"] = []string{keyID}
		}
	case sse.Customer:
		m["s3:x-amz-server-side-encryption-customer-algorithm"] = []string{"AES256"}
	}
	return m
}

// bucketFor loads a bucket and authorizes action on it (key names the
// object for object actions).
func (s *Service) bucketFor(ctx context.Context, p Principal, action, name, key string) (*meta.Bucket, error) {
	b, err := s.meta.GetBucket(ctx, name)
	if err != nil {
		return nil, mapMeta(err)
	}
	return b, s.authorize(ctx, p, access{action: action, bucket: b, key: key})
}

// listContext is the condition context of a listing.
func listContext(prefix, delimiter string, maxKeys int) map[string][]string {
	m := map[string][]string{"s3:prefix": {prefix}}
	if delimiter != "" {
		m["s3:delimiter"] = []string{delimiter}
	}
	m["s3:max-keys"] = []string{strconv.Itoa(maxKeys)}
	return m
}

// readable loads an object p may read (its ACL may grant what the bucket
// does not): the current version, or with versionID that version (which
// S3 authorizes as GetObjectVersion). A missing object is NoSuchKey (or
// NoSuchVersion) only to those allowed to read it; a delete marker is a
// *DeleteMarkerError: NoSuchKey when current, MethodNotAllowed when named.
// Parts kept inline have their bytes as into keeps them (bucketObject).
func (s *Service) readable(ctx context.Context, p Principal, bucket, key, versionID string, into func([]byte) []byte) (*meta.Bucket, *meta.Object, error) {
	b, o, err := s.bucketObject(ctx, bucket, key, versionID, into)
	if b == nil {
		return nil, nil, mapMeta(err)
	}
	action := ActGetObject
	if versionID != "" {
		action = ActGetObjectVersion
	}
	if err != nil {
		if aerr := s.authorize(ctx, p, access{action: action, bucket: b, key: key}); aerr != nil {
			return nil, nil, aerr
		}
		var dm *meta.DeleteMarkerError
		if errors.As(err, &dm) {
			return nil, nil, markerError(b, dm.Marker, errs.NoSuchKey)
		}
		return nil, nil, mapMeta(err)
	}
	if err := s.authorize(ctx, p, access{action: action, bucket: b, key: key, object: o}); err != nil {
		return nil, nil, err
	}
	if o.DeleteMarker {
		return nil, nil, markerError(b, o, errs.MethodNotAllowed)
	}
	reportVersion(b, o)
	return b, o, nil
}

// writable loads a bucket p may write key into with the requested
// encryption and tags (policy conditions see the request's SSE parameters
// and tags; tags also need s3:PutObjectTagging).
func (s *Service) writable(ctx context.Context, p Principal, bucket, key string, spec *sse.Spec, tags []meta.Tag) (*meta.Bucket, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	a := access{action: ActPutObject, bucket: b, key: key}
	if s.evaluatesPolicies(p, b) {
		a.extra = tagContext(sseContext(spec, nil), condRequestTag, tags, true)
	}
	if err := s.authorize(ctx, p, a); err != nil {
		return nil, err
	}
	return b, s.authorizeTagging(ctx, p, b, key, tags)
}

// writableNew is writable for an object written with its own encryption
// and canned ACL (a PUT, a copy, a multipart upload): it also refuses a KMS
// key p may not encrypt under and a public ACL the bucket blocks.
func (s *Service) writableNew(ctx context.Context, p Principal, bucket, key string, spec *sse.Spec, tags []meta.Tag, acl string) (*meta.Bucket, error) {
	b, err := s.writable(ctx, p, bucket, key, spec, tags)
	if err != nil {
		return nil, err
	}
	if err := s.checkWriteKey(ctx, p, b, spec); err != nil {
		return nil, err
	}
	return b, checkACL(b, acl)
}
