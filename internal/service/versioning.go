package service

import (
	"context"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// DeleteMarkerError is a read that met a delete marker: NoSuchKey when the
// marker is the current version, MethodNotAllowed when the request named
// it by version ID. The dialect adds the delete-marker headers.
type DeleteMarkerError struct {
	Err          *errs.Error
	VersionID    string // "null" for a null marker
	LastModified time.Time
}

func (e *DeleteMarkerError) Error() string { return e.Err.Error() + " (delete marker)" }
func (e *DeleteMarkerError) Unwrap() error { return e.Err }

func markerError(b *meta.Bucket, marker *meta.Object, e *errs.Error) error {
	reportVersion(b, marker)
	return &DeleteMarkerError{Err: e, VersionID: marker.VersionID, LastModified: marker.LastModified}
}

// reportVersion sets the version ID a response reports: a null version is
// "null" once the bucket has (had) versioning; in a never-versioned bucket
// no version ID is reported at all.
func reportVersion(b *meta.Bucket, o *meta.Object) {
	if o != nil && o.VersionID == "" && b.Versioning != "" {
		o.VersionID = meta.NullVersion
	}
}

// PutBucketVersioning sets a bucket's versioning state: Enabled or
// Suspended. A bucket never returns to unversioned.
func (s *Service) PutBucketVersioning(ctx context.Context, p Principal, bucket, status string) error {
	if status != meta.VersioningEnabled && status != meta.VersioningSuspended {
		return errs.MalformedXML
	}
	if _, err := s.bucketFor(ctx, p, ActPutBucketVersioning, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if b.Config[configObjectLock] != nil && status != meta.VersioningEnabled {
			return errs.InvalidBucketState.WithMessage("An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		if b.Config[replication.ConfigName] != nil && status != meta.VersioningEnabled {
			return ErrReplicationVersioning
		}
		b.Versioning = status
		return nil
	}))
}

// GetBucketVersioning returns a bucket's versioning state ("" if it never
// had versioning).
func (s *Service) GetBucketVersioning(ctx context.Context, p Principal, bucket string) (string, error) {
	b, err := s.bucketFor(ctx, p, ActGetBucketVersioning, bucket, "")
	if err != nil {
		return "", err
	}
	return b.Versioning, nil
}

// ListVersionsInput selects object versions. KeyMarker (and, with it,
// VersionIDMarker) are exclusive.
type ListVersionsInput struct {
	Bucket          string
	Prefix          string
	Delimiter       string
	KeyMarker       string
	VersionIDMarker string
	MaxKeys         int
}

// Version is one entry of a version listing.
type Version struct {
	*meta.Object
	IsLatest bool
}

// ListVersionsResult is one page of a version listing; NextKeyMarker and
// NextVersionIDMarker resume it when Truncated.
type ListVersionsResult struct {
	Versions            []Version // objects and delete markers, in order
	CommonPrefixes      []string
	Truncated           bool
	NextKeyMarker       string
	NextVersionIDMarker string
	Owner               string // the bucket owner, for entries without one
}

// ListObjectVersions lists the versions of a bucket's keys (in a bucket
// that never had versioning, each object once, as the null version).
func (s *Service) ListObjectVersions(ctx context.Context, p Principal, in ListVersionsInput) (*ListVersionsResult, error) {
	b, err := s.meta.GetBucket(ctx, in.Bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	if err := s.authorize(ctx, p, access{action: ActListBucketVersions, bucket: b, extra: listContext(in.Prefix, in.Delimiter, in.MaxKeys)}); err != nil {
		return nil, err
	}
	if in.MaxKeys < 0 {
		return nil, errs.InvalidArgument.WithMessage("max-keys must be non-negative")
	}
	if in.VersionIDMarker != "" && in.KeyMarker == "" {
		return nil, errs.InvalidArgument.WithMessage("A version-id marker cannot be specified without a key marker.")
	}
	max := min(in.MaxKeys, MaxListKeys)
	res := &ListVersionsResult{Owner: b.Owner}
	if max == 0 {
		return res, nil
	}
	count := 0
	err = s.meta.ListVersionsDelimited(ctx, in.Bucket, in.Prefix, in.Delimiter, in.KeyMarker, in.VersionIDMarker, func(o *meta.Object, latest bool, cp string) error {
		if count == max {
			res.Truncated = true
			return meta.ErrStop
		}
		count++
		if o == nil {
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
			return nil
		}
		reportVersion(b, o)
		if o.VersionID == "" {
			o.VersionID = meta.NullVersion // listed, even never-versioned objects have one
		}
		res.Versions = append(res.Versions, Version{Object: o, IsLatest: latest})
		res.NextKeyMarker, res.NextVersionIDMarker = o.Key, o.VersionID
		return nil
	})
	if err != nil {
		return nil, mapMeta(err)
	}
	if !res.Truncated {
		res.NextKeyMarker, res.NextVersionIDMarker = "", ""
	}
	return res, nil
}

// DeleteOutput reports what a delete did, for the response headers.
type DeleteOutput struct {
	// VersionID is the version removed for good, or the delete marker
	// created ("" in a never-versioned bucket).
	VersionID string
	// DeleteMarker: a delete marker was created, or the version removed
	// was one.
	DeleteMarker bool
}

// DeleteObjectVersion deletes a key (versionID "") or removes one version
// of it for good, which S3 authorizes as DeleteObjectVersion and object
// lock may refuse; bypass is x-amz-bypass-governance-retention.
func (s *Service) DeleteObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string, bypass bool) (*DeleteOutput, error) {
	action := ActDeleteObject
	if versionID != "" {
		action = ActDeleteObjectVersion
	}
	b, err := s.bucketFor(ctx, p, action, bucket, key)
	if err != nil {
		return nil, err
	}
	return s.deleteVersion(ctx, p, b, key, versionID, bypass)
}

func (s *Service) deleteVersion(ctx context.Context, p Principal, b *meta.Bucket, key, versionID string, bypass bool) (*DeleteOutput, error) {
	var cond meta.Precondition
	if versionID != "" || b.Versioning != meta.VersioningEnabled {
		// A delete that removes a version for good (a delete marker
		// removes nothing) must find it unlocked.
		cond = s.lockCondition(ctx, p, ActDeleteObjectVersion, b.Name, key, s.mayBypass(ctx, p, b, key, bypass))
		var err error
		if cond, err = s.wormCondition(b, cond); err != nil {
			return nil, err
		}
	}
	var d *meta.Deletion
	var err error
	if rule := s.deleteMarkerRule(b, key); rule != "" && versionID == "" {
		d, err = s.meta.DeleteObjectReplicated(ctx, b.Name, key, rule, cond)
	} else {
		d, err = s.meta.DeleteObjectVersion(ctx, b.Name, key, versionID, cond)
	}
	if err != nil {
		return nil, mapMeta(err)
	}
	s.dropReplaced(ctx, d.Removed)
	if d.Marker != nil {
		s.queued(d.Marker)
	}
	out := &DeleteOutput{VersionID: versionID}
	switch {
	case d.Marker != nil:
		reportVersion(b, d.Marker)
		out.VersionID, out.DeleteMarker = d.Marker.VersionID, true
	case d.Removed != nil:
		out.DeleteMarker = d.Removed.DeleteMarker
	}
	return out, nil
}
