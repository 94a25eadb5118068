// Package service implements the object-storage operations, free of any
// wire dialect: it never sees an http.Request. Handlers in internal/httpapi
// translate requests into the inputs defined here and map the canonical
// errors (internal/errs) back to their dialect.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/origin"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Limits from the S3 API.
const (
	MaxObjectSize    = 5 << 40 // 5 TiB
	MaxPutSize       = 5 << 30 // single PUT and part: 5 GiB
	MinPartSize      = 5 << 20 // every part but the last
	MaxPartNumber    = 10000
	MaxKeyLength     = 1024
	MaxUserMetaBytes = 2048
	MaxDeleteObjects = 1000
	MaxListKeys      = 1000
)

// Principal is who a request acts as, after authentication.
type Principal struct {
	User string // empty: anonymous
	Root bool   // the root account may act on every bucket
	// Policies attached to the user (canned names or documents).
	Policies []string
	// Conditions are the request's facts for policy conditions
	// (aws:SourceIp, aws:SecureTransport, aws:CurrentTime, ...), lower-case
	// keys.
	Conditions map[string][]string
	// LazyConditions, when Conditions is nil, computes them when a policy
	// first needs them: most requests meet no policy and never do.
	LazyConditions func() map[string][]string
}

// Anonymous reports whether p carries no identity.
func (p Principal) Anonymous() bool { return p.User == "" && !p.Root }

// conditions returns p.Conditions, computing them if they are lazy.
func (p Principal) conditions() map[string][]string {
	if p.Conditions == nil && p.LazyConditions != nil {
		return p.LazyConditions()
	}
	return p.Conditions
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Audit records refusals (nil: none).
	Audit  audit.Logger
	Now    func() time.Time
	Region string // default region for new buckets
	// Sealer encrypts objects; nil refuses every encrypted write or read.
	Sealer *sse.Sealer
	// Policies evaluates bucket and user policies; nil: ownership and ACLs
	// only.
	Policies Policies
	// MD5s hashes large bodies, sharing SIMD lanes between concurrent
	// PUTs; nil: crypto/md5 for every body.
	MD5s *checksum.MD5s
	// Remotes are the other deployments replication rules may name; nil:
	// every destination is a bucket of this deployment.
	Remotes *remote.Registry
	// Origin fetches missed keys from the buckets' origin rules
	// (back-to-source); nil: no pulls.
	Origin *origin.Fetcher
}

// Service runs the operations over a metadata and a data store.
type Service struct {
	meta     meta.Store
	blobs    blob.Store
	log      *slog.Logger
	audit    audit.Logger  // refusals
	replWake chan struct{} // a write queued a version for replication
	now      func() time.Time
	region   string
	sealer   *sse.Sealer
	policies Policies
	stats    Stats
	md5s     *checksum.MD5s
	reclaim  *reclaimer // deletes replaced blobs once no read uses them
	remotes  *remote.Registry
	origin   *origin.Fetcher
	flights  flights // origin pulls in progress, one per key
	// replicaHTTP sends replicas to remote deployments.
	replicaHTTP replicaClients
	// clients counts object reads and writes in progress; key jobs yield
	// to them (keyjobs.go).
	clients atomic.Int64
	// journal keeps blobs in the pending-blob journal (journal.go); nil
	// when the store keeps none. rawBlobs is the store under blobs.
	journal  *journal
	rawBlobs blob.Store
	// inlineBufs are lent to GETs for their inline parts (inlinebuf.go).
	inlineBufs inlineBufs
}

// New returns a Service.
func New(m meta.Store, b blob.Store, o Options) *Service {
	s := &Service{meta: m, blobs: b, log: o.Logger, now: o.Now, region: o.Region, sealer: o.Sealer, policies: o.Policies, md5s: o.MD5s, remotes: o.Remotes, origin: o.Origin}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.reclaim = newReclaimer(s.deleteBlobIDs)
	s.audit = o.Audit
	s.replWake = make(chan struct{}, 1)
	if s.now == nil {
		s.now = time.Now
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	s.rawBlobs = b
	s.blobs, s.journal = journaled(b, m, s.now, s.log)
	return s
}

// mapMeta translates store sentinels into canonical errors.
func mapMeta(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meta.ErrNoSuchBucket):
		return errs.NoSuchBucket
	case errors.Is(err, meta.ErrNoSuchKey):
		return errs.NoSuchKey
	case errors.Is(err, meta.ErrNoSuchVersion):
		return errs.NoSuchVersion
	case errors.Is(err, meta.ErrInvalidVersion):
		return errs.InvalidVersionID
	case errors.Is(err, meta.ErrNoSuchUpload):
		return errs.NoSuchUpload
	case errors.Is(err, meta.ErrBucketNotEmpty):
		return errs.BucketNotEmpty
	case errors.Is(err, meta.ErrNoSpace), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errs.InsufficientStorage
	case errors.Is(err, meta.ErrUnavailable):
		return errs.ServiceUnavailable
	case errs.As(err) != nil:
		return err
	}
	return fmt.Errorf("metadata: %w", err)
}

// deleteBlobs removes blobs that no metadata references any more. Failures
// only leave orphans, which the start-up sweep removes, so they are logged
// and not returned.
func (s *Service) deleteBlobs(ctx context.Context, parts []meta.Part) {
	for _, p := range parts {
		if p.BlobID == "" {
			continue
		}
		if err := s.blobs.Delete(context.WithoutCancel(ctx), p.BlobID); err != nil && !errors.Is(err, blob.ErrNotFound) {
			s.log.Warn("deleting blob", "blob", p.BlobID, "err", err)
			continue // journaled: the next start's sweep retries
		}
		s.journal.forget(p.BlobID)
	}
}

// deleteBlobIDs is deleteBlobs for the reclaimer, which runs outside any
// request (a blob may outlive the request that retired it).
func (s *Service) deleteBlobIDs(ids []string) {
	parts := make([]meta.Part, len(ids))
	for i, id := range ids {
		parts[i].BlobID = id
	}
	s.deleteBlobs(context.Background(), parts)
}

// dropReplaced deletes the blobs of a replaced (or deleted) object version
// once no read that may have resolved it is still using them.
func (s *Service) dropReplaced(_ context.Context, old *meta.Object) {
	if old != nil {
		s.reclaim.retire(old.Parts)
	}
}

// SweepOrphans deletes blobs no metadata references, walking every blob
// (strongroom fsck; the start-up sweep is SweepPending). It must run before
// the server accepts requests (an in-flight upload's blob is unreferenced
// until its metadata commits).
func (s *Service) SweepOrphans(ctx context.Context) (int, error) {
	return s.sweepOrphans(ctx, time.Time{})
}

// orphanGrace is how old an unreferenced blob must be before the start-up
// walk (stores without a pending-blob journal) deletes it: with several
// nodes on one metadata store and data tier, another node's blob is
// unreferenced between its commit and its metadata transaction.
const orphanGrace = time.Hour

// sweepOrphans deletes unreferenced blobs last modified before cutoff
// (all of them when cutoff is zero).
func (s *Service) sweepOrphans(ctx context.Context, cutoff time.Time) (int, error) {
	refs := make(map[string]struct{})
	if err := s.meta.BlobRefs(ctx, func(id string) error {
		refs[id] = struct{}{}
		return nil
	}); err != nil {
		return 0, err
	}
	var orphans []string
	if err := s.blobs.Walk(ctx, func(id string, mod time.Time) error {
		if !cutoff.IsZero() && !mod.Before(cutoff) {
			return nil
		}
		if _, ok := refs[id]; !ok {
			orphans = append(orphans, id)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, id := range orphans {
		if err := s.blobs.Delete(ctx, id); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return 0, err
		}
		s.journal.forget(id)
	}
	return len(orphans), nil
}
