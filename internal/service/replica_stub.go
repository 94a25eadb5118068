package service

import (
	"context"
	"errors"
	"fmt"

	"strongroom/internal/meta"
	"strongroom/internal/replication"
)

// ReplicaTarget is a minimal, local-only stand-in for the replica transfer
// (branch repltx), for the replication queue's tests: it reads the source
// version's plaintext and writes it into the local destination bucket under
// the destination's default encryption, keeping the version ID, user
// metadata and tags. The lead deletes this file at merge.
func (s *Service) ReplicaTarget(ctx context.Context, d replication.Destination) (ReplicaTarget, error) {
	if !d.Local() {
		return nil, fmt.Errorf("%w: remote destinations are not supported by the stub", replication.ErrPermanent)
	}
	return stubTarget{s: s, bucket: d.Bucket}, nil
}

type stubTarget struct {
	s      *Service
	bucket string
}

func (t stubTarget) dest(ctx context.Context, src *meta.Object) (*meta.Bucket, bool, error) {
	b, err := t.s.meta.GetBucket(ctx, t.bucket)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		return nil, false, fmt.Errorf("%w: destination bucket %q: %w", replication.ErrPermanent, t.bucket, err)
	}
	if err != nil {
		return nil, false, err
	}
	_, err = t.s.meta.GetObjectVersion(ctx, t.bucket, src.Key, src.VersionID)
	return b, err == nil, nil
}

func (t stubTarget) PutReplica(ctx context.Context, src *meta.Object, rule *replication.Rule) (int64, error) {
	b, there, err := t.dest(ctx, src)
	if err != nil || there {
		return 0, err
	}
	srcSl, err := t.s.openSealing(ctx, src.Encryption, src.Bucket, src.Key, nil)
	if err != nil {
		return 0, err
	}
	sl, err := t.s.newSealing(ctx, b, src.Key, nil)
	if err != nil {
		return 0, err
	}
	rd := t.s.newObjectReader(ctx, src, srcSl, 0, src.Size)
	defer rd.Close()
	w, err := t.s.writeBlob(ctx, Body{Reader: rd, Size: src.Size}, sl, 0)
	if err != nil {
		return 0, err
	}
	o := &meta.Object{
		Bucket: t.bucket, Key: src.Key, Size: w.part.Size, ETag: src.ETag, LastModified: src.LastModified,
		Owner: src.Owner, Headers: src.Headers, UserMeta: src.UserMeta, Checksums: w.part.Checksums,
		Parts: []meta.Part{w.part}, Encryption: sl.encryption(), Tags: src.Tags, VersionID: src.VersionID,
		ReplicationStatus: replication.StatusReplica, Lock: src.Lock,
	}
	return t.install(ctx, o)
}

func (t stubTarget) PutDeleteMarker(ctx context.Context, src *meta.Object, rule *replication.Rule) error {
	_, there, err := t.dest(ctx, src)
	if err != nil || there {
		return err
	}
	_, err = t.install(ctx, &meta.Object{
		Bucket: t.bucket, Key: src.Key, LastModified: src.LastModified, DeleteMarker: true,
		VersionID: src.VersionID, ReplicationStatus: replication.StatusReplica,
	})
	return err
}

func (t stubTarget) install(ctx context.Context, o *meta.Object) (int64, error) {
	err := t.s.meta.PutReplica(ctx, o)
	if errors.Is(err, meta.ErrNotVersioned) {
		err = fmt.Errorf("%w: %w", replication.ErrPermanent, err)
	}
	if errors.Is(err, meta.ErrVersionExists) {
		t.s.deleteBlobs(ctx, o.Parts) // replicated meanwhile
		return 0, nil
	}
	if err != nil {
		t.s.deleteBlobs(ctx, o.Parts)
		return 0, err
	}
	return o.Size, nil
}
