package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ValidBucketName applies the S3 naming rules: 3-63 characters of lower-case
// letters, digits, dots and hyphens, starting and ending with a letter or
// digit, no adjacent dots, not an IP address, none of the prefixes and
// suffixes S3 reserves.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range reservedBucketSuffixes {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
			if p := name[i-1]; p == '.' && c == '.' || p == '.' && c == '-' || p == '-' && c == '.' {
				return false
			}
		default:
			return false
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	return true
}

// S3 reserves these for punycode names, its own buckets, access point
// aliases, Object Lambda, directory and table buckets.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// CreateBucket creates a bucket owned by p. Creating a bucket p already owns
// fails with BucketAlreadyOwnedByYou, one owned by someone else with
// BucketAlreadyExists.
func (s *Service) CreateBucket(ctx context.Context, p Principal, name, region, acl string) (*meta.Bucket, error) {
	return s.CreateBucketWith(ctx, p, name, BucketSettings{Region: region, ACL: acl})
}

// BucketSettings are what a CreateBucket request sets besides the name.
// They are installed with the bucket, in one transaction: a bucket
// created with object lock is never seen, even for a moment, without it.
type BucketSettings struct {
	Region, ACL string
	ObjectLock  bool        // x-amz-bucket-object-lock-enabled (turns versioning on)
	Tags        []meta.Tag  // nil: none
	Encryption  *sse.Config // default encryption; nil: none
}

// CreateBucketWith creates a bucket with its settings; each setting is
// authorized as the request that would set it later.
func (s *Service) CreateBucketWith(ctx context.Context, p Principal, name string, set BucketSettings) (*meta.Bucket, error) {
	region, acl := set.Region, set.ACL
	res := arn(name, "")
	if err := s.authorizeAccount(ctx, p, ActCreateBucket, res); err != nil {
		return nil, err
	}
	if !ValidBucketName(name) {
		return nil, errs.InvalidBucketName
	}
	switch {
	case region == "":
		region = s.region
	case region == "EU":
		region = "eu-west-1"
	case !wellFormedRegion(region):
		return nil, errs.InvalidLocationConstraint
	}
	if acl != "" && !ValidACL(acl, false) {
		return nil, errs.InvalidArgument.WithMessage("Unsupported canned ACL: " + acl)
	}
	owner := p.User
	b := &meta.Bucket{Name: name, Owner: owner, Created: s.now().UTC(), Region: region, Config: map[string][]byte{}}
	if acl != "" && acl != ACLPrivate {
		b.Config[configACL] = []byte(acl)
	}
	if err := s.bucketSettings(ctx, p, b, set); err != nil {
		return nil, err
	}
	err := s.meta.CreateBucket(ctx, b)
	if errors.Is(err, meta.ErrBucketExists) {
		if old, gerr := s.meta.GetBucket(ctx, name); gerr == nil && old.Owner == owner {
			return nil, errs.BucketAlreadyOwnedByYou
		}
		return nil, errs.BucketAlreadyExists
	}
	if err != nil {
		return nil, mapMeta(err)
	}
	return b, nil
}

// bucketSettings puts set's object lock, tags and default encryption into
// the bucket record about to be created.
func (s *Service) bucketSettings(ctx context.Context, p Principal, b *meta.Bucket, set BucketSettings) error {
	res := arn(b.Name, "")
	if set.ObjectLock {
		if err := s.authorizeAccount(ctx, p, ActPutObjectLockConfig, res); err != nil {
			return err
		}
		if err := setObjectLock(b, &ObjectLockConfig{}, true); err != nil {
			return err
		}
	}
	if set.Tags != nil {
		tags, err := NormalizeTags(set.Tags, MaxBucketTags)
		if err != nil {
			return err
		}
		if err := s.authorizeAccount(ctx, p, ActPutBucketTagging, res); err != nil {
			return err
		}
		if len(tags) > 0 {
			doc, err := json.Marshal(tags)
			if err != nil {
				return err
			}
			b.Config[configTagging] = doc
		}
	}
	if c := set.Encryption; c != nil {
		if err := s.checkBucketDefault(ctx, c); err != nil {
			return err
		}
		if err := s.checkDefaultKey(ctx, p, c); err != nil {
			return err
		}
		if err := s.authorizeAccount(ctx, p, ActPutEncryption, res); err != nil {
			return err
		}
		b.Config[sse.ConfigName] = c.Encode()
	}
	return nil
}

// HeadBucket returns a bucket p may list (S3 authorizes HEAD as ListBucket).
func (s *Service) HeadBucket(ctx context.Context, p Principal, name string) (*meta.Bucket, error) {
	return s.bucketFor(ctx, p, ActListBucket, name, "")
}

// Bucket returns a bucket after authorizing a bucket-level action on it
// (e.g. ActGetBucketLocation).
func (s *Service) Bucket(ctx context.Context, p Principal, action, name string) (*meta.Bucket, error) {
	return s.bucketFor(ctx, p, action, name, "")
}

// DeleteBucket deletes an empty bucket and its incomplete uploads.
func (s *Service) DeleteBucket(ctx context.Context, p Principal, name string) error {
	if _, err := s.bucketFor(ctx, p, ActDeleteBucket, name, ""); err != nil {
		return err
	}
	parts, err := s.meta.DeleteBucket(ctx, name)
	if err != nil {
		return mapMeta(err)
	}
	s.deleteBlobs(ctx, parts)
	return nil
}

// ListBuckets lists the buckets p owns (all of them for root), by name.
func (s *Service) ListBuckets(ctx context.Context, p Principal) ([]*meta.Bucket, error) {
	// Only p's own buckets are listed, so no policy is consulted: a user
	// with a narrow policy still sees what it owns.
	if p.Anonymous() {
		return nil, errs.AccessDenied
	}
	all, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, mapMeta(err)
	}
	var out []*meta.Bucket
	for _, b := range all {
		if p.Root || b.Owner == p.User {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// bucketConfig returns a bucket's stored configuration `name`, or nil,
// after authorizing action.
func (s *Service) bucketConfig(ctx context.Context, p Principal, action, bucket, name string) ([]byte, error) {
	b, err := s.bucketFor(ctx, p, action, bucket, "")
	if err != nil {
		return nil, err
	}
	return b.Config[name], nil
}

// setBucketConfig stores (or, with nil, removes) configuration `name`,
// after authorizing action.
func (s *Service) setBucketConfig(ctx context.Context, p Principal, action, bucket, name string, value []byte) error {
	if _, err := s.bucketFor(ctx, p, action, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if value == nil {
			delete(b.Config, name)
			return nil
		}
		if b.Config == nil {
			b.Config = make(map[string][]byte)
		}
		b.Config[name] = value
		return nil
	}))
}
