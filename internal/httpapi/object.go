package httpapi

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// objectMeta reads the system and user metadata a writer sets.
func objectMeta(q *request) service.ObjectMeta {
	h := q.r.Header
	m := service.ObjectMeta{Headers: meta.Headers{
		ContentType:        h.Get("Content-Type"),
		ContentEncoding:    stripAWSChunked(h.Get("Content-Encoding")),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}}
	// Least preferred prefix first, so the preferred one wins a duplicate.
	prefixes := dialect.Prefixes(q.d)
	for i := len(prefixes) - 1; i >= 0; i-- {
		prefix := prefixes[i] + "meta-"
		for k, vs := range h {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, prefix) {
				if m.UserMeta == nil {
					m.UserMeta = make(map[string]string)
				}
				m.UserMeta[lk[len(prefix):]] = strings.Join(vs, ",")
			}
		}
	}
	return m
}

// stripAWSChunked removes the transfer framing from a Content-Encoding.
func stripAWSChunked(v string) string {
	if v == "" {
		return ""
	}
	var keep []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}

// requestBody assembles the payload and its integrity expectations.
func requestBody(q *request) (service.Body, error) {
	if q.auth.ContentLength < 0 {
		return service.Body{}, errs.MissingContentLength
	}
	return uploadBody(q, q.auth.Body, q.auth.ContentLength)
}

// uploadBody is a payload of size bytes (-1: unknown) read from r, with
// the integrity expectations of q's headers.
func uploadBody(q *request, r io.Reader, size int64) (service.Body, error) {
	b := service.Body{Reader: r, Size: size, Extra: q.d.UploadChecksums()}
	if v := q.r.Header.Get("Content-MD5"); v != "" {
		sum, err := service.DecodeContentMD5(v)
		if err != nil {
			return b, err
		}
		b.ContentMD5 = sum
	}
	ck, err := checksumInput(q)
	if err != nil {
		return b, err
	}
	b.Checksum = ck
	return b, nil
}

// checksumInput finds the flexible checksum sent as a header or announced
// as an aws-chunked trailer.
func checksumInput(q *request) (service.ChecksumInput, error) {
	// aws-chunked announces its trailer as x-amz-trailer whatever the
	// dialect (the body decoder reads that header), so checking the
	// dialect's own prefix would let a trailer go unchecked.
	if t := q.r.Header.Get("x-amz-trailer"); t != "" {
		name := strings.ToLower(strings.TrimSpace(t))
		alg := checksum.Normalize(strings.TrimPrefix(name, "x-amz-checksum-"))
		if alg == "" || !strings.HasPrefix(name, "x-amz-checksum-") {
			return service.ChecksumInput{}, errs.InvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
		}
		tr := q.auth.Trailer
		return service.ChecksumInput{Algorithm: alg, Trailer: func() string { return tr.Get(name) }}, nil
	}
	p := q.d.Prefix()
	var found service.ChecksumInput
	for _, alg := range checksum.Flexible {
		v := q.r.Header.Get(p + "checksum-" + strings.ToLower(alg))
		if v == "" {
			continue
		}
		if found.Algorithm != "" {
			return found, errs.InvalidRequest.WithMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		found = service.ChecksumInput{Algorithm: alg, Value: v}
	}
	if found.Algorithm == "" {
		if a := q.r.Header.Get(p + "sdk-checksum-algorithm"); a != "" && checksum.Normalize(a) == "" {
			return found, errs.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported.")
		}
	}
	return found, nil
}

func (s *Server) putObject(q *request) error {
	lock, err := checkWriteHeaders(q)
	if err != nil {
		return err
	}
	spec, err := s.requestSSE(q, dialect.Write)
	if err != nil {
		return err
	}
	body, err := requestBody(q)
	if err != nil {
		return err
	}
	if lock != nil && !vendorLock(q) && len(body.ContentMD5) == 0 && body.Checksum.Algorithm == "" {
		return errLockNeedsIntegrity
	}
	acl, _, err := q.d.CannedACL(q.r.Header, true)
	if err != nil {
		return err
	}
	tags, err := taggingHeader(q)
	if err != nil {
		return err
	}
	ctx := service.WithBucketMemo(q.r.Context()) // ObjectExpiration reuses the bucket PutObject read
	o, err := s.svc.PutObject(ctx, q.principal, service.PutObjectInput{
		ACL: acl, Tags: tags, Lock: lock,
		Bucket: q.bucket, Key: q.key, Meta: objectMeta(q), Body: body,
		IfMatch: q.r.Header.Get("If-Match"), IfNoneMatch: dialect.IfNoneMatch(q.d, q.r.Header),
		SSE: spec,
	})
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("ETag", quote(o.ETag))
	q.d.SetUploadChecksums(h, o.Checksums)
	setSSEHeaders(q, o.Encryption, spec)
	setVersionHeader(q, "version-id", o.VersionID)
	setExpiration(q, s.svc.ObjectExpiration(ctx, o))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// setChecksumHeaders returns stored flexible checksums on a full GET/HEAD.
func setChecksumHeaders(q *request, sums map[string]string) {
	s3.SetFlexibleChecksums(q.w.Header(), q.d.Prefix(), sums)
}

// parseRange parses a single-range "bytes=" header. Syntactically invalid
// or multi-range values are ignored (the whole object is returned), as S3
// does.
func parseRange(v string) *service.Range {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		if n == 0 {
			// A suffix of no bytes is satisfiable by no object (416, as
			// S3); a start past every object size says so.
			return &service.Range{Start: math.MaxInt64, End: -1}
		}
		return &service.Range{Start: -n, End: -1}
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return nil
	}
	if b == "" {
		return &service.Range{Start: start, End: -1}
	}
	end, err := strconv.ParseInt(b, 10, 64)
	if err != nil || end < start {
		return nil
	}
	return &service.Range{Start: start, End: end}
}

// httpTime parses an HTTP date header; invalid dates are ignored.
func httpTime(v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return nil
	}
	return &t
}

func conditions(h http.Header, prefix string) service.Conditions {
	return service.Conditions{
		IfMatch:           h.Get(prefix + "If-Match"),
		IfNoneMatch:       h.Get(prefix + "If-None-Match"),
		IfModifiedSince:   httpTime(h.Get(prefix + "If-Modified-Since")),
		IfUnmodifiedSince: httpTime(h.Get(prefix + "If-Unmodified-Since")),
	}
}

// copySourceConditions reads the copy-source-if-* headers in the dialect.
func copySourceConditions(q *request) service.Conditions {
	return service.Conditions{
		IfMatch:           q.header("copy-source-if-match"),
		IfNoneMatch:       q.header("copy-source-if-none-match"),
		IfModifiedSince:   httpTime(q.header("copy-source-if-modified-since")),
		IfUnmodifiedSince: httpTime(q.header("copy-source-if-unmodified-since")),
	}
}

func (s *Server) getObjectInput(q *request) (service.GetObjectInput, error) {
	in := service.GetObjectInput{Bucket: q.bucket, Key: q.key, Conditions: conditions(q.r.Header, "")}
	if v := q.r.Header.Get("Range"); v != "" {
		in.Range = parseRange(v)
	}
	vid, err := versionID(q)
	if err != nil {
		return in, err
	}
	in.VersionID = vid
	if _, ok := q.query["partNumber"]; ok {
		n, err := partNumber(q)
		if err != nil {
			return in, err
		}
		if n < 1 || n > service.MaxPartNumber {
			return in, errPartNumber
		}
		if q.r.Header.Get("Range") != "" {
			return in, errs.InvalidRequest.WithMessage("Cannot specify both Range header and partNumber query parameter")
		}
		in.PartNumber = n
	}
	spec, err := s.requestSSE(q, dialect.Read)
	in.SSE = spec
	return in, err
}

// setObjectHeaders writes the metadata headers of GET and HEAD.
func setObjectHeaders(q *request, o *meta.Object) {
	h := q.w.Header()
	h.Set("ETag", quote(o.ETag))
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	setVersionHeader(q, "version-id", o.VersionID)
	ct := o.Headers.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for name, v := range map[string]string{
		"Content-Encoding":    o.Headers.ContentEncoding,
		"Content-Disposition": o.Headers.ContentDisposition,
		"Content-Language":    o.Headers.ContentLanguage,
		"Cache-Control":       o.Headers.CacheControl,
		"Expires":             o.Headers.Expires,
	} {
		if v != "" {
			h.Set(name, v)
		}
	}
	for k, v := range o.UserMeta {
		h[q.d.Prefix()+"meta-"+k] = []string{v}
	}
	setTaggingCount(q, o)
	setLockHeaders(q, o.Lock)
	setReplicationStatus(q, o)
	// response-* overrides, honoured for signed requests only (as S3).
	if !q.principal.Anonymous() {
		for param, name := range map[string]string{
			"response-content-type":        "Content-Type",
			"response-content-language":    "Content-Language",
			"response-expires":             "Expires",
			"response-cache-control":       "Cache-Control",
			"response-content-disposition": "Content-Disposition",
			"response-content-encoding":    "Content-Encoding",
		} {
			if v := q.query.Get(param); v != "" {
				h.Set(name, v)
			}
		}
	}
}

// setValidators writes the headers a 304/412 response still carries.
func setValidators(q *request, o *meta.Object) {
	if o != nil {
		q.w.Header().Set("ETag", quote(o.ETag))
		q.w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	}
}

func (s *Server) headObject(q *request) error {
	in, err := s.getObjectInput(q)
	if err != nil {
		return err
	}
	o, expiry, err := s.svc.HeadObject(q.r.Context(), q.principal, in)
	if errors.Is(err, errs.NoSuchKey) {
		// Back-to-source: a rule may pull the missing object.
		if out, handled, perr := s.pullMiss(q, in, true); handled {
			if perr != nil || out == nil {
				return perr
			}
			o, err = out.Object, nil
		}
	}
	if err != nil {
		setValidators(q, o)
		markerHeaders(q, err)
		return err
	}
	setObjectHeaders(q, o)
	setSSEHeaders(q, o.Encryption, in.SSE)
	h := q.w.Header()
	if o.ETag == "" {
		h.Del("ETag") // an object proxied from its origin has none
	}
	if in.PartNumber > 0 && o.Size > 0 {
		// HEAD of a part reports the part's bytes, as GET returns them.
		off, n, err := service.PartRange(o, in.PartNumber)
		if err != nil {
			return err
		}
		setPartsCount(q, in, o)
		return writeHeadRange(q, o, off, n)
	}
	if in.PartNumber > 1 {
		return errs.InvalidPartNumber
	}
	if in.Range != nil {
		// HEAD with a Range reports the range it would return.
		off, n, err := in.Range.Resolve(o.Size)
		if err != nil {
			return err
		}
		return writeHeadRange(q, o, off, n)
	}
	if checksumMode(q) {
		setChecksumHeaders(q, o.Checksums)
	}
	q.d.SetObjectHeaders(h, o, true)
	setExpiration(q, expiry)
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// setPartsCount reports a multipart object's part count on a read of one
// of its parts, where the dialect does (S3: x-amz-mp-parts-count).
func setPartsCount(q *request, in service.GetObjectInput, o *meta.Object) {
	if pc, ok := q.d.(dialect.PartsCounter); ok && in.PartNumber > 0 && o.Multipart {
		pc.SetPartsCount(q.w.Header(), len(o.Parts))
	}
}

// writeHeadRange answers a HEAD for part of an object.
func writeHeadRange(q *request, o *meta.Object, off, n int64) error {
	h := q.w.Header()
	q.d.SetObjectHeaders(h, o, false)
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	q.w.WriteHeader(http.StatusPartialContent)
	return nil
}

func checksumMode(q *request) bool {
	return strings.EqualFold(q.header("checksum-mode"), "ENABLED")
}

func (s *Server) getObject(q *request) error {
	in, err := s.getObjectInput(q)
	if err != nil {
		return err
	}
	ob, err := s.svc.GetObject(q.r.Context(), q.principal, in)
	if errors.Is(err, errs.NoSuchKey) {
		// Back-to-source: a rule may pull the missing object.
		if out, handled, perr := s.pullMiss(q, in, false); handled {
			if perr != nil || out == nil {
				return perr
			}
			ob, err = out.Body, nil
		}
	}
	if err != nil {
		if ob != nil {
			setValidators(q, ob.Object)
		}
		markerHeaders(q, err)
		return err
	}
	defer ob.Body.Close()
	o := ob.Object
	setObjectHeaders(q, o)
	setSSEHeaders(q, o.Encryption, in.SSE)
	h := q.w.Header()
	if o.ETag == "" {
		h.Del("ETag") // an object streamed from its origin has none yet
	}
	h.Set("Content-Length", strconv.FormatInt(ob.Length, 10))
	status := http.StatusOK
	if ob.Ranged {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", ob.Offset, ob.Offset+ob.Length-1, o.Size))
		status = http.StatusPartialContent
	} else if checksumMode(q) {
		setChecksumHeaders(q, o.Checksums)
	}
	q.d.SetObjectHeaders(h, o, !ob.Ranged)
	setPartsCount(q, in, o)
	setExpiration(q, ob.Expiration)
	// Read (and so authenticate) the first chunk before committing to a
	// status: a blob that fails from its start is an error response, not a
	// 2xx with an empty body.
	bufp := copyBuf()
	defer putCopyBuf(bufp)
	buf := (*bufp)[:min(int64(len(*bufp)), ob.Length)]
	n, err := io.ReadFull(ob.Body, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		for k := range h {
			delete(h, k)
		}
		q.d.SetRequestID(h, q.id)
		return fmt.Errorf("reading object %s/%s: %w", q.bucket, q.key, err)
	}
	q.w.WriteHeader(status)
	q.w.Write(buf[:n])
	// The rest goes through the body's WriteTo, which overlaps reading
	// (and decryption) with the socket.
	if _, err := io.Copy(q.w, ob.Body); err != nil {
		// Headers are gone: the client sees a short body. Log the cause;
		// an authentication failure here means stored data was altered.
		s.logFailure(q, "object read failed", err)
	}
	return nil
}

func (s *Server) deleteObject(q *request) error {
	vid, err := versionID(q)
	if err != nil {
		return err
	}
	out, err := s.svc.DeleteObjectVersion(q.r.Context(), q.principal, q.bucket, q.key, vid, bypassGovernance(q))
	if err != nil {
		return err
	}
	setVersionHeader(q, "version-id", out.VersionID)
	if out.DeleteMarker {
		q.w.Header().Set(q.d.Prefix()+"delete-marker", "true")
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) copyObject(q *request) error {
	lock, err := checkWriteHeaders(q)
	if err != nil {
		return err
	}
	srcBucket, srcKey, err := s.copySource(q)
	if err != nil {
		return err
	}
	spec, err := s.requestSSE(q, dialect.Write)
	if err != nil {
		return err
	}
	srcSpec, err := s.copySourceSSE(q)
	if err != nil {
		return err
	}
	srcVersion, err := copySourceVersion(q.header("copy-source"))
	if err != nil {
		return err
	}
	in := service.CopyObjectInput{
		SrcBucket: srcBucket, SrcKey: srcKey, SrcVersionID: srcVersion,
		SrcConditions: copySourceConditions(q),
		Bucket:        q.bucket, Key: q.key,
		SSE: spec, SrcSSE: srcSpec, Extra: q.d.UploadChecksums(),
		IfMatch: q.r.Header.Get("If-Match"), IfNoneMatch: dialect.IfNoneMatch(q.d, q.r.Header),
		Lock: lock,
	}
	if in.ACL, _, err = q.d.CannedACL(q.r.Header, true); err != nil {
		return err
	}
	if in.ReplaceTags, in.Tags, err = copyTags(q); err != nil {
		return err
	}
	switch d := q.header("metadata-directive"); d {
	case "", "COPY":
	case "REPLACE":
		in.ReplaceMeta = true
		in.Meta = objectMeta(q)
	default:
		return errs.InvalidArgument.WithMessage("Unknown metadata directive.")
	}
	if a := q.header("checksum-algorithm"); a != "" {
		if in.ChecksumAlgorithm = checksum.Normalize(a); in.ChecksumAlgorithm == "" {
			return errs.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported.")
		}
	}
	o, err := s.svc.CopyObject(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	setSSEHeaders(q, o.Encryption, spec)
	setVersionHeader(q, "version-id", o.VersionID)
	setVersionHeader(q, "copy-source-version-id", o.SrcVersionID)
	return writeXML(q, copyObjectResult{NS: s3NS, ETag: quote(o.ETag), LastModified: isoTime(o.LastModified), checksumFields: newChecksumFields(o.Checksums)})
}
