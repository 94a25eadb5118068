package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Conditions are the HTTP preconditions of a read (or of a copy's source).
type Conditions struct {
	IfMatch           string
	IfNoneMatch       string
	IfModifiedSince   *time.Time
	IfUnmodifiedSince *time.Time
}

// check applies RFC 7232 as S3 does: If-Match beats If-Unmodified-Since,
// If-None-Match beats If-Modified-Since. For copies every failure is 412.
func (c Conditions) check(o *meta.Object, copySource bool) error {
	notModified := errs.NotModified
	if copySource {
		notModified = errs.PreconditionFailed
	}
	lm := o.LastModified.Truncate(time.Second)
	if c.IfMatch != "" {
		if !etagMatches(c.IfMatch, o.ETag) {
			return errs.PreconditionFailed
		}
	} else if c.IfUnmodifiedSince != nil && lm.After(*c.IfUnmodifiedSince) {
		return errs.PreconditionFailed
	}
	if c.IfNoneMatch != "" {
		if etagMatches(c.IfNoneMatch, o.ETag) {
			return notModified
		}
	} else if c.IfModifiedSince != nil && !lm.After(*c.IfModifiedSince) {
		return notModified
	}
	return nil
}

// etagMatches reports whether a comma-separated If-(None-)Match list
// names etag (quotes and weak prefixes ignored; * matches anything).
func etagMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || strings.Trim(v, `"`) == etag {
			return true
		}
	}
	return false
}

// ObjectMeta is what a writer sets on a new object.
type ObjectMeta struct {
	Headers  meta.Headers
	UserMeta map[string]string
}

func validKey(key string) error {
	if key == "" {
		return errs.InvalidArgument.WithMessage("Object key must not be empty")
	}
	if len(key) > MaxKeyLength {
		return errs.KeyTooLong
	}
	if !utf8.ValidString(key) {
		return errs.InvalidArgument.WithMessage("Object key must be valid UTF-8")
	}
	return nil
}

func validUserMeta(m map[string]string) error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	if n > MaxUserMetaBytes {
		return errs.MetadataTooLarge
	}
	return nil
}

// PutObjectInput is a single-request upload.
type PutObjectInput struct {
	Bucket, Key string
	Meta        ObjectMeta
	Body        Body
	// IfNoneMatch "*" makes the write conditional on the key not existing;
	// IfMatch on the current ETag.
	IfNoneMatch, IfMatch string
	SSE                  *sse.Spec    // requested encryption; nil: bucket default
	ACL                  string       // canned ACL; "" follows the bucket's
	Tags                 []meta.Tag   // object tags (x-amz-tagging)
	Lock                 *LockRequest // object lock (x-amz-object-lock-*)
}

// PutObject stores an object. It becomes visible, replacing any previous
// version, only once both its data and its metadata are durable.
func (s *Service) PutObject(ctx context.Context, p Principal, in PutObjectInput) (*meta.Object, error) {
	defer s.client()()
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
	lock, err := s.writeLock(ctx, p, b, in.Key, in.Lock, s.now())
	if err != nil {
		return nil, err
	}
	cond, err := s.writeCondition(ctx, b, in.Key, in.IfMatch, in.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	sl, err := s.newSealing(ctx, b, in.Key, in.SSE)
	if err != nil {
		return nil, err
	}
	w, err := s.writeBlob(ctx, in.Body, sl, 0)
	if err != nil {
		return nil, err
	}
	o := &meta.Object{
		Bucket:       in.Bucket,
		Key:          in.Key,
		Size:         w.part.Size,
		ETag:         w.etag,
		Encryption:   sl.encryption(),
		ACL:          in.ACL,
		LastModified: s.now().UTC(),
		Owner:        p.User,
		Headers:      in.Meta.Headers,
		UserMeta:     in.Meta.UserMeta,
		Checksums:    w.part.Checksums,
		Parts:        []meta.Part{w.part},
		Tags:         tags,
		Lock:         lock,
	}
	if err := s.installIn(ctx, b, o, cond); err != nil {
		return nil, err
	}
	reportVersion(b, o)
	rememberBucket(ctx, b) // bucketmemo.go
	return o, nil
}

// installIn is install for a new version of b: one that a rule of b's
// replication replicates is queued by the transaction that installs it.
func (s *Service) installIn(ctx context.Context, b *meta.Bucket, o *meta.Object, cond meta.Precondition) error {
	s.markReplication(b, o)
	return s.install(ctx, o, cond)
}

// install commits o's metadata if cond (nil: none) holds in the committing
// transaction, cleaning up its blobs if that fails and the replaced
// version's blobs if it succeeds.
func (s *Service) install(ctx context.Context, o *meta.Object, cond meta.Precondition) error {
	old, err := s.meta.PutObject(ctx, o, cond)
	if err != nil {
		s.deleteBlobs(ctx, o.Parts)
		return mapMeta(err)
	}
	s.dropReplaced(ctx, old)
	s.queued(o)
	return nil
}

// writeCondition implements conditional writes (If-None-Match: *, If-Match:
// etag). It checks the current version now, so a request sure to fail
// uploads nothing, and returns the check again as a precondition of the
// transaction that installs the new version (nil when the request has no
// condition): of writers racing on one condition exactly one wins.
func (s *Service) writeCondition(ctx context.Context, b *meta.Bucket, key, ifMatch, ifNoneMatch string) (meta.Precondition, error) {
	cond, err := s.etagCondition(ctx, b.Name, key, ifMatch, ifNoneMatch)
	if err != nil {
		return nil, err
	}
	return s.writeWormCondition(ctx, b, key, cond)
}

// etagCondition is writeCondition's If-Match / If-None-Match part.
func (s *Service) etagCondition(ctx context.Context, bucket, key, ifMatch, ifNoneMatch string) (meta.Precondition, error) {
	if ifMatch == "" && ifNoneMatch == "" {
		return nil, nil
	}
	cur, err := s.meta.GetObject(ctx, bucket, key)
	if errors.Is(err, meta.ErrNoSuchKey) {
		cur, err = nil, nil
	}
	if err != nil {
		return nil, mapMeta(err)
	}
	if err := checkWrite(cur, ifMatch, ifNoneMatch, errs.NoSuchKey); err != nil {
		return nil, err
	}
	return func(cur *meta.Object) error {
		// The key vanished during the request: S3's 409.
		return checkWrite(cur, ifMatch, ifNoneMatch, errs.ConditionalRequestConflict)
	}, nil
}

// checkWrite applies a write's conditions to the current version (nil:
// none); gone is the error for If-Match on a missing key.
func checkWrite(cur *meta.Object, ifMatch, ifNoneMatch string, gone error) error {
	if ifNoneMatch != "" && cur != nil && etagMatches(ifNoneMatch, cur.ETag) {
		return errs.PreconditionFailed
	}
	if ifMatch != "" {
		if cur == nil {
			return gone
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return errs.PreconditionFailed
		}
	}
	return nil
}

// Range is a requested byte range before it is resolved against a size.
// Start < 0 means a suffix range of the last -Start bytes; End < 0 means
// "to the end".
type Range struct{ Start, End int64 }

// Resolve returns the offset and length of r within size.
func (r Range) Resolve(size int64) (off, n int64, err error) {
	switch {
	case r.Start < 0: // suffix
		n = min(-r.Start, size)
		if n == 0 {
			return 0, 0, errs.InvalidRange
		}
		return size - n, n, nil
	case r.Start >= size:
		return 0, 0, errs.InvalidRange
	case r.End < 0 || r.End >= size:
		return r.Start, size - r.Start, nil
	default:
		return r.Start, r.End - r.Start + 1, nil
	}
}

// GetObjectInput names an object and how to read it.
type GetObjectInput struct {
	Bucket, Key string
	VersionID   string // "": the current version
	Range       *Range
	PartNumber  int // read only this part (1-based, as completed); 0: no part
	Conditions  Conditions
	SSE         *sse.Spec // SSE-C key of the request, if any
}

// ObjectBody is an open object read.
type ObjectBody struct {
	Object *meta.Object
	// Expiration is when the bucket's lifecycle expires the object, if it
	// does (x-amz-expiration).
	Expiration *Expiration
	// Offset and Length of the returned bytes; Ranged reports whether a
	// range was applied (206 Partial Content).
	Offset, Length int64
	Ranged         bool
	Body           ReadCloser
}

// ReadCloser is the body of an object read.
type ReadCloser interface {
	Read(p []byte) (int, error)
	Close() error
}

// GetObject opens an object (or a range of it) for reading.
func (s *Service) GetObject(ctx context.Context, p Principal, in GetObjectInput) (*ObjectBody, error) {
	// A client until the body is closed: key jobs yield to reads that
	// are still streaming, not only to lookups.
	done := s.client()
	hold := s.reclaim.begin() // before the lookup: see reclaimer
	loan := s.newInlineLoan()
	b, o, sl, err := s.lookup(ctx, p, in, loan.keep)
	if err != nil {
		loan.giveBack(o)
		hold.release()
		done()
		if o != nil { // failed precondition: the caller still reports validators
			return &ObjectBody{Object: o}, err
		}
		return nil, err
	}
	hold.keep(o.Parts)
	out := &ObjectBody{Object: o, Length: o.Size, Expiration: objectExpiration(b, o)}
	if in.Range != nil || in.PartNumber > 0 {
		off, n, ranged, err := in.resolve(o)
		if err != nil {
			loan.giveBack(o)
			hold.release()
			done()
			return nil, err
		}
		out.Offset, out.Length, out.Ranged = off, n, ranged
	}
	rd := s.newObjectReader(ctx, o, sl, out.Offset, out.Length)
	rd.hold, rd.done, rd.loan = hold, done, loan
	out.Body = rd
	return out, nil
}

// readableHeld is readable for a read of the object's data: the hold keeps
// the version's blobs until it is released, whatever writers do meanwhile.
func (s *Service) readableHeld(ctx context.Context, p Principal, bucket, key, versionID string) (*meta.Object, *readHold, error) {
	hold := s.reclaim.begin()
	_, o, err := s.readable(ctx, p, bucket, key, versionID, bytes.Clone)
	if err != nil {
		hold.release()
		return nil, nil, err
	}
	hold.keep(o.Parts)
	return o, hold, nil
}

// resolve returns the bytes of o a read asks for: a part or a range.
// ranged is false for part 1 of an empty single-part object (the whole of
// nothing, answered 200).
func (in GetObjectInput) resolve(o *meta.Object) (off, n int64, ranged bool, err error) {
	if in.PartNumber > 0 {
		off, n, err = PartRange(o, in.PartNumber)
		return off, n, o.Size > 0, err
	}
	off, n, err = in.Range.Resolve(o.Size)
	return off, n, true, err
}

// PartRange returns the bytes of part n of o: a part of a multipart object
// by the number it was completed with, or, for a single-part object, the
// whole object as part 1. Any other part is InvalidPartNumber.
func PartRange(o *meta.Object, n int) (off, length int64, err error) {
	if !o.Multipart {
		if n != 1 {
			return 0, 0, errs.InvalidPartNumber
		}
		return 0, o.Size, nil
	}
	for _, p := range o.Parts {
		if p.Number == n {
			return off, p.Size, nil
		}
		off += p.Size
	}
	return 0, 0, errs.InvalidPartNumber
}

// HeadObject returns an object's metadata, and its lifecycle expiration,
// after checking the preconditions and, for SSE-C objects, the customer
// key. On a failed precondition the object is still returned.
func (s *Service) HeadObject(ctx context.Context, p Principal, in GetObjectInput) (*meta.Object, *Expiration, error) {
	b, o, _, err := s.lookup(ctx, p, in, nil)
	if err != nil {
		return o, nil, err
	}
	return o, objectExpiration(b, o), nil
}

// lookup finds an object for a read. It always verifies an SSE-C key (the
// metadata of an SSE-C object is served only to the key holder). To open
// the object (into not nil: a GET) it also reads the bytes of parts kept
// inline, as into keeps them, and recovers the object key of any
// encrypted object. On a failed precondition it returns the object along
// with the error.
func (s *Service) lookup(ctx context.Context, p Principal, in GetObjectInput, into func([]byte) []byte) (*meta.Bucket, *meta.Object, *sealing, error) {
	open := into != nil
	b, o, err := s.readable(ctx, p, in.Bucket, in.Key, in.VersionID, into)
	if err != nil {
		return nil, nil, nil, err
	}
	s.reportedLock(ctx, p, b, o)
	if err := checkCustomerKey(o.Encryption, in.SSE); err != nil {
		return nil, nil, nil, err
	}
	if err := in.Conditions.check(o, false); err != nil {
		return b, o, nil, err
	}
	var sl *sealing
	if open {
		if err := s.checkReadKey(ctx, p, o.Encryption); err != nil {
			return nil, nil, nil, err
		}
	}
	if open || in.SSE != nil {
		if sl, err = s.openSealing(ctx, o.Encryption, in.Bucket, in.Key, in.SSE); err != nil {
			return nil, nil, nil, err
		}
	}
	return b, o, sl, nil
}

// checkCustomerKey refuses SSE-C parameters for an object not stored with
// SSE-C, and a missing key for one that is.
func checkCustomerKey(enc *meta.Encryption, spec *sse.Spec) error {
	isC := enc != nil && sse.Mode(enc.Mode) == sse.Customer
	hasKey := spec != nil && spec.Mode == sse.Customer
	switch {
	case isC && !hasKey:
		return errs.InvalidRequest.WithMessage("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case !isC && hasKey:
		return errs.InvalidRequest.WithMessage("The encryption parameters are not applicable to this object.")
	}
	return nil
}

// DeleteObject deletes a key; deleting a missing key succeeds. In a
// versioned bucket it adds a delete marker (see DeleteObjectVersion).
func (s *Service) DeleteObject(ctx context.Context, p Principal, bucket, key string) error {
	_, err := s.DeleteObjectVersion(ctx, p, bucket, key, "", false)
	return err
}

// ObjectVersion names a key, and optionally one of its versions.
type ObjectVersion struct {
	Key       string
	VersionID string
}

// DeleteResult is the outcome for one key (or version) of a multi-object
// delete.
type DeleteResult struct {
	ObjectVersion
	DeleteOutput
	Err error
}

// DeleteObjects deletes up to 1000 keys or versions, reporting each
// outcome (a locked version's is AccessDenied); bypass is
// x-amz-bypass-governance-retention.
func (s *Service) DeleteObjects(ctx context.Context, p Principal, bucket string, objs []ObjectVersion, bypass bool) ([]DeleteResult, error) {
	if len(objs) > MaxDeleteObjects {
		return nil, errs.MalformedXML.WithMessage("The request must contain no more than 1000 keys.")
	}
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	res := make([]DeleteResult, len(objs))
	// The keys are deleted concurrently so that the store's group commit
	// puts them in a few transactions (and fsyncs) instead of one each.
	var wg sync.WaitGroup
	sem := make(chan struct{}, deleteObjectsConcurrency)
	for i, ov := range objs {
		res[i].ObjectVersion = ov
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			action := ActDeleteObject
			if ov.VersionID != "" {
				action = ActDeleteObjectVersion
			}
			if res[i].Err = s.authorize(ctx, p, access{action: action, bucket: b, key: ov.Key}); res[i].Err != nil {
				return
			}
			var out *DeleteOutput
			if out, res[i].Err = s.deleteVersion(ctx, p, b, ov.Key, ov.VersionID, bypass); out != nil {
				res[i].DeleteOutput = *out
			}
		})
	}
	wg.Wait()
	return res, nil
}

// deleteObjectsConcurrency bounds the deletions of one DeleteObjects
// request in flight at once.
const deleteObjectsConcurrency = 64

// CopyObjectInput copies an object, or a source's metadata onto itself.
type CopyObjectInput struct {
	SrcBucket, SrcKey string
	SrcVersionID      string // "": the current version
	SrcConditions     Conditions
	Bucket, Key       string
	ReplaceMeta       bool // metadata directive REPLACE
	Meta              ObjectMeta
	SrcSSE            *sse.Spec // SSE-C key of the source, if any
	SSE               *sse.Spec // requested encryption of the copy; nil: bucket default
	ACL               string    // canned ACL of the copy
	ReplaceTags       bool      // tagging directive REPLACE (else the source's tags)
	Tags              []meta.Tag
	Extra             []string // extra checksums to compute (dialect needs)
	ChecksumAlgorithm string   // checksum to compute on the copy
	// IfNoneMatch "*" and IfMatch condition the write on the destination,
	// as for PutObject.
	IfNoneMatch, IfMatch string
	// Lock is the copy's object lock (a copy does not inherit the
	// source's).
	Lock *LockRequest
}

// CopyObject copies an object. An encrypted copy of an encrypted source
// keeps the source's sealed data where it can (see keepSealedData); else the
// data is streamed from the source, re-sealed as the copy's encryption says,
// into a new blob.
func (s *Service) CopyObject(ctx context.Context, p Principal, in CopyObjectInput) (*CopyOutput, error) {
	if err := validKey(in.Key); err != nil {
		return nil, err
	}
	src, hold, err := s.readableSource(ctx, p, in.SrcBucket, in.SrcKey, in.SrcVersionID)
	if err != nil {
		return nil, err
	}
	defer hold.release()
	o, err := s.copyObject(ctx, p, in, src)
	if err != nil {
		return nil, err
	}
	return &CopyOutput{Object: o, SrcVersionID: src.VersionID}, nil
}

// CopyOutput is the copy made and the source version it copied.
type CopyOutput struct {
	*meta.Object
	SrcVersionID string // "" when the source bucket never had versioning
}

// readableSource is readableHeld for a copy source, which may not name a
// delete marker.
func (s *Service) readableSource(ctx context.Context, p Principal, bucket, key, versionID string) (*meta.Object, *readHold, error) {
	src, hold, err := s.readableHeld(ctx, p, bucket, key, versionID)
	if errs.As(err) == errs.MethodNotAllowed {
		return nil, nil, errs.InvalidRequest.WithMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
	}
	return src, hold, err
}

func (s *Service) copyObject(ctx context.Context, p Principal, in CopyObjectInput, src *meta.Object) (*meta.Object, error) {
	tags := src.Tags
	if in.ReplaceTags {
		var err error
		if tags, err = NormalizeTags(in.Tags, MaxObjectTags); err != nil {
			return nil, err
		}
	}
	b, err := s.writableNew(ctx, p, in.Bucket, in.Key, in.SSE, tags, in.ACL)
	if err != nil {
		return nil, err
	}
	if err := checkCustomerKey(src.Encryption, in.SrcSSE); err != nil {
		return nil, err
	}
	lock, err := s.writeLock(ctx, p, b, in.Key, in.Lock, s.now())
	if err != nil {
		return nil, err
	}
	if err := in.SrcConditions.check(src, true); err != nil {
		return nil, err
	}
	if in.SrcBucket == in.Bucket && in.SrcKey == in.Key && in.SrcVersionID == "" && !in.ReplaceMeta && in.SSE == nil {
		return nil, errs.InvalidRequest.WithMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	cond, err := s.writeCondition(ctx, b, in.Key, in.IfMatch, in.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	om := ObjectMeta{Headers: src.Headers, UserMeta: src.UserMeta}
	if in.ReplaceMeta {
		om = in.Meta
	}
	if err := validUserMeta(om.UserMeta); err != nil {
		return nil, err
	}
	algs := in.Extra
	if in.ChecksumAlgorithm != "" {
		algs = append(algs, in.ChecksumAlgorithm)
	} else {
		for a := range src.Checksums {
			algs = append(algs, a) // keep the source's checksums
		}
	}
	if src.Size > MaxPutSize {
		return nil, errs.InvalidRequest.WithMessage("The specified copy source is larger than the maximum allowable size for a copy source: 5368709120")
	}
	if err := s.checkReadKey(ctx, p, src.Encryption); err != nil {
		return nil, err
	}
	srcSl, err := s.openSealing(ctx, src.Encryption, in.SrcBucket, in.SrcKey, in.SrcSSE)
	if err != nil {
		return nil, err
	}
	o := &meta.Object{
		Bucket: in.Bucket, Key: in.Key, Size: src.Size, ACL: in.ACL,
		LastModified: s.now().UTC(), Owner: p.User,
		Headers: om.Headers, UserMeta: om.UserMeta, Tags: tags, Lock: lock,
	}
	spec, err := s.writeSpec(b, in.SSE)
	if err != nil {
		return nil, err
	}
	if ok, err := s.keepSealedData(ctx, o, b.Name, spec, src, srcSl, algs); err != nil || ok {
		if err != nil {
			return nil, err
		}
		if err := s.installIn(ctx, b, o, cond); err != nil {
			return nil, err
		}
		reportVersion(b, o)
		return o, nil
	}
	dstSl, err := s.sealingFor(ctx, spec, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	rd := s.newObjectReader(ctx, src, srcSl, 0, src.Size)
	defer rd.Close()
	// The copy is a new single-part object, sealed under its own key.
	w, err := s.writeBlob(ctx, Body{Reader: rd, Size: src.Size, Extra: algs}, dstSl, 0)
	if err != nil {
		return nil, err
	}
	o.Size, o.ETag, o.Encryption = w.part.Size, w.etag, dstSl.encryption()
	o.Checksums, o.Parts = w.part.Checksums, []meta.Part{w.part}
	if err := s.installIn(ctx, b, o, cond); err != nil {
		return nil, err
	}
	reportVersion(b, o)
	return o, nil
}

// keepSealedData fills in o, a copy of the sealed object src to be
// encrypted as spec says, so that it keeps src's stored data: its blobs get
// second names (no byte is read or rewritten) and src's object key is
// wrapped again as spec says (SSE-S3, SSE-KMS under any key, or SSE-C under
// the destination's customer key). So a copy costs one key unwrap and one
// wrap whatever its size. It reports false, with o untouched, when the copy
// must re-seal the data instead: a plaintext source or destination, another
// data algorithm, a checksum the source lacks, a plaintext-MD5 ETag the
// source does not have (SSE-KMS or SSE-C to SSE-S3), or a blob store or KMS
// that cannot link or wrap.
func (s *Service) keepSealedData(ctx context.Context, o *meta.Object, bucket string, spec *sse.Spec, src *meta.Object, srcSl *sealing, algs []string) (bool, error) {
	linker, canLink := s.blobs.(blob.Linker)
	if !srcSl.encrypted() || !canLink || spec == nil || spec.Algorithm != src.Encryption.Algorithm {
		return false, nil
	}
	for _, a := range algs {
		if _, ok := src.Checksums[a]; !ok {
			return false, nil
		}
	}
	etag := src.ETag
	if spec.Mode != sse.Managed {
		etag = opaqueETag()
		if src.Multipart {
			etag += fmt.Sprintf("-%d", len(src.Parts))
		}
	} else if !srcSl.plaintextETag() {
		return false, nil
	}
	enc, err := s.sealer.WrapObjectKey(ctx, spec, bucket, o.Key, srcSl.oek)
	if errors.Is(err, sse.ErrCannotWrap) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	enc.SegmentSize = src.Encryption.SegmentSize // the data's framing
	parts := make([]meta.Part, 0, len(src.Parts))
	for _, p := range src.Parts {
		if p.BlobID != "" {
			id, err := linker.Link(ctx, p.BlobID)
			if err != nil {
				s.deleteBlobs(ctx, parts)
				if errors.Is(err, blob.ErrNotFound) {
					return false, errs.NoSuchKey // replaced or deleted meanwhile
				}
				return false, storageErr(err)
			}
			p.BlobID = id
		}
		parts = append(parts, p)
	}
	var sums map[string]string
	for _, a := range algs {
		if sums == nil {
			sums = map[string]string{}
		}
		sums[a] = src.Checksums[a]
	}
	o.ETag, o.Encryption, o.Checksums = etag, enc, sums
	o.Parts, o.Multipart = parts, src.Multipart
	return true, nil
}
