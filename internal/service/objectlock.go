package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Object lock (WORM) actions.
const (
	ActPutObjectLockConfig = "s3:PutBucketObjectLockConfiguration"
	ActGetObjectLockConfig = "s3:GetBucketObjectLockConfiguration"
	ActPutObjectRetention  = "s3:PutObjectRetention"
	ActGetObjectRetention  = "s3:GetObjectRetention"
	ActPutObjectLegalHold  = "s3:PutObjectLegalHold"
	ActGetObjectLegalHold  = "s3:GetObjectLegalHold"
	ActBypassGovernance    = "s3:BypassGovernanceRetention"
)

// Retention modes.
const (
	LockGovernance = "GOVERNANCE"
	LockCompliance = "COMPLIANCE"
)

// configObjectLock is the bucket configuration holding the object lock
// configuration; its presence means object lock is enabled (for good).
const configObjectLock = "object-lock"

// Longest default retention accepted (S3 caps it at 100 years).
const (
	maxLockYears = 100
	maxLockDays  = 36500
)

// ObjectLockConfig is a bucket's object lock configuration: enabled, with
// an optional default retention (Mode and one of Days or Years) that new
// versions get when their write names none.
type ObjectLockConfig struct {
	Mode  string `json:",omitempty"`
	Days  int    `json:",omitempty"`
	Years int    `json:",omitempty"`
}

// Validate checks a default retention rule.
func (c *ObjectLockConfig) Validate() error {
	if c.Mode == "" && c.Days == 0 && c.Years == 0 {
		return nil
	}
	if !validLockMode(c.Mode) || (c.Days != 0) == (c.Years != 0) {
		return errs.MalformedXML
	}
	if c.Days < 0 || c.Years < 0 {
		return errs.InvalidArgument.WithMessage("Default retention period must be a positive integer value.")
	}
	if c.Days > maxLockDays || c.Years > maxLockYears {
		return errs.InvalidArgument.WithMessage("Default retention period is too large.")
	}
	return nil
}

func validLockMode(m string) bool { return m == LockGovernance || m == LockCompliance }

// defaultRetention returns the retention a new version written at now gets
// (nil: the configuration has no default rule).
func (c *ObjectLockConfig) defaultRetention(now time.Time) (string, *time.Time) {
	if c == nil || c.Mode == "" {
		return "", nil
	}
	until := now.AddDate(c.Years, 0, c.Days)
	return c.Mode, utcTime(&until)
}

// objectLockConfig returns a bucket's object lock configuration, nil when
// object lock is not enabled.
func objectLockConfig(b *meta.Bucket) (*ObjectLockConfig, error) {
	doc := b.Config[configObjectLock]
	if doc == nil {
		return nil, nil
	}
	var c ObjectLockConfig
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, fmt.Errorf("bucket %s object lock: %w", b.Name, err)
	}
	return &c, nil
}

// setObjectLock enables object lock with configuration c: versioning must
// be Enabled, or becomes so when enable (a bucket created with object
// lock); once enabled it cannot be turned off.
func setObjectLock(b *meta.Bucket, c *ObjectLockConfig, enable bool) error {
	if enable {
		b.Versioning = meta.VersioningEnabled
	}
	if b.Versioning != meta.VersioningEnabled {
		return errs.InvalidBucketState.WithMessage("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if b.Config == nil {
		b.Config = make(map[string][]byte)
	}
	b.Config[configObjectLock] = doc
	return nil
}

// EnableObjectLock turns object lock on for a bucket being created (the
// x-amz-bucket-object-lock-enabled header), which enables versioning.
func (s *Service) EnableObjectLock(ctx context.Context, p Principal, bucket string) error {
	if _, err := s.bucketFor(ctx, p, ActPutObjectLockConfig, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if b.Config[configObjectLock] != nil {
			return nil
		}
		return setObjectLock(b, &ObjectLockConfig{}, true)
	}))
}

// PutObjectLockConfiguration enables object lock on a bucket whose
// versioning is Enabled (as S3 now allows) and sets its default retention.
func (s *Service) PutObjectLockConfiguration(ctx context.Context, p Principal, bucket string, c *ObjectLockConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if _, err := s.bucketFor(ctx, p, ActPutObjectLockConfig, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		return setObjectLock(b, c, false)
	}))
}

// GetObjectLockConfiguration returns a bucket's object lock configuration,
// or ObjectLockConfigurationNotFoundError.
func (s *Service) GetObjectLockConfiguration(ctx context.Context, p Principal, bucket string) (*ObjectLockConfig, error) {
	b, err := s.bucketFor(ctx, p, ActGetObjectLockConfig, bucket, "")
	if err != nil {
		return nil, err
	}
	c, err := objectLockConfig(b)
	if err == nil && c == nil {
		err = errs.ObjectLockConfigNotFound
	}
	return c, err
}

// LockRequest is the object lock a write (PUT, copy, multipart upload)
// asks for: a retention (Mode with Until) and a legal hold.
type LockRequest struct {
	Mode      string
	Until     *time.Time
	LegalHold bool
}

func (r *LockRequest) empty() bool {
	return r == nil || (r.Mode == "" && r.Until == nil && !r.LegalHold)
}

// writeLock decides the lock of a version written into b at now: the one
// the request asks for (which needs object lock on the bucket, and the
// retention and legal-hold permissions), else the bucket's default
// retention.
func (s *Service) writeLock(ctx context.Context, p Principal, b *meta.Bucket, key string, r *LockRequest, now time.Time) (meta.Lock, error) {
	c, err := objectLockConfig(b)
	if err != nil {
		return meta.Lock{}, err
	}
	if r.empty() {
		mode, until := c.defaultRetention(now)
		return meta.Lock{LockMode: mode, LockUntil: until}, nil
	}
	if c == nil {
		return meta.Lock{}, errs.BucketMissingObjectLock
	}
	var l meta.Lock
	if r.Mode != "" || r.Until != nil {
		if err := checkRetention(r.Mode, r.Until, now); err != nil {
			return meta.Lock{}, err
		}
		if err := s.authorize(ctx, p, access{action: ActPutObjectRetention, bucket: b, key: key}); err != nil {
			return meta.Lock{}, err
		}
		l.LockMode, l.LockUntil = r.Mode, utcTime(r.Until)
	} else {
		l.LockMode, l.LockUntil = c.defaultRetention(now)
	}
	if r.LegalHold {
		if err := s.authorize(ctx, p, access{action: ActPutObjectLegalHold, bucket: b, key: key}); err != nil {
			return meta.Lock{}, err
		}
		l.LegalHold, l.LegalHoldSet = true, true
	}
	return l, nil
}

// utcTime is a retain-until date as stored: UTC, at the millisecond
// precision dates are reported with, rounded up so a retention never ends
// before the date asked for (and a date read back and sent again is the
// same date, not a shortening).
func utcTime(t *time.Time) *time.Time {
	u := t.UTC()
	if r := u.Truncate(time.Millisecond); !r.Equal(u) {
		u = r.Add(time.Millisecond)
	}
	return &u
}

// checkRetention checks a requested retention: both a known mode and a
// date, in the future.
func checkRetention(mode string, until *time.Time, now time.Time) error {
	switch {
	case mode == "" || until == nil:
		return errs.InvalidArgument.WithMessage("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
	case !validLockMode(mode):
		return errs.InvalidArgument.WithMessage("Unknown wormMode directive.")
	case !until.After(now):
		return errs.InvalidArgument.WithMessage("The retain until date must be in the future!")
	}
	return nil
}

// retentionActive reports whether l's retention holds at now.
func retentionActive(l meta.Lock, now time.Time) bool {
	return l.LockMode != "" && l.LockUntil != nil && l.LockUntil.After(now)
}

// lockRefusal says why a version locked by l may not be removed for good
// at now ("": it may). Only GOVERNANCE gives way, and only to bypass.
func lockRefusal(l meta.Lock, now time.Time, bypass bool) string {
	switch {
	case l.LegalHold:
		return "legal hold"
	case !retentionActive(l, now):
		return ""
	case l.LockMode == LockCompliance:
		return "compliance retention"
	case !bypass:
		return "governance retention"
	}
	return ""
}

// retentionRefusal says why a version's retention cur may not become mode
// until (mode "": removed) at now ("": it may). Extending it, or moving
// GOVERNANCE to COMPLIANCE, is always allowed; shortening or removing a
// COMPLIANCE retention, or making it GOVERNANCE, never is while it holds;
// a GOVERNANCE one gives way only to bypass.
func retentionRefusal(cur meta.Lock, mode string, until *time.Time, now time.Time, bypass bool) string {
	if !retentionActive(cur, now) {
		return ""
	}
	weaker := mode == "" || until.Before(*cur.LockUntil) || (cur.LockMode == LockCompliance && mode != LockCompliance)
	switch {
	case !weaker:
		return ""
	case cur.LockMode == LockCompliance:
		return "compliance retention"
	case !bypass:
		return "governance retention"
	}
	return ""
}

// lockDenied audits a refusal object lock decided, like other denials,
// and returns S3's error for it.
func (s *Service) lockDenied(ctx context.Context, p Principal, action, bucket, key, reason string) error {
	s.denied(ctx, p, action, arn(bucket, key), "object lock: "+reason)
	return errs.ObjectLocked
}

// mayBypass reports whether a request that asks to bypass GOVERNANCE
// retention (x-amz-bypass-governance-retention) may: it needs
// s3:BypassGovernanceRetention, which root and the owner hold unless a
// policy denies it.
func (s *Service) mayBypass(ctx context.Context, p Principal, b *meta.Bucket, key string, asked bool) bool {
	return asked && s.authorize(ctx, p, access{action: ActBypassGovernance, bucket: b, key: key}) == nil
}

// lockCondition is the precondition of a permanent delete: the version
// named may not be under a lock that holds (checked in the deleting
// transaction, so a lock set concurrently is honoured).
func (s *Service) lockCondition(ctx context.Context, p Principal, action, bucket, key string, bypass bool) meta.Precondition {
	return func(o *meta.Object) error {
		if o == nil {
			return nil
		}
		if why := lockRefusal(o.Lock, s.now(), bypass); why != "" {
			return s.lockDenied(ctx, p, action, bucket, key, why)
		}
		return nil
	}
}

// Retention is a version's retention.
type Retention struct {
	Mode  string
	Until time.Time
}

// lockedVersion loads the version an object lock sub-resource names, after
// authorizing action; the bucket must have object lock.
func (s *Service) lockedVersion(ctx context.Context, p Principal, action, bucket, key, versionID string) (*meta.Bucket, *meta.Object, error) {
	b, err := s.bucketFor(ctx, p, action, bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if b.Config[configObjectLock] == nil {
		return nil, nil, errs.BucketMissingObjectLock
	}
	o, err := s.objectVersion(ctx, bucket, key, versionID)
	if err != nil {
		return nil, nil, mapMeta(err)
	}
	if o.DeleteMarker {
		return nil, nil, errs.MethodNotAllowed
	}
	return b, o, nil
}

// GetObjectRetention returns a version's retention, or
// NoSuchObjectLockConfiguration.
func (s *Service) GetObjectRetention(ctx context.Context, p Principal, bucket, key, versionID string) (*Retention, error) {
	_, o, err := s.lockedVersion(ctx, p, ActGetObjectRetention, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	if o.LockMode == "" || o.LockUntil == nil {
		return nil, errs.NoSuchObjectLockConfiguration
	}
	return &Retention{Mode: o.LockMode, Until: *o.LockUntil}, nil
}

// PutObjectRetention sets (r nil: removes) a version's retention, as
// retentionRefusal allows.
func (s *Service) PutObjectRetention(ctx context.Context, p Principal, bucket, key, versionID string, r *Retention, bypass bool) error {
	var mode string
	var until *time.Time
	if r != nil {
		mode, until = r.Mode, utcTime(&r.Until)
		if err := checkRetention(mode, until, s.now()); err != nil {
			return err
		}
	}
	b, o, err := s.lockedVersion(ctx, p, ActPutObjectRetention, bucket, key, versionID)
	if err != nil {
		return err
	}
	bypass = s.mayBypass(ctx, p, b, key, bypass)
	return mapMeta(s.meta.UpdateObjectVersion(ctx, bucket, key, versionRef(o), func(cur *meta.Object) error {
		if why := retentionRefusal(cur.Lock, mode, until, s.now(), bypass); why != "" {
			return s.lockDenied(ctx, p, ActPutObjectRetention, bucket, key, why)
		}
		cur.LockMode, cur.LockUntil = mode, until
		return nil
	}))
}

// GetObjectLegalHold reports a version's legal hold, or
// NoSuchObjectLockConfiguration when none was ever placed on it.
func (s *Service) GetObjectLegalHold(ctx context.Context, p Principal, bucket, key, versionID string) (bool, error) {
	_, o, err := s.lockedVersion(ctx, p, ActGetObjectLegalHold, bucket, key, versionID)
	if err != nil {
		return false, err
	}
	if !o.LegalHoldSet {
		return false, errs.NoSuchObjectLockConfiguration
	}
	return o.LegalHold, nil
}

// PutObjectLegalHold places or removes a version's legal hold.
func (s *Service) PutObjectLegalHold(ctx context.Context, p Principal, bucket, key, versionID string, on bool) error {
	_, o, err := s.lockedVersion(ctx, p, ActPutObjectLegalHold, bucket, key, versionID)
	if err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateObjectVersion(ctx, bucket, key, versionRef(o), func(cur *meta.Object) error {
		cur.LegalHold, cur.LegalHoldSet = on, true
		return nil
	}))
}

// versionRef names o's version for the store, so an update reaches that
// version even if another became current meanwhile.
func versionRef(o *meta.Object) string {
	if o.VersionID == "" {
		return meta.NullVersion
	}
	return o.VersionID
}

// completedLock is the lock of a completed upload's object: the one its
// initiation asked for, else the bucket's default retention now.
func (s *Service) completedLock(b *meta.Bucket, l meta.Lock) (meta.Lock, error) {
	if l.LockMode != "" {
		return l, nil
	}
	c, err := objectLockConfig(b)
	if err != nil {
		return l, err
	}
	l.LockMode, l.LockUntil = c.defaultRetention(s.now())
	return l, nil
}

// FindLockedVersion returns a version that object lock protects at now
// (a retention in force, either mode, a legal hold, or the bucket's
// retention policy) and whose
// encryption match accepts; nil when there is none. It scans every version
// of every bucket with object lock: there is no index by key, which is
// acceptable for a rare operator command (disabling a key).
func FindLockedVersion(ctx context.Context, m meta.Store, now time.Time, match func(*meta.Encryption) bool) (*meta.Object, error) {
	bs, err := m.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	var found *meta.Object
	for _, b := range bs {
		w, err := bucketWorm(b, now)
		if err != nil {
			return nil, err
		}
		if b.Config[configObjectLock] == nil && w == nil {
			continue
		}
		err = m.ListObjectVersions(ctx, b.Name, "", "", "", func(o *meta.Object, _ bool) error {
			if o.Encryption != nil && (o.LegalHold || retentionActive(o.Lock, now) || w.protects(o, now)) && match(o.Encryption) {
				found = o
				return meta.ErrStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, meta.ErrStop) {
			return nil, fmt.Errorf("scanning %s for locked versions: %w", b.Name, err)
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, nil
}

// objectVersion reads a version of a key ("": the current one).
func (s *Service) objectVersion(ctx context.Context, bucket, key, versionID string) (*meta.Object, error) {
	if versionID == "" {
		return s.meta.GetObject(ctx, bucket, key)
	}
	return s.meta.GetObjectVersion(ctx, bucket, key, versionID)
}

// reportedLock keeps in o, read for GET or HEAD, only the lock p may see:
// as in S3, the retention is reported to holders of s3:GetObjectRetention
// and the legal hold to holders of s3:GetObjectLegalHold.
func (s *Service) reportedLock(ctx context.Context, p Principal, b *meta.Bucket, o *meta.Object) {
	may := func(action string) bool {
		return s.authorize(ctx, p, access{action: action, bucket: b, key: o.Key, object: o, quiet: true}) == nil
	}
	if o.LockMode != "" && !may(ActGetObjectRetention) {
		o.LockMode, o.LockUntil = "", nil
	}
	if o.LegalHold && !may(ActGetObjectLegalHold) {
		o.LegalHold = false
	}
}
