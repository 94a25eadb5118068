package service

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// CreateUploadInput starts a multipart upload.
type CreateUploadInput struct {
	Bucket, Key       string
	Meta              ObjectMeta
	ChecksumAlgorithm string
	SSE               *sse.Spec    // requested encryption; nil: bucket default
	ACL               string       // canned ACL of the object to be
	Tags              []meta.Tag   // tags of the object to be, applied at Complete
	Lock              *LockRequest // object lock of the object to be
}

// CreateMultipartUpload starts an upload and returns it with its ID.
func (s *Service) CreateMultipartUpload(ctx context.Context, p Principal, in CreateUploadInput) (*meta.Upload, error) {
	if err := validKey(in.Key); err != nil {
		return nil, err
	}
	if err := validUserMeta(in.Meta.UserMeta); err != nil {
		return nil, err
	}
	tags, err := NormalizeTags(in.Tags, MaxObjectTags)
	if err != nil {
		return nil, err
	}
	b, err := s.writableNew(ctx, p, in.Bucket, in.Key, in.SSE, tags, in.ACL)
	if err != nil {
		return nil, err
	}
	var lock meta.Lock
	if !in.Lock.empty() { // else the bucket's default applies at Complete
		if lock, err = s.writeLock(ctx, p, b, in.Key, in.Lock, s.now()); err != nil {
			return nil, err
		}
	}
	// The upload's object key is created now; every part is sealed with a
	// key derived from it and its part number.
	sl, err := s.newSealing(ctx, b, in.Key, in.SSE)
	if err != nil {
		return nil, err
	}
	var id [24]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	// A leading '-' would read as a flag to command-line clients
	// (aws s3api upload-part --upload-id -x...); clearing the top bit
	// keeps the first character in A-Za-f.
	id[0] &= 0x7f
	u := &meta.Upload{
		ID:         base64.RawURLEncoding.EncodeToString(id[:]),
		Bucket:     in.Bucket,
		Key:        in.Key,
		Initiated:  s.now().UTC(),
		Owner:      p.User,
		Headers:    in.Meta.Headers,
		UserMeta:   in.Meta.UserMeta,
		Checksum:   in.ChecksumAlgorithm,
		Encryption: sl.encryption(),
		ACL:        in.ACL,
		Tags:       tags,
		Lock:       lock,
	}
	if err := s.meta.CreateUpload(ctx, u); err != nil {
		return nil, mapMeta(err)
	}
	return u, nil
}

// upload loads an upload of key and authorizes action on it. Writes to an
// upload are judged with the encryption it was started with, so a policy
// that demands SSE-KMS governs UploadPart too.
func (s *Service) upload(ctx context.Context, p Principal, action, bucket, key, id string) (*meta.Upload, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	u, err := s.meta.GetUpload(ctx, bucket, id)
	if err != nil {
		if aerr := s.authorize(ctx, p, access{action: action, bucket: b, key: key}); aerr != nil {
			return nil, aerr
		}
		return nil, mapMeta(err)
	}
	if u.Key != key {
		return nil, errs.NoSuchUpload
	}
	a := access{action: action, bucket: b, key: key}
	if action == ActPutObject && s.evaluatesPolicies(p, b) {
		a.extra = sseContext(nil, u.Encryption)
	}
	if err := s.authorize(ctx, p, a); err != nil {
		return nil, err
	}
	return u, nil
}

func validPartNumber(n int) error {
	if n < 1 || n > MaxPartNumber {
		return errs.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")
	}
	return nil
}

// UploadPartInput is one part's body.
type UploadPartInput struct {
	Bucket, Key, UploadID string
	PartNumber            int
	Body                  Body
	SSE                   *sse.Spec // SSE-C key (required for SSE-C uploads)
}

// UploadedPart is a stored part and the encryption of its upload.
type UploadedPart struct {
	meta.Part
	Encryption   *meta.Encryption
	SrcVersionID string // UploadPartCopy: the source version copied
}

// UploadPart stores one part, replacing an earlier upload of the same number.
func (s *Service) UploadPart(ctx context.Context, p Principal, in UploadPartInput) (*UploadedPart, error) {
	if err := validPartNumber(in.PartNumber); err != nil {
		return nil, err
	}
	u, err := s.upload(ctx, p, ActPutObject, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return nil, err
	}
	if u.Checksum != "" && in.Body.Checksum.Algorithm == "" {
		// The upload asked for a checksum: compute it for every part.
		in.Body.Extra = append(in.Body.Extra, u.Checksum)
	}
	if err := s.checkReadKey(ctx, p, u.Encryption); err != nil {
		return nil, err // AWS: a part needs kms:Decrypt on the upload's key
	}
	sl, err := s.uploadSealing(ctx, u, in.SSE)
	if err != nil {
		return nil, err
	}
	w, err := s.writeBlob(ctx, in.Body, sl, in.PartNumber)
	if err != nil {
		return nil, err
	}
	return s.recordPart(ctx, in.Bucket, in.UploadID, in.PartNumber, w, sl)
}

// uploadSealing recovers an upload's object key for sealing a part. SSE-C
// uploads need the customer key on every part.
func (s *Service) uploadSealing(ctx context.Context, u *meta.Upload, spec *sse.Spec) (*sealing, error) {
	spec, err := matchUploadSSE(u.Encryption, spec)
	if err != nil {
		return nil, err
	}
	if err := checkCustomerKey(u.Encryption, spec); err != nil {
		return nil, err
	}
	return s.openSealing(ctx, u.Encryption, u.Bucket, u.Key, spec)
}

var errUploadSSEConflict = errs.InvalidArgument.WithMessage("The encryption parameters you specified do not match the multipart upload's: they can only repeat those of CreateMultipartUpload.")

// matchUploadSSE accepts the upload's own encryption headers on a part or
// a Complete (SDKs and tools send them again) and refuses others. What it
// returns is what the request adds: an SSE-C key, or nil.
func matchUploadSSE(enc *meta.Encryption, spec *sse.Spec) (*sse.Spec, error) {
	if spec == nil || spec.Mode == sse.Customer {
		return spec, nil
	}
	switch {
	case enc == nil || sse.Mode(enc.Mode) != spec.Mode:
		return nil, errUploadSSEConflict
	case spec.KeyID != "" && spec.KeyID != enc.KeyID:
		return nil, errUploadSSEConflict
	case spec.Context != "" && spec.Context != enc.Context:
		return nil, errUploadSSEConflict
	case spec.Algorithm == sse.SM4 && enc.Algorithm != sse.SM4:
		return nil, errUploadSSEConflict
	}
	return nil, nil
}

func (s *Service) recordPart(ctx context.Context, bucket, uploadID string, number int, w *written, sl *sealing) (*UploadedPart, error) {
	part := w.part
	part.Number = number
	part.ETag = w.etag
	part.LastModified = s.now().UTC()
	old, err := s.meta.PutPart(ctx, bucket, uploadID, &part)
	if err != nil {
		s.deleteBlobs(ctx, []meta.Part{part})
		return nil, mapMeta(err)
	}
	if old != nil {
		s.deleteBlobs(ctx, []meta.Part{*old})
	}
	return &UploadedPart{Part: part, Encryption: sl.encryption()}, nil
}

// UploadPartCopyInput fills a part from (a range of) an existing object.
type UploadPartCopyInput struct {
	Bucket, Key, UploadID string
	PartNumber            int
	SrcBucket, SrcKey     string
	SrcVersionID          string // "": the current version
	SrcConditions         Conditions
	SrcRange              *Range    // inclusive byte range; nil for the whole source
	SrcSSE                *sse.Spec // SSE-C key of the source, if any
	SSE                   *sse.Spec // SSE-C key of the upload, if any
	Extra                 []string  // more checksums to compute (dialect needs)
}

// UploadPartCopy copies source bytes into a part.
func (s *Service) UploadPartCopy(ctx context.Context, p Principal, in UploadPartCopyInput) (*UploadedPart, error) {
	if err := validPartNumber(in.PartNumber); err != nil {
		return nil, err
	}
	u, err := s.upload(ctx, p, ActPutObject, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return nil, err
	}
	if err := s.checkReadKey(ctx, p, u.Encryption); err != nil {
		return nil, err // as UploadPart: sealing the part unwraps the upload's key
	}
	src, hold, err := s.readableSource(ctx, p, in.SrcBucket, in.SrcKey, in.SrcVersionID)
	if err != nil {
		return nil, err
	}
	defer hold.release()
	if err := checkCustomerKey(src.Encryption, in.SrcSSE); err != nil {
		return nil, err
	}
	if err := in.SrcConditions.check(src, true); err != nil {
		return nil, err
	}
	if err := s.checkReadKey(ctx, p, src.Encryption); err != nil {
		return nil, err
	}
	srcSl, err := s.openSealing(ctx, src.Encryption, in.SrcBucket, in.SrcKey, in.SrcSSE)
	if err != nil {
		return nil, err
	}
	dstSl, err := s.uploadSealing(ctx, u, in.SSE)
	if err != nil {
		return nil, err
	}
	off, n := int64(0), src.Size
	if in.SrcRange != nil {
		r := *in.SrcRange
		if r.Start < 0 || r.End < r.Start || r.End >= src.Size {
			return nil, errs.InvalidArgument.WithMessage(fmt.Sprintf("Range specified is not valid for source object of size: %d", src.Size))
		}
		off, n = r.Start, r.End-r.Start+1
	}
	rd := s.newObjectReader(ctx, src, srcSl, off, n)
	defer rd.Close()
	extra := in.Extra
	if u.Checksum != "" {
		extra = append(extra, u.Checksum)
	}
	w, err := s.writeBlob(ctx, Body{Reader: rd, Size: n, Extra: extra}, dstSl, in.PartNumber)
	if err != nil {
		return nil, err
	}
	up, err := s.recordPart(ctx, in.Bucket, in.UploadID, in.PartNumber, w, dstSl)
	if err != nil {
		return nil, err
	}
	up.SrcVersionID = src.VersionID
	return up, nil
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number int
	ETag   string
}

// CompleteUploadInput finishes an upload.
type CompleteUploadInput struct {
	Bucket, Key, UploadID string
	Parts                 []CompletePart
	// SSE is the request's SSE-C key, if it sent one: it must be the
	// upload's (S3 does not require it on Complete).
	SSE *sse.Spec
	// MinPartSize is the smallest part but the last (0: S3's 5 MiB).
	MinPartSize int64
	// IfNoneMatch "*" and IfMatch condition the write on the key, as for
	// PutObject.
	IfNoneMatch, IfMatch string
}

// CompleteMultipartUpload assembles the listed parts into the object.
// Completing an upload that was already completed with the same part list
// returns the object as it was completed, as S3 does; of concurrent
// Completes exactly one installs the object, and those with another part
// list get NoSuchUpload.
func (s *Service) CompleteMultipartUpload(ctx context.Context, p Principal, in CompleteUploadInput) (*meta.Object, error) {
	u, err := s.upload(ctx, p, ActPutObject, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		if errs.As(err) == errs.NoSuchUpload {
			return s.completedAgain(ctx, in)
		}
		return nil, err
	}
	spec, err := matchUploadSSE(u.Encryption, in.SSE)
	if err != nil {
		return nil, err
	}
	if spec != nil {
		if _, err := s.uploadSealing(ctx, u, spec); err != nil {
			return nil, err
		}
	}
	if len(in.Parts) == 0 {
		return nil, errs.MalformedXML.WithMessage("You must specify at least one part")
	}
	stored, err := s.meta.ListParts(ctx, in.Bucket, in.UploadID)
	if err != nil {
		if mapMeta(err) == errs.NoSuchUpload { // completed meanwhile
			return s.completedAgain(ctx, in)
		}
		return nil, mapMeta(err)
	}
	byNum := make(map[int]meta.Part, len(stored))
	for _, sp := range stored {
		byNum[sp.Number] = sp
	}
	minPart := in.MinPartSize
	if minPart <= 0 {
		minPart = MinPartSize
	}
	parts := make([]meta.Part, 0, len(in.Parts))
	md5s := md5.New()
	var size int64
	// The order is judged on the whole list first, as S3 does: [2,1] is
	// InvalidPartOrder even though part 2 alone would be too small.
	for i := 1; i < len(in.Parts); i++ {
		if in.Parts[i].Number <= in.Parts[i-1].Number {
			return nil, errs.InvalidPartOrder
		}
	}
	for i, cp := range in.Parts {
		sp, ok := byNum[cp.Number]
		if !ok || strings.Trim(cp.ETag, `"`) != sp.ETag {
			return nil, errs.InvalidPart
		}
		if i < len(in.Parts)-1 && sp.Size < minPart {
			return nil, errs.EntityTooSmall
		}
		raw, _ := hex.DecodeString(sp.ETag)
		md5s.Write(raw)
		size += sp.Size
		parts = append(parts, sp)
	}
	if size > MaxObjectSize {
		return nil, errs.EntityTooLarge
	}
	b, err := s.meta.GetBucket(ctx, in.Bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	cond, err := s.writeCondition(ctx, b, in.Key, in.IfMatch, in.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	lock, err := s.completedLock(b, u.Lock)
	if err != nil {
		return nil, err
	}
	o := &meta.Object{
		Lock:         lock,
		Bucket:       in.Bucket,
		Key:          in.Key,
		Size:         size,
		ETag:         fmt.Sprintf("%s-%d", hex.EncodeToString(md5s.Sum(nil)), len(parts)),
		LastModified: s.now().UTC(),
		Owner:        p.User,
		Headers:      u.Headers,
		UserMeta:     u.UserMeta,
		Checksums:    combineChecksums(parts),
		Parts:        parts,
		Multipart:    true,
		Encryption:   u.Encryption,
		ACL:          u.ACL,
		Tags:         u.Tags,
	}
	s.markReplication(b, o)
	old, unused, err := s.meta.CompleteUpload(ctx, in.Bucket, in.UploadID, o, cond)
	if err != nil {
		if mapMeta(err) == errs.NoSuchUpload {
			return s.completedAgain(ctx, in)
		}
		return nil, mapMeta(err)
	}
	s.deleteBlobs(ctx, unused)
	s.dropReplaced(ctx, old)
	s.queued(o)
	if o.VersionID == "" {
		reportVersion(b, o) // "null" when suspended
	}
	return o, nil
}

// completedAgain answers a Complete for an upload that is gone: success if
// it was completed into this key with the same part list, NoSuchUpload
// otherwise (whoever sent another list must not believe it was used).
func (s *Service) completedAgain(ctx context.Context, in CompleteUploadInput) (*meta.Object, error) {
	c, err := s.meta.GetCompletedUpload(ctx, in.Bucket, in.UploadID)
	if err != nil || c.Key != in.Key {
		return nil, errs.NoSuchUpload
	}
	if c.Parts != "" && c.Parts != requestedParts(in.Parts) {
		return nil, errs.NoSuchUpload
	}
	if o, err := s.meta.GetObject(ctx, in.Bucket, in.Key); err == nil && o.ETag == c.ETag {
		return o, nil
	}
	return &meta.Object{Bucket: in.Bucket, Key: in.Key, ETag: c.ETag, Multipart: true}, nil
}

// requestedParts is the meta.PartsDigest of a Complete request's list.
func requestedParts(list []CompletePart) string {
	parts := make([]meta.Part, len(list))
	for i, cp := range list {
		parts[i] = meta.Part{Number: cp.Number, ETag: strings.Trim(cp.ETag, `"`)}
	}
	return meta.PartsDigest(parts)
}

// combineChecksums derives the multipart (composite) checksums: for each
// algorithm every part carries, the checksum of the parts' raw checksums,
// suffixed with the part count as S3 does. CRC64ECMA combines exactly.
func combineChecksums(parts []meta.Part) map[string]string {
	out := map[string]string{}
	for alg := range parts[0].Checksums {
		if alg == checksum.CRC64ECMA {
			var crc uint64
			ok := true
			for _, p := range parts {
				var v uint64
				if _, err := fmt.Sscan(p.Checksums[alg], &v); err != nil {
					ok = false
					break
				}
				crc = checksum.CombineCRC64ECMA(crc, v, p.Size)
			}
			if ok {
				out[alg] = fmt.Sprint(crc)
			}
			continue
		}
		h := checksum.New(alg)
		for _, p := range parts {
			raw, err := base64.StdEncoding.DecodeString(p.Checksums[alg])
			if err != nil || p.Checksums[alg] == "" {
				h = nil
				break
			}
			h.Write(raw)
		}
		if h != nil {
			out[alg] = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Service) AbortMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string) error {
	if _, err := s.upload(ctx, p, ActAbortUpload, bucket, key, uploadID); err != nil {
		return err
	}
	parts, err := s.meta.AbortUpload(ctx, bucket, uploadID)
	if err != nil {
		return mapMeta(err)
	}
	s.deleteBlobs(ctx, parts)
	return nil
}

// ListPartsResult is one page of an upload's parts.
type ListPartsResult struct {
	Upload    *meta.Upload
	Parts     []meta.Part
	Truncated bool
	Next      int
}

// ListParts lists an upload's parts after a part number marker.
func (s *Service) ListParts(ctx context.Context, p Principal, bucket, key, uploadID string, marker, max int) (*ListPartsResult, error) {
	u, err := s.upload(ctx, p, ActListParts, bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	parts, err := s.meta.ListParts(ctx, bucket, uploadID)
	if err != nil {
		return nil, mapMeta(err)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	if max <= 0 || max > MaxListKeys {
		max = MaxListKeys
	}
	res := &ListPartsResult{Upload: u}
	for _, pt := range parts {
		if pt.Number <= marker {
			continue
		}
		if len(res.Parts) == max {
			res.Truncated = true
			break
		}
		res.Parts = append(res.Parts, pt)
		res.Next = pt.Number
	}
	return res, nil
}

// ListUploadsInput selects uploads of a bucket.
type ListUploadsInput struct {
	Bucket, Prefix, Delimiter string
	KeyMarker, UploadIDMarker string
	MaxUploads                int
}

// ListUploadsResult is one page of uploads.
type ListUploadsResult struct {
	Uploads        []*meta.Upload
	CommonPrefixes []string
	Truncated      bool
	NextKey        string
	NextUploadID   string
}

// ListMultipartUploads lists in-progress uploads by key, then initiation.
func (s *Service) ListMultipartUploads(ctx context.Context, p Principal, in ListUploadsInput) (*ListUploadsResult, error) {
	if _, err := s.bucketFor(ctx, p, ActListUploads, in.Bucket, ""); err != nil {
		return nil, err
	}
	all, err := s.meta.ListUploads(ctx, in.Bucket, in.Prefix)
	if err != nil {
		return nil, mapMeta(err)
	}
	max := in.MaxUploads
	if max <= 0 || max > MaxListKeys {
		max = MaxListKeys
	}
	res := &ListUploadsResult{}
	seen := map[string]bool{}
	passedMarker := in.UploadIDMarker == ""
	for _, u := range all {
		if in.KeyMarker != "" {
			if u.Key < in.KeyMarker {
				continue
			}
			// Without an upload-id-marker every upload of the marker key
			// is skipped; with one, those up to and including it.
			if u.Key == in.KeyMarker && (in.UploadIDMarker == "" || !passedMarker) {
				if u.ID == in.UploadIDMarker {
					passedMarker = true
				}
				continue
			}
		}
		if cp, ok := commonPrefix(u.Key, in.Prefix, in.Delimiter); ok {
			if seen[cp] || strings.HasPrefix(in.KeyMarker, cp) {
				continue // rolled up already (or on an earlier page)
			}
			if len(res.Uploads)+len(res.CommonPrefixes) == max {
				res.Truncated = true
				break
			}
			seen[cp] = true
			res.CommonPrefixes = append(res.CommonPrefixes, cp)
			res.NextKey, res.NextUploadID = cp, ""
			continue
		}
		if len(res.Uploads)+len(res.CommonPrefixes) == max {
			res.Truncated = true
			break
		}
		res.Uploads = append(res.Uploads, u)
		res.NextKey, res.NextUploadID = u.Key, u.ID
	}
	return res, nil
}
