package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ErrKeyVersionInUse refuses to retire a key version that stored material
// still needs.
var ErrKeyVersionInUse = errors.New("the key version is still in use")

// KeyVersionUse is what still depends on key versions: object versions
// (locked ones included; their object keys or bucket keys) and multipart
// uploads in progress, with a sample of each.
type KeyVersionUse struct {
	Objects       int64
	Uploads       int64
	ObjectSample  string `json:",omitempty"` // bucket/key@version
	UploadSample  string `json:",omitempty"` // bucket/key?uploadId=
	LockedObjects int64  // of Objects, those object lock holds
}

// KeyVersionUses counts what depends on the given versions of key (as
// provider made them). Delete markers hold no key material.
func (s *Service) KeyVersionUses(ctx context.Context, provider, key string, versions []uint32) (KeyVersionUse, error) {
	var u KeyVersionUse
	hit := func(enc *meta.Encryption) bool {
		for _, r := range sse.Refs(enc) {
			if r.Provider == provider && r.Key == key && slices.Contains(versions, r.Version) {
				return true
			}
		}
		return false
	}
	buckets, err := s.scopeBuckets(ctx, KeyJobRequest{})
	if err != nil {
		return u, err
	}
	now := s.now()
	for _, b := range buckets {
		err := s.meta.ListObjectVersions(ctx, b, "", "", "", func(o *meta.Object, _ bool) error {
			if o.DeleteMarker || !hit(o.Encryption) {
				return nil
			}
			u.Objects++
			if o.LegalHold || retentionActive(o.Lock, now) {
				u.LockedObjects++
			}
			if u.ObjectSample == "" {
				v := o.VersionID
				if v == "" {
					v = "null"
				}
				u.ObjectSample = fmt.Sprintf("%s/%s@%s", b, o.Key, v)
			}
			return nil
		})
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return u, err
		}
		ups, err := s.meta.ListUploads(ctx, b, "")
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return u, err
		}
		for _, up := range ups {
			if !hit(up.Encryption) {
				continue
			}
			u.Uploads++
			if u.UploadSample == "" {
				u.UploadSample = fmt.Sprintf("%s/%s?uploadId=%s", b, up.Key, up.ID)
			}
		}
	}
	return u, nil
}

// RetireKeyVersions destroys the material of versions of key in the
// node's provider (`strongroom key retire`), refusing while anything
// stored still needs one of them. Bucket keys cached for new objects are
// dropped before counting, so no new write picks up material under an old
// version (only the newest version wraps, and it cannot be retired);
// writes that began before that with such a cached bucket key are the
// only ones a retire can race with (a rewrap's start drops the cache as
// well, so after a completed rewrap there are none). retired lists the
// versions whose material is gone, on an error too (a provider that fails
// half-way through).
func (s *Service) RetireKeyVersions(ctx context.Context, r kms.VersionRetirer, info kms.KeyInfo, provider string, versions []uint32) (u KeyVersionUse, retired []uint32, err error) {
	if len(versions) == 0 {
		return KeyVersionUse{}, nil, fmt.Errorf("key %s has no version to retire", info.ID)
	}
	for _, v := range versions {
		if err := kms.CheckRetire(info, v); err != nil {
			return KeyVersionUse{}, nil, err
		}
	}
	if s.sealer != nil {
		s.sealer.ForgetWriteKeys()
	}
	u, err = s.KeyVersionUses(ctx, provider, info.ID, versions)
	if err != nil {
		return u, nil, err
	}
	if u.Objects > 0 || u.Uploads > 0 {
		return u, nil, fmt.Errorf("refusing to retire %s version(s) %v: %w by %d object version(s) (%d under object lock; e.g. %s) and %d multipart upload(s) in progress (e.g. %s): rewrap the key, and complete or abort the uploads, first",
			info.ID, versions, ErrKeyVersionInUse, u.Objects, u.LockedObjects, orNone(u.ObjectSample), u.Uploads, orNone(u.UploadSample))
	}
	for _, v := range versions {
		if err := r.RetireKeyVersion(ctx, info.ID, v); err != nil {
			return u, retired, fmt.Errorf("retiring %s version %d: %w", info.ID, v, err)
		}
		retired = append(retired, v)
	}
	return u, retired, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
