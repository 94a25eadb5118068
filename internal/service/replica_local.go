package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Replicas (internal/replication decides which versions; this file and
// replica_remote.go move them).
//
// Encryption follows the seed (COS encryption overview, DESIGN.md): a
// plaintext source gets the destination bucket's default encryption (none:
// plaintext); an encrypted source keeps its mode and data algorithm and the
// destination default is not applied. SSE-S3 is wrapped under the
// destination's managed key, SSE-KMS under the rule's ReplicaKMSKeyID, and
// an SSE-C replica keeps the customer-key-wrapped object key and its salt
// as they are (the server never has the customer key, and the wrap binds
// no bucket or key), so the same customer key opens it and no other. The
// sealed data is kept (linked, or copied as stored) whenever the data
// algorithm stays: only the object key is wrapped again.

// ReplicaTarget returns where a rule's replicas go: a bucket of this node
// or of a registered remote deployment.
func (s *Service) ReplicaTarget(ctx context.Context, d replication.Destination) (ReplicaTarget, error) {
	if d.Bucket == "" {
		return nil, fmt.Errorf("%w: destination names no bucket", replication.ErrPermanent)
	}
	if d.Local() {
		return &localTarget{s: s, bucket: d.Bucket}, nil
	}
	if s.remotes == nil {
		return nil, fmt.Errorf("%w: no remote deployments are configured (destination %s)", replication.ErrPermanent, d)
	}
	r, err := s.remotes.Get(ctx, d.Remote)
	if errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", replication.ErrPermanent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up remote %q: %w", d.Remote, err)
	}
	return newRemoteTarget(s, r, d.Bucket)
}

// localTarget replicates into a bucket of this node.
type localTarget struct {
	s      *Service
	bucket string
}

// PutReplica implements ReplicaTarget.
func (t *localTarget) PutReplica(ctx context.Context, src *meta.Object, rule *replication.Rule) (int64, error) {
	s := t.s
	src, hold, err := s.replicaSource(ctx, src, rule)
	if err != nil {
		return 0, err
	}
	defer hold.release()
	b, err := s.replicaBucket(ctx, t.bucket)
	if err != nil {
		return 0, err
	}
	if s.hasReplica(ctx, t.bucket, src) {
		return 0, nil
	}
	st := &stagedReplica{src: src, owner: src.Owner}
	if src.Encryption != nil {
		st.enc = src.Encryption
		if sse.Mode(src.Encryption.Mode) != sse.Customer {
			sl, err := s.openSealing(ctx, src.Encryption, src.Bucket, src.Key, nil)
			if err != nil {
				return 0, replicaErr(err)
			}
			defer clear(sl.oek)
			st.oek = sl.oek
		}
	}
	if st.parts, err = s.duplicateParts(ctx, src.Parts); err != nil {
		return 0, replicaErr(err)
	}
	o, err := s.finishReplica(ctx, b, st, rule)
	if err != nil {
		s.deleteBlobs(ctx, st.parts)
		return 0, replicaErr(err)
	}
	if _, err := s.installReplica(ctx, o); err != nil {
		return 0, err
	}
	return src.Size, nil
}

// PutDeleteMarker implements ReplicaTarget.
func (t *localTarget) PutDeleteMarker(ctx context.Context, src *meta.Object, _ *replication.Rule) error {
	if !src.DeleteMarker {
		return fmt.Errorf("%w: %q/%q version %q is not a delete marker", replication.ErrPermanent, src.Bucket, src.Key, src.VersionID)
	}
	if _, err := t.s.replicaBucket(ctx, t.bucket); err != nil {
		return err
	}
	_, err := t.s.installReplica(ctx, markerReplica(src, t.bucket))
	return err
}

// markerReplica is the replica of the delete marker src in bucket.
func markerReplica(src *meta.Object, bucket string) *meta.Object {
	return &meta.Object{
		Bucket: bucket, Key: src.Key, VersionID: src.VersionID, DeleteMarker: true,
		LastModified: src.LastModified, Owner: src.Owner, ReplicationStatus: replication.StatusReplica,
	}
}

// replicaSource reads the version src names again, under a hold that keeps
// its blobs until released, and checks that the rule lets it be
// replicated. A version gone since it was queued is a permanent failure.
func (s *Service) replicaSource(ctx context.Context, src *meta.Object, rule *replication.Rule) (*meta.Object, *readHold, error) {
	if src.DeleteMarker {
		return nil, nil, fmt.Errorf("%w: %q/%q version %q is a delete marker", replication.ErrPermanent, src.Bucket, src.Key, src.VersionID)
	}
	hold := s.reclaim.begin()
	vid := src.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	o, err := s.meta.GetObjectVersion(ctx, src.Bucket, src.Key, vid)
	if err == nil && o.DeleteMarker {
		err = meta.ErrNoSuchVersion
	}
	if err != nil {
		hold.release()
		if errors.Is(err, meta.ErrNoSuchVersion) || errors.Is(err, meta.ErrNoSuchKey) || errors.Is(err, meta.ErrNoSuchBucket) {
			return nil, nil, fmt.Errorf("%w: source %q/%q version %q: %w", replication.ErrPermanent, src.Bucket, src.Key, src.VersionID, err)
		}
		return nil, nil, err
	}
	hold.keep(o.Parts)
	if err := checkReplicaRule(o.Encryption, rule); err != nil {
		hold.release()
		return nil, nil, err
	}
	if err := s.replicaKeyState(ctx, o.Encryption, rule); err != nil { // replicakeys.go
		hold.release()
		return nil, nil, err
	}
	return o, hold, nil
}

// checkReplicaRule refuses SSE-KMS versions a rule does not replicate:
// S3 replicates them only with SseKmsEncryptedObjects enabled, and then
// under the rule's ReplicaKmsKeyID.
func checkReplicaRule(enc *meta.Encryption, rule *replication.Rule) error {
	if enc == nil || sse.Mode(enc.Mode) != sse.KMS {
		return nil
	}
	if rule == nil || !rule.SSEKMSEncrypted {
		return fmt.Errorf("%w: SSE-KMS objects are replicated only when the rule enables SseKmsEncryptedObjects", replication.ErrPermanent)
	}
	if rule.ReplicaKMSKeyID == "" {
		return fmt.Errorf("%w: the rule names no ReplicaKmsKeyID for SSE-KMS replicas", replication.ErrPermanent)
	}
	return nil
}

// replicaBucket reads a destination bucket; a missing one is permanent.
func (s *Service) replicaBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	b, err := s.meta.GetBucket(ctx, name)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		return nil, fmt.Errorf("%w: destination bucket %q does not exist", replication.ErrPermanent, name)
	}
	return b, err
}

// hasReplica reports whether bucket already holds src's version (a
// replica keeps its source's version ID).
func (s *Service) hasReplica(ctx context.Context, bucket string, src *meta.Object) bool {
	if src.VersionID == "" {
		return false
	}
	o, err := s.meta.GetObjectVersion(ctx, bucket, src.Key, src.VersionID)
	return err == nil && o.ReplicationStatus == replication.StatusReplica
}

// stagedReplica is a replica's data on this node before it is installed.
type stagedReplica struct {
	src *meta.Object // the source version's record
	// parts are the stored data under names of their own, in src's part
	// order; the replica takes them over or they are deleted.
	parts []meta.Part
	// enc is how parts are sealed: the source's record (its Algorithm and
	// SegmentSize; for SSE-C its wrapped key and salt too), or the
	// transfer's sealing; nil: plaintext framing as each part records.
	enc *meta.Encryption
	oek []byte // the object key sealing parts; nil for plaintext and SSE-C
	// owner of the replica: the source's owner on this node, the
	// transfer's signer on another.
	owner string
}

// finishReplica turns staged data into the replica's record in b, as the
// seed's rules say. It re-seals the data only when the replica's data
// algorithm differs from the staged one, or when plaintext becomes
// encrypted or the reverse; otherwise it keeps the staged parts and wraps
// the object key anew. On error the caller deletes st.parts.
func (s *Service) finishReplica(ctx context.Context, b *meta.Bucket, st *stagedReplica, rule *replication.Rule) (*meta.Object, error) {
	src := st.src
	o := replicaRecord(src, b.Name, st.owner)
	if err := checkReplicaLock(b, src); err != nil {
		return nil, err
	}
	if src.Encryption != nil && sse.Mode(src.Encryption.Mode) == sse.Customer {
		// The customer key never reaches the server: the sealed data and
		// the customer-key-wrapped object key travel as they are.
		o.Encryption = cloneEncryption(src.Encryption)
		o.Parts = st.parts
		return o, nil
	}
	if err := checkReplicaRule(src.Encryption, rule); err != nil {
		return nil, err
	}
	spec, err := s.replicaSpec(b, src.Encryption, rule)
	if err != nil {
		return nil, err
	}
	switch {
	case spec == nil && st.enc == nil:
		o.Parts = st.parts
		return o, nil
	case spec != nil && st.enc != nil && spec.Algorithm == st.enc.Algorithm:
		enc, err := s.sealer.WrapObjectKey(ctx, spec, b.Name, o.Key, st.oek)
		if err == nil {
			enc.SegmentSize = st.enc.SegmentSize // the data's framing
			o.Encryption, o.Parts = enc, st.parts
			o.ETag = replicaETag(src, enc)
			return o, nil
		}
		if !errors.Is(err, sse.ErrCannotWrap) {
			return nil, err
		}
	}
	return s.resealReplica(ctx, o, st, spec)
}

// resealReplica writes the staged data again, part by part, sealed as spec
// says (nil: plaintext), and deletes the staged parts once done.
func (s *Service) resealReplica(ctx context.Context, o *meta.Object, st *stagedReplica, spec *sse.Spec) (*meta.Object, error) {
	dst, err := s.sealingFor(ctx, spec, o.Bucket, o.Key)
	if err != nil {
		return nil, err
	}
	if dst != nil {
		defer clear(dst.oek)
	}
	var from *sealing
	if st.enc != nil {
		from = &sealing{enc: st.enc, oek: st.oek}
	}
	parts := make([]meta.Part, 0, len(st.parts))
	for _, p := range st.parts {
		rd := s.newObjectReader(ctx, &meta.Object{Bucket: o.Bucket, Key: o.Key, Parts: []meta.Part{p}}, from, 0, p.Size)
		w, err := s.writeBlob(ctx, Body{Reader: rd, Size: p.Size}, dst, p.Number)
		rd.Close()
		if err != nil {
			s.deleteBlobs(ctx, parts)
			return nil, err
		}
		np := w.part
		np.ETag, np.LastModified, np.Checksums = p.ETag, p.LastModified, p.Checksums
		parts = append(parts, np)
	}
	s.deleteBlobs(ctx, st.parts)
	o.Parts, o.Encryption = parts, dst.encryption()
	o.ETag = replicaETag(st.src, o.Encryption)
	return o, nil
}

// replicaRecord is the replica of src in bucket before its data and
// encryption are settled: same key, version ID, metadata, tags, checksums,
// object lock and ACL; ReplicationStatus REPLICA.
func replicaRecord(src *meta.Object, bucket, owner string) *meta.Object {
	o := *src
	o.Bucket, o.Owner, o.ReplicationStatus = bucket, owner, replication.StatusReplica
	o.Parts, o.Encryption = nil, nil
	return &o
}

// replicaETag keeps the source's ETag, except that a replica under SSE-KMS
// of a source whose ETag is its plaintext MD5 gets an opaque one, as a
// PUT under SSE-KMS would.
func replicaETag(src *meta.Object, enc *meta.Encryption) string {
	srcPlainMD5 := src.Encryption == nil || sse.Mode(src.Encryption.Mode) == sse.Managed
	if enc == nil || sse.Mode(enc.Mode) == sse.Managed || !srcPlainMD5 {
		return src.ETag
	}
	etag := opaqueETag()
	if src.Multipart {
		etag += fmt.Sprintf("-%d", len(src.Parts))
	}
	return etag
}

// replicaSpec is the encryption of the replica in b of a version stored
// with enc (nil: plaintext): see the rules at the top of this file. A nil
// spec is a plaintext replica.
func (s *Service) replicaSpec(b *meta.Bucket, enc *meta.Encryption, rule *replication.Rule) (*sse.Spec, error) {
	if enc == nil {
		spec, err := s.writeSpec(b, nil)
		if errs.As(err) == errs.NotImplemented {
			err = fmt.Errorf("%w: %w", replication.ErrPermanent, err)
		}
		return spec, err
	}
	if s.sealer == nil {
		return nil, fmt.Errorf("%w: server-side encryption is not configured on this server", replication.ErrPermanent)
	}
	spec := &sse.Spec{Mode: sse.Mode(enc.Mode), Algorithm: enc.Algorithm, BucketKey: enc.BucketKey}
	if spec.Algorithm == "" {
		spec.Algorithm = sse.AES256
	}
	if spec.Mode == sse.KMS {
		spec.KeyID, spec.ProjectID, spec.Context = rule.ReplicaKMSKeyID, enc.ProjectID, enc.Context
	}
	return spec, nil
}

// checkReplicaLock refuses a locked version for a bucket without object
// lock (S3 too requires it of the destination).
func checkReplicaLock(b *meta.Bucket, src *meta.Object) error {
	if src.LockMode == "" && !src.LegalHold {
		return nil
	}
	if c, err := objectLockConfig(b); err == nil && c != nil {
		return nil
	}
	return fmt.Errorf("%w: the source version is locked and destination bucket %q has no object lock", replication.ErrPermanent, b.Name)
}

func cloneEncryption(e *meta.Encryption) *meta.Encryption {
	c := *e
	c.WrappedKey = append([]byte(nil), e.WrappedKey...)
	c.Salt = append([]byte(nil), e.Salt...)
	if e.Extra != nil {
		c.Extra = make(map[string]string, len(e.Extra))
		for k, v := range e.Extra {
			c.Extra[k] = v
		}
	}
	return &c
}

// installReplica commits a replica's record; it reports false (and drops
// o's data) when the destination held that version already.
func (s *Service) installReplica(ctx context.Context, o *meta.Object) (bool, error) {
	replaced, installed, err := s.meta.PutReplica(ctx, o)
	if err != nil {
		s.deleteBlobs(ctx, o.Parts)
		if errors.Is(err, meta.ErrReplicaUnversioned) || errors.Is(err, meta.ErrReplicaConflict) ||
			errors.Is(err, meta.ErrInvalidVersion) || errors.Is(err, meta.ErrNoSuchBucket) {
			return false, fmt.Errorf("%w: %w", replication.ErrPermanent, err)
		}
		return false, mapMeta(err)
	}
	if !installed {
		s.deleteBlobs(ctx, o.Parts)
	}
	s.dropReplaced(ctx, replaced)
	return installed, nil
}

// duplicateParts gives stored parts second names: a hard link where the
// blob store can make one, else a copy of the stored bytes as they are
// (ciphertext stays ciphertext). Inline parts need nothing.
func (s *Service) duplicateParts(ctx context.Context, src []meta.Part) ([]meta.Part, error) {
	linker, canLink := s.blobs.(blob.Linker)
	parts := make([]meta.Part, 0, len(src))
	for _, p := range src {
		if p.BlobID != "" {
			var id string
			var err error
			if canLink {
				id, err = linker.Link(ctx, p.BlobID)
			} else {
				id, err = s.copyStored(ctx, &p)
			}
			if err != nil {
				s.deleteBlobs(ctx, parts)
				if errors.Is(err, blob.ErrNotFound) {
					return nil, fmt.Errorf("%w: a source blob is gone: %w", replication.ErrPermanent, err)
				}
				return nil, storageErr(err)
			}
			p.BlobID = id
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// copyStored copies a part's stored bytes into a new blob.
func (s *Service) copyStored(ctx context.Context, p *meta.Part) (string, error) {
	r, err := s.openPart(ctx, p)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return s.storeRaw(ctx, io.NewSectionReader(r, 0, p.StoredSize), p.StoredSize)
}

// storeRaw writes exactly n stored bytes from r into a new blob.
func (s *Service) storeRaw(ctx context.Context, r io.Reader, n int64) (string, error) {
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return "", err
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	m, err := io.CopyBuffer(onlyWriter{w}, onlyReader{io.LimitReader(r, n)}, *bufp)
	if err == nil && m != n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		w.Abort()
		return "", err
	}
	return w.Commit(ctx)
}

// replicaErr marks what retrying cannot cure: a client-class (4xx) error,
// other than a timeout or throttling, is permanent.
func replicaErr(err error) error {
	if err == nil || errors.Is(err, replication.ErrPermanent) {
		return err
	}
	if e := errs.As(err); e != nil && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests && e.Code != "RequestTimeout" {
		return fmt.Errorf("%w: %w", replication.ErrPermanent, err)
	}
	return err
}
