package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Bucket retention policy (OSS's bucket WORM) actions.
const (
	ActInitiateBucketWorm = "oss:InitiateBucketWorm"
	ActAbortBucketWorm    = "oss:AbortBucketWorm"
	ActCompleteBucketWorm = "oss:CompleteBucketWorm"
	ActExtendBucketWorm   = "oss:ExtendBucketWorm"
	ActGetBucketWorm      = "oss:GetBucketWorm"
)

// Retention policy states.
const (
	WormInProgress = "InProgress"
	WormLocked     = "Locked"
)

// configWorm is the bucket configuration holding the retention policy.
const configWorm = "worm"

// wormPending is how long a policy stays InProgress before it lapses
// unless completed (OSS: 24 hours).
const wormPending = 24 * time.Hour

// Retention periods accepted (OSS: 1 to 25,550 days, 70 years).
const (
	minWormDays = 1
	maxWormDays = 25550
)

// Worm is a bucket's retention policy: while it is in force no object may
// be deleted or overwritten before Days have passed since it was last
// modified.
type Worm struct {
	ID      string
	State   string
	Days    int
	Created time.Time
}

// inForce reports whether w protects objects at now: Locked, or
// InProgress and not yet lapsed.
func (w *Worm) inForce(now time.Time) bool {
	if w == nil {
		return false
	}
	return w.State == WormLocked || now.Before(w.Created.Add(wormPending))
}

// protects reports whether w forbids removing or replacing o at now.
func (w *Worm) protects(o *meta.Object, now time.Time) bool {
	if o == nil || o.DeleteMarker || !w.inForce(now) {
		return false
	}
	return o.LastModified.AddDate(0, 0, w.Days).After(now)
}

func validWormDays(d int) error {
	if d < minWormDays || d > maxWormDays {
		return errs.InvalidArgument.WithMessage(fmt.Sprintf("RetentionPeriodInDays must be between %d and %d.", minWormDays, maxWormDays))
	}
	return nil
}

// bucketWorm returns b's retention policy in force at now (nil: none;
// an InProgress policy never completed lapses after a day).
func bucketWorm(b *meta.Bucket, now time.Time) (*Worm, error) {
	doc := b.Config[configWorm]
	if doc == nil {
		return nil, nil
	}
	var w Worm
	if err := json.Unmarshal(doc, &w); err != nil {
		return nil, fmt.Errorf("bucket %s retention policy: %w", b.Name, err)
	}
	if !w.inForce(now) {
		return nil, nil
	}
	return &w, nil
}

func storeWorm(b *meta.Bucket, w *Worm) error {
	if b.Config == nil {
		b.Config = make(map[string][]byte)
	}
	if w == nil {
		delete(b.Config, configWorm)
		return nil
	}
	doc, err := json.Marshal(w)
	if err != nil {
		return err
	}
	b.Config[configWorm] = doc
	return nil
}

// InitiateBucketWorm creates an InProgress retention policy of days and
// returns its ID.
func (s *Service) InitiateBucketWorm(ctx context.Context, p Principal, bucket string, days int) (string, error) {
	if err := validWormDays(days); err != nil {
		return "", err
	}
	if _, err := s.bucketFor(ctx, p, ActInitiateBucketWorm, bucket, ""); err != nil {
		return "", err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	w := &Worm{ID: strings.ToUpper(hex.EncodeToString(id[:])), State: WormInProgress, Days: days, Created: s.now().UTC()}
	err := s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if b.Versioning == meta.VersioningSuspended {
			return errs.InvalidBucketState.WithMessage("A retention policy cannot be configured while versioning is suspended.")
		}
		cur, err := bucketWorm(b, s.now())
		if err != nil {
			return err
		}
		if cur != nil {
			return errs.InvalidWORMState.WithMessage("The bucket already has a retention policy.")
		}
		return storeWorm(b, w)
	})
	if err != nil {
		return "", mapMeta(err)
	}
	return w.ID, nil
}

// AbortBucketWorm deletes a retention policy that is still InProgress.
func (s *Service) AbortBucketWorm(ctx context.Context, p Principal, bucket string) error {
	return s.updateWorm(ctx, p, ActAbortBucketWorm, bucket, "", func(b *meta.Bucket, w *Worm) error {
		if w.State == WormLocked {
			return errs.InvalidWORMState.WithMessage("A locked retention policy cannot be deleted.")
		}
		return storeWorm(b, nil)
	})
}

// CompleteBucketWorm locks the InProgress policy id, irreversibly.
func (s *Service) CompleteBucketWorm(ctx context.Context, p Principal, bucket, id string) error {
	return s.updateWorm(ctx, p, ActCompleteBucketWorm, bucket, id, func(b *meta.Bucket, w *Worm) error {
		if w.State == WormLocked {
			return errs.InvalidWORMState.WithMessage("The retention policy is already locked.")
		}
		w.State = WormLocked
		return storeWorm(b, w)
	})
}

// ExtendBucketWorm lengthens the locked policy id's period to days; it
// may never shorten it.
func (s *Service) ExtendBucketWorm(ctx context.Context, p Principal, bucket, id string, days int) error {
	if err := validWormDays(days); err != nil {
		return err
	}
	return s.updateWorm(ctx, p, ActExtendBucketWorm, bucket, id, func(b *meta.Bucket, w *Worm) error {
		if w.State != WormLocked {
			return errs.InvalidWORMState.WithMessage("Only a locked retention policy can be extended.")
		}
		if days <= w.Days {
			return errs.InvalidArgument.WithMessage("The retention period can only be extended.")
		}
		w.Days = days
		return storeWorm(b, w)
	})
}

// GetBucketWorm returns the bucket's retention policy in force, or
// NoSuchWORMConfiguration.
func (s *Service) GetBucketWorm(ctx context.Context, p Principal, bucket string) (*Worm, error) {
	b, err := s.bucketFor(ctx, p, ActGetBucketWorm, bucket, "")
	if err != nil {
		return nil, err
	}
	w, err := bucketWorm(b, s.now())
	if err == nil && w == nil {
		err = errs.NoSuchWORMConfiguration
	}
	return w, err
}

// updateWorm applies change to the bucket's policy in force (which must
// be id, unless id is "") in one bucket update.
func (s *Service) updateWorm(ctx context.Context, p Principal, action, bucket, id string, change func(*meta.Bucket, *Worm) error) error {
	if _, err := s.bucketFor(ctx, p, action, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		w, err := bucketWorm(b, s.now())
		if err != nil {
			return err
		}
		if w == nil || (id != "" && id != w.ID) {
			return errs.NoSuchWORMConfiguration
		}
		return change(b, w)
	}))
}

// wormCondition adds to cond (nil: none) the bucket retention policy's
// refusal to remove or replace the current version of a key, checked in
// the transaction that would do it.
func (s *Service) wormCondition(b *meta.Bucket, cond meta.Precondition) (meta.Precondition, error) {
	w, err := bucketWorm(b, s.now())
	if err != nil || w == nil {
		return cond, err
	}
	return func(o *meta.Object) error {
		if w.protects(o, s.now()) {
			return errs.ObjectImmutable
		}
		if cond == nil {
			return nil
		}
		return cond(o)
	}, nil
}

// writeWormCondition is wormCondition for a write into b: a write that
// would replace a protected version is refused.
func (s *Service) writeWormCondition(ctx context.Context, b *meta.Bucket, key string, cond meta.Precondition) (meta.Precondition, error) {
	if b.Versioning == meta.VersioningEnabled {
		// A write adds a version and replaces none.
		return cond, nil
	}
	w, err := bucketWorm(b, s.now())
	if err != nil || w == nil {
		return cond, err
	}
	// Refused now, a write to a protected key uploads nothing; the check
	// is made again where the write is installed.
	cur, err := s.meta.GetObject(ctx, b.Name, key)
	if err != nil && !errors.Is(err, meta.ErrNoSuchKey) {
		return nil, mapMeta(err)
	}
	if err == nil && w.protects(cur, s.now()) {
		return nil, errs.ObjectImmutable
	}
	return s.wormCondition(b, cond)
}

// lifecycleWorm adds to a lifecycle expiry's precondition the bucket
// retention policy, which keeps a protected version (errLocked). removes:
// the expiry removes the version for good; otherwise it does only where
// versioning is not Enabled (there it adds a delete marker).
func (s *Service) lifecycleWorm(ctx context.Context, bucket string, removes bool, same meta.Precondition) (meta.Precondition, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		return same, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lifecycle: bucket %s: %w", bucket, err)
	}
	w, err := bucketWorm(b, s.now())
	if err != nil || w == nil || (!removes && b.Versioning == meta.VersioningEnabled) {
		return same, err
	}
	return func(cur *meta.Object) error {
		if err := same(cur); err != nil {
			return err
		}
		if w.protects(cur, s.now()) {
			return errLocked
		}
		return nil
	}, nil
}

// Expires is when an InProgress policy lapses unless completed.
func (w *Worm) Expires() time.Time { return w.Created.Add(wormPending) }
