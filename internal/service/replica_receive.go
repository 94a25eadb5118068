package service

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ReplicaUpload is a replica arriving from another deployment (see
// replica_wire.go for the payload).
type ReplicaUpload struct {
	Bucket, Key string
	VersionID   string // the versionId query parameter
	// Secret is the signing credential's secret key: the transfer key is
	// derived from it. The caller has verified the request's signature
	// and will verify every chunk's as Body is read.
	Secret string
	Body   io.Reader
	Size   int64 // decoded payload length
}

// errBadReplica is the answer to a payload that does not parse or add up.
func errBadReplica(why string) error {
	return errs.InvalidRequest.WithMessage("Malformed replica transfer: " + why + ".")
}

// ReceiveReplica installs a replica sent by another deployment's
// remoteTarget, authorized as a write to the destination bucket. It
// reports false when the bucket held the version already (the body is then
// not read). Every part is verified before the replica is installed: the
// sealed format authenticates each segment under the transferred key, and
// sizes and a plaintext-MD5 ETag are checked; SSE-C parts, which the
// server cannot open, are checked for their sealed size.
func (s *Service) ReceiveReplica(ctx context.Context, p Principal, in ReplicaUpload) (bool, error) {
	b, err := s.writable(ctx, p, in.Bucket, in.Key, nil, nil)
	if err != nil {
		return false, err
	}
	if s.hasReplica(ctx, in.Bucket, &meta.Object{Key: in.Key, VersionID: in.VersionID}) {
		return false, nil
	}
	h, hn, err := readReplicaHeader(in.Body)
	if err != nil {
		return false, bodyErr(err)
	}
	src := &h.Object
	if err := checkReplicaHeader(h, in, hn); err != nil {
		return false, err
	}
	// What a PUT would refuse, a replica may not bring either.
	if err := validKey(src.Key); err != nil {
		return false, err
	}
	if err := validUserMeta(src.UserMeta); err != nil {
		return false, err
	}
	if src.Tags, err = NormalizeTags(src.Tags, MaxObjectTags); err != nil {
		return false, err
	}
	src.Bucket = in.Bucket
	if err := s.authorizeReplica(ctx, p, b, src); err != nil {
		return false, err
	}
	if src.Encryption != nil && sse.Mode(src.Encryption.Mode) == sse.KMS {
		// The replica is wrapped under the rule's replica key, for this
		// credential's user: it needs encrypt on it (replicakeys.go).
		if err := s.checkKeyUse(ctx, p, h.ReplicaKMSKeyID, KeyEncrypt); err != nil {
			return false, err
		}
	}
	if err := checkReplicaLock(b, src); err != nil { // before any data is read
		return false, refusal(err)
	}
	owner := p.User
	if owner == "" {
		owner = b.Owner
	}
	if src.DeleteMarker {
		if err := expectEOF(in.Body); err != nil {
			return false, err
		}
		m := markerReplica(src, in.Bucket)
		m.Owner = owner
		installed, err := s.installReplica(ctx, m)
		return installed, refusal(err)
	}
	st := &stagedReplica{src: src, owner: owner}
	if h.Key == nil {
		st.enc = src.Encryption // SSE-C: checked by checkReplicaHeader
	} else {
		st.oek, err = unwrapTransfer(in.Secret, in.Bucket, in.Key, in.VersionID, h.Key)
		if err != nil {
			return false, errs.AccessDenied.WithMessage("The replica's object key does not unwrap under this credential.")
		}
		defer clear(st.oek)
		st.enc = &meta.Encryption{Algorithm: h.Key.Algorithm, SegmentSize: h.Key.SegmentSize}
	}
	if st.parts, err = s.stageParts(ctx, in.Body, src.Parts); err != nil {
		return false, err
	}
	o, err := s.verifiedReplica(ctx, b, st, &replication.Rule{ReplicaKMSKeyID: h.ReplicaKMSKeyID, SSEKMSEncrypted: h.SSEKMSEncrypted}, in.Body)
	if err != nil {
		s.deleteBlobs(ctx, st.parts)
		return false, err
	}
	installed, err := s.installReplica(ctx, o)
	return installed, refusal(err)
}

// verifiedReplica checks the end of the payload and the staged parts, then
// settles the replica's encryption.
func (s *Service) verifiedReplica(ctx context.Context, b *meta.Bucket, st *stagedReplica, rule *replication.Rule, body io.Reader) (*meta.Object, error) {
	if err := expectEOF(body); err != nil {
		return nil, err
	}
	if err := s.verifyStaged(ctx, st); err != nil {
		return nil, err
	}
	o, err := s.finishReplica(ctx, b, st, rule)
	return o, refusal(err)
}

// refusal answers a permanent replication failure found at the
// destination as InvalidRequest, which the sender takes as permanent too.
func refusal(err error) error {
	if errors.Is(err, replication.ErrPermanent) {
		return errs.InvalidRequest.WithMessage(strings.TrimPrefix(err.Error(), replication.ErrPermanent.Error()+": "))
	}
	return err
}

// checkReplicaHeader checks that a header names the version the request
// does and that its sizes add up to the payload's.
func checkReplicaHeader(h *replicaHeader, in ReplicaUpload, hn int64) error {
	o := &h.Object
	switch {
	case o.Key != in.Key:
		return errBadReplica("the header names another key")
	case o.VersionID != in.VersionID:
		return errBadReplica("the header names another version")
	case len(o.Parts) > MaxPartNumber:
		return errBadReplica("too many parts")
	case o.DeleteMarker && (len(o.Parts) > 0 || h.Key != nil):
		return errBadReplica("a delete marker carries data")
	}
	customer := o.Encryption != nil && sse.Mode(o.Encryption.Mode) == sse.Customer
	framing := o.Encryption
	switch {
	case o.DeleteMarker:
	case customer && h.Key != nil, !customer && h.Key == nil:
		return errBadReplica("the object key does not travel as the source's mode requires")
	case h.Key != nil:
		if o.Encryption != nil && o.Encryption.Algorithm != h.Key.Algorithm {
			return errBadReplica("the data algorithm differs from the source's")
		}
		framing = &meta.Encryption{Algorithm: h.Key.Algorithm, SegmentSize: h.Key.SegmentSize}
	}
	if framing != nil && (framing.SegmentSize < 16 || framing.SegmentSize > 16<<20) {
		return errBadReplica("bad segment size")
	}
	total, size := hn, int64(0)
	for _, p := range o.Parts {
		if p.Size < 0 || p.StoredSize != sse.SealedSize(framing, p.Size) {
			return errBadReplica("a part's stored size does not match its size")
		}
		total += p.StoredSize
		size += p.Size
	}
	if total != in.Size || size != o.Size {
		return errBadReplica("the sizes do not add up")
	}
	return nil
}

// stageParts stores each part's bytes as they arrive: inline when small,
// else as a blob of their own.
func (s *Service) stageParts(ctx context.Context, body io.Reader, parts []meta.Part) ([]meta.Part, error) {
	staged := make([]meta.Part, 0, len(parts))
	for _, p := range parts {
		p.BlobID, p.Inline, p.Format = "", nil, meta.FormatRaw
		var err error
		if p.StoredSize <= InlineMax {
			p.Inline = make([]byte, p.StoredSize)
			_, err = io.ReadFull(body, p.Inline)
		} else {
			p.BlobID, err = s.storeRaw(ctx, body, p.StoredSize)
		}
		if err != nil {
			s.deleteBlobs(ctx, staged)
			return nil, bodyErr(err)
		}
		staged = append(staged, p)
	}
	return staged, nil
}

// bodyErr keeps a request body's own errors (a failed chunk signature)
// and calls anything else a short body.
func bodyErr(err error) error {
	if e := errs.As(err); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.IncompleteBody
	}
	return errBadReplica(err.Error())
}

// expectEOF reads the end of the payload, where the last chunk's
// signature is checked.
func expectEOF(body io.Reader) error {
	var one [1]byte
	n, err := io.ReadFull(body, one[:])
	if n > 0 {
		return errBadReplica("data after the last part")
	}
	if err != io.EOF {
		return bodyErr(err)
	}
	return nil
}

// verifyStaged authenticates every segment of every staged part under the
// transferred key, and checks a plaintext-MD5 ETag. SSE-C parts were
// checked for size only (checkReplicaHeader): the customer key opens them.
func (s *Service) verifyStaged(ctx context.Context, st *stagedReplica) error {
	if st.oek == nil {
		return nil
	}
	src := st.src
	md5ETag := src.Encryption == nil || sse.Mode(src.Encryption.Mode) == sse.Managed
	sl := &sealing{enc: st.enc, oek: st.oek}
	for _, p := range st.parts {
		var h hash.Hash
		var sink io.Writer = io.Discard
		if md5ETag {
			h = md5.New()
			sink = h
		}
		rd := s.newObjectReader(ctx, &meta.Object{Bucket: src.Bucket, Key: src.Key, Parts: []meta.Part{p}}, sl, 0, p.Size)
		n, err := io.Copy(sink, rd)
		rd.Close()
		if err != nil || n != p.Size {
			return errs.BadDigest.WithMessage(fmt.Sprintf("Part %d of the replica does not authenticate.", p.Number))
		}
		want := p.ETag
		if !src.Multipart {
			want = src.ETag
		}
		if md5ETag && len(want) == 32 && hex.EncodeToString(h.Sum(nil)) != want {
			return errs.BadDigest.WithMessage(fmt.Sprintf("Part %d of the replica does not match its ETag.", p.Number))
		}
	}
	return nil
}

// authorizeReplica asks for what the replica does beyond a PUT: a delete
// marker is a delete, tags and object lock settings need their own
// permissions, as they would on a PUT that set them.
func (s *Service) authorizeReplica(ctx context.Context, p Principal, b *meta.Bucket, o *meta.Object) error {
	if o.DeleteMarker {
		return s.authorize(ctx, p, access{action: ActDeleteObject, bucket: b, key: o.Key})
	}
	if o.LockMode != "" {
		if err := s.authorize(ctx, p, access{action: ActPutObjectRetention, bucket: b, key: o.Key}); err != nil {
			return err
		}
	}
	if o.LegalHold {
		if err := s.authorize(ctx, p, access{action: ActPutObjectLegalHold, bucket: b, key: o.Key}); err != nil {
			return err
		}
	}
	return s.authorizeTagging(ctx, p, b, o.Key, o.Tags)
}
