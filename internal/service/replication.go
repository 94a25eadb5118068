package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Replication configuration actions (S3 grants delete with put).
const (
	ActGetReplication = "s3:GetReplicationConfiguration"
	ActPutReplication = "s3:PutReplicationConfiguration"
)

// Errors of replication configurations, in S3's words.
var (
	ErrSourceNotVersioned    = errs.InvalidRequest.WithMessage("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
	ErrNoDestination         = errs.InvalidRequest.WithMessage("Destination bucket must exist.")
	ErrDestNotVersioned      = errs.InvalidRequest.WithMessage("Destination bucket must have versioning enabled.")
	ErrDestIsSource          = errs.InvalidRequest.WithMessage("Destination bucket cannot be the same as the source bucket.")
	ErrVersioningDiffers     = errs.InvalidRequest.WithMessage("The versioning state of the source bucket and of the destination bucket must be the same.")
	ErrReplicationVersioning = errs.InvalidBucketState.WithMessage("A replication configuration is present on this bucket, so the versioning state cannot be changed.")
)

// Remotes returns the registry of remote deployments (nil when the node
// has none: every destination is then local).
func (s *Service) Remotes() *remote.Registry { return s.remotes }

// PutBucketReplication sets a bucket's replication configuration,
// replacing any earlier one, after checking it against this deployment:
// the versioning the vendor (shape) requires, destinations (a registered
// remote, or a local bucket that exists), replica KMS keys.
func (s *Service) PutBucketReplication(ctx context.Context, p Principal, bucket string, c *replication.Config, shape replication.Shape) error {
	return s.updateReplication(ctx, p, bucket, shape, c, func(*replication.Config) (*replication.Config, error) { return c, nil })
}

// AddBucketReplicationRules adds rules to a bucket's replication
// configuration (OSS's PutBucketReplication adds, it does not replace).
func (s *Service) AddBucketReplicationRules(ctx context.Context, p Principal, bucket string, add *replication.Config, shape replication.Shape) error {
	return s.updateReplication(ctx, p, bucket, shape, add, func(old *replication.Config) (*replication.Config, error) {
		c := &replication.Config{Role: add.Role}
		if old != nil {
			c.Role = cmp.Or(add.Role, old.Role)
			c.Rules = append(c.Rules, old.Rules...)
			// OSS keeps one rule per destination bucket.
			for _, r := range add.Rules {
				if slices.ContainsFunc(old.Rules, func(o replication.Rule) bool { return sameDestination(o.Destination, r.Destination) }) {
					return nil, errs.BucketReplicationAlreadyExist
				}
			}
		}
		c.Rules = append(c.Rules, add.Rules...)
		return c, c.Validate()
	})
}

// sameDestination: both name the same bucket, by the region the document
// gave (which selects a remote or this deployment).
func sameDestination(a, b replication.Destination) bool {
	return a.Bucket == b.Bucket && a.Region == b.Region
}

// updateReplication stores the configuration next makes of the stored one
// (nil when none). The rules of incoming, the caller's new ones, have their
// destinations checked and resolved first (they are other records); next
// runs inside the bucket's transaction, on the configuration stored there,
// so concurrent changes (two OSS adds, an add and a delete) are not lost.
func (s *Service) updateReplication(ctx context.Context, p Principal, bucket string, shape replication.Shape, incoming *replication.Config, next func(old *replication.Config) (*replication.Config, error)) error {
	b, err := s.bucketFor(ctx, p, ActPutReplication, bucket, "")
	if err != nil {
		return err
	}
	if err := s.checkReplicationSource(b, shape); err != nil {
		return err
	}
	for i := range incoming.Rules {
		if err := s.resolveDestination(ctx, b, shape, &incoming.Rules[i]); err != nil {
			return err
		}
	}
	if err := s.checkReplicaKeyGrants(ctx, p, incoming); err != nil { // replicakeys.go
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		if err := s.checkReplicationSource(b, shape); err != nil {
			return err
		}
		old, err := storedReplication(b)
		if err != nil {
			return err
		}
		c, err := next(old)
		if err != nil {
			return err
		}
		if b.Config == nil {
			b.Config = make(map[string][]byte)
		}
		b.Config[replication.ConfigName] = c.Encode()
		return nil
	}))
}

// checkReplicationSource applies the vendor's versioning rule to the
// source: S3 and COS need it Enabled; OSS and OBS only the same state at
// both ends, checked with each local destination.
func (s *Service) checkReplicationSource(b *meta.Bucket, shape replication.Shape) error {
	if shape.VersioningEnabled() && b.Versioning != meta.VersioningEnabled {
		return ErrSourceNotVersioned
	}
	return nil
}

// resolveDestination decides where a rule replicates: the remote its
// document's region names, if registered; otherwise a bucket of this
// deployment, which must exist with the versioning the vendor requires.
// A replica KMS key of a local destination must exist here.
func (s *Service) resolveDestination(ctx context.Context, src *meta.Bucket, shape replication.Shape, r *replication.Rule) error {
	d := &r.Destination
	d.Remote = ""
	if s.remotes != nil && d.Region != "" {
		ok, err := s.remotes.Exists(ctx, d.Region)
		if err != nil {
			return fmt.Errorf("looking up remote %q: %w", d.Region, err)
		}
		if ok {
			d.Remote = d.Region
			return nil // the remote's buckets and keys are its own to check
		}
	}
	if d.Bucket == src.Name {
		return ErrDestIsSource
	}
	dst, err := s.meta.GetBucket(ctx, d.Bucket)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		return ErrNoDestination
	}
	if err != nil {
		return mapMeta(err)
	}
	switch {
	case shape.VersioningEnabled() && dst.Versioning != meta.VersioningEnabled:
		return ErrDestNotVersioned
	case !shape.VersioningEnabled() && versioned(dst) != versioned(src):
		return ErrVersioningDiffers
	}
	if r.ReplicaKMSKeyID != "" {
		if s.sealer == nil {
			return errs.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
		}
		if err := s.sealer.CheckKey(ctx, &sse.Spec{Mode: sse.KMS, KeyID: r.ReplicaKMSKeyID}); err != nil {
			return err
		}
	}
	return nil
}

// versioned: the bucket has had versioning (Suspended counts, so it
// differs from a never-versioned bucket).
func versioned(b *meta.Bucket) bool { return b.Versioning != "" }

// GetBucketReplication returns a bucket's replication configuration
// (errs.NoSuchReplicationConfiguration when it has none) and the bucket's
// region, which documents name where a rule named none.
func (s *Service) GetBucketReplication(ctx context.Context, p Principal, bucket string) (*replication.Config, string, error) {
	b, err := s.bucketFor(ctx, p, ActGetReplication, bucket, "")
	if err != nil {
		return nil, "", err
	}
	c, err := storedReplication(b)
	if err == nil && c == nil {
		err = errs.NoSuchReplicationConfiguration
	}
	return c, cmp.Or(b.Region, s.region), err
}

// DeleteBucketReplication removes a bucket's replication configuration
// (removing none is not an error, as S3).
func (s *Service) DeleteBucketReplication(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActPutReplication, bucket, replication.ConfigName, nil)
}

// DeleteBucketReplicationRules removes rules by ID (OSS); the last one
// gone, the configuration goes. A bucket without a configuration is not an
// error (OSS answers 200); an ID it does not have is
// errs.NoSuchReplicationRule.
func (s *Service) DeleteBucketReplicationRules(ctx context.Context, p Principal, bucket string, ids []string) error {
	if _, err := s.bucketFor(ctx, p, ActPutReplication, bucket, ""); err != nil {
		return err
	}
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		c, err := storedReplication(b)
		if err != nil || c == nil {
			return err
		}
		for _, id := range ids {
			if c.Rule(id) == nil {
				return errs.NoSuchReplicationRule
			}
		}
		c.Rules = slices.DeleteFunc(c.Rules, func(r replication.Rule) bool { return slices.Contains(ids, r.ID) })
		if len(c.Rules) == 0 {
			delete(b.Config, replication.ConfigName)
		} else {
			b.Config[replication.ConfigName] = c.Encode()
		}
		return nil
	}))
}

// ReplicationLocations are the regions a destination may name: this
// deployment's and the registered remotes' (OSS's
// GetBucketReplicationLocation).
func (s *Service) ReplicationLocations(ctx context.Context, p Principal, bucket string) ([]string, error) {
	b, err := s.bucketFor(ctx, p, ActGetReplication, bucket, "")
	if err != nil {
		return nil, err
	}
	out := []string{cmp.Or(b.Region, s.region)}
	if s.remotes == nil {
		return out, nil
	}
	rs, err := s.remotes.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out, nil
}

func storedReplication(b *meta.Bucket) (*replication.Config, error) {
	raw := b.Config[replication.ConfigName]
	if raw == nil {
		return nil, nil
	}
	return replication.Decode(raw)
}
