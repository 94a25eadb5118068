package httpapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func copyBuf() *[]byte     { return copyBufs.Get().(*[]byte) }
func putCopyBuf(b *[]byte) { copyBufs.Put(b) }

func (s *Server) createUpload(q *request) error {
	lock, err := checkWriteHeaders(q)
	if err != nil {
		return err
	}
	spec, err := s.requestSSE(q, dialect.Write)
	if err != nil {
		return err
	}
	in := service.CreateUploadInput{Bucket: q.bucket, Key: q.key, Meta: objectMeta(q), SSE: spec, Lock: lock}
	if in.ACL, _, err = q.d.CannedACL(q.r.Header, true); err != nil {
		return err
	}
	if in.Tags, err = taggingHeader(q); err != nil {
		return err
	}
	if a := q.header("checksum-algorithm"); a != "" {
		if in.ChecksumAlgorithm = checksum.Normalize(a); in.ChecksumAlgorithm == "" {
			return errs.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported.")
		}
	}
	u, err := s.svc.CreateMultipartUpload(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	if u.Checksum != "" {
		q.w.Header().Set(q.d.Prefix()+"checksum-algorithm", u.Checksum)
	}
	setSSEHeaders(q, u.Encryption, spec)
	return writeXML(q, initiateMultipartUploadResult{NS: s3NS, Bucket: q.bucket, Key: q.key, UploadID: u.ID})
}

var errPartNumber = errs.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")

func partNumber(q *request) (int, error) {
	n, err := strconv.Atoi(q.query.Get("partNumber"))
	if err != nil {
		return 0, errPartNumber
	}
	return n, nil
}

func (s *Server) uploadPart(q *request) error {
	spec, err := s.requestSSE(q, dialect.Part)
	if err != nil {
		return err
	}
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	body, err := requestBody(q)
	if err != nil {
		return err
	}
	p, err := s.svc.UploadPart(q.r.Context(), q.principal, service.UploadPartInput{
		Bucket: q.bucket, Key: q.key, UploadID: q.query.Get("uploadId"), PartNumber: n, Body: body, SSE: spec,
	})
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quote(p.ETag))
	q.d.SetUploadChecksums(q.w.Header(), p.Checksums)
	setSSEHeaders(q, p.Encryption, spec)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) uploadPartCopy(q *request) error {
	spec, err := s.requestSSE(q, dialect.Part)
	if err != nil {
		return err
	}
	srcSpec, err := s.copySourceSSE(q)
	if err != nil {
		return err
	}
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	srcBucket, srcKey, err := s.copySource(q)
	if err != nil {
		return err
	}
	srcVersion, err := copySourceVersion(q.header("copy-source"))
	if err != nil {
		return err
	}
	in := service.UploadPartCopyInput{
		Bucket: q.bucket, Key: q.key, UploadID: q.query.Get("uploadId"), PartNumber: n,
		SrcBucket: srcBucket, SrcKey: srcKey, SrcVersionID: srcVersion,
		SrcConditions: copySourceConditions(q),
		SSE:           spec, SrcSSE: srcSpec,
		Extra: q.d.UploadChecksums(),
	}
	if v := q.header("copy-source-range"); v != "" {
		r := parseRange(v)
		if r == nil || r.Start < 0 || r.End < 0 {
			return errs.InvalidArgument.WithMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		in.SrcRange = r
	}
	p, err := s.svc.UploadPartCopy(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	setSSEHeaders(q, p.Encryption, spec)
	setVersionHeader(q, "copy-source-version-id", p.SrcVersionID)
	return writeXML(q, copyPartResult{NS: s3NS, ETag: quote(p.ETag), LastModified: isoTime(p.LastModified), checksumFields: newChecksumFields(p.Checksums)})
}

func (s *Server) completeUpload(q *request) error {
	spec, err := s.requestSSE(q, dialect.Part)
	if err != nil {
		return err
	}
	if err := s.svc.PrecheckComplete(q.r.Context(), q.principal, q.bucket, q.key, q.query.Get("uploadId")); err != nil {
		return err
	}
	var req completeMultipartUpload
	if err := readXML(q, &req); err != nil {
		return err
	}
	in := service.CompleteUploadInput{
		Bucket: q.bucket, Key: q.key, UploadID: q.query.Get("uploadId"), SSE: spec,
		MinPartSize: dialect.MinPartSize(q.d, service.MinPartSize),
		IfMatch:     q.r.Header.Get("If-Match"), IfNoneMatch: dialect.IfNoneMatch(q.d, q.r.Header),
	}
	for _, p := range req.Parts {
		in.Parts = append(in.Parts, service.CompletePart{Number: p.PartNumber, ETag: p.ETag})
	}
	o, err := s.svc.CompleteMultipartUpload(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	setSSEHeaders(q, o.Encryption, spec)
	q.d.SetUploadChecksums(q.w.Header(), o.Checksums)
	setVersionHeader(q, "version-id", o.VersionID)
	loc := "/" + q.bucket + "/" + q.key
	if q.r.Host != "" {
		scheme := "http"
		if q.r.TLS != nil {
			scheme = "https"
		}
		loc = scheme + "://" + q.r.Host + loc
	}
	return writeXML(q, completeMultipartUploadResult{NS: s3NS, Location: loc, Bucket: q.bucket, Key: q.key, ETag: quote(o.ETag), checksumFields: newChecksumFields(o.Checksums)})
}

func (s *Server) abortUpload(q *request) error {
	if err := s.svc.AbortMultipartUpload(q.r.Context(), q.principal, q.bucket, q.key, q.query.Get("uploadId")); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(q *request) error {
	marker, err := intParam(q, "part-number-marker", 0)
	if err != nil {
		return err
	}
	max, err := intParam(q, "max-parts", service.MaxListKeys)
	if err != nil {
		return err
	}
	res, err := s.svc.ListParts(q.r.Context(), q.principal, q.bucket, q.key, q.query.Get("uploadId"), marker, max)
	if err != nil {
		return err
	}
	u := res.Upload
	out := listPartsResult{
		NS: s3NS, Bucket: q.bucket, Key: q.key, UploadID: u.ID,
		Initiator: owner{ID: u.Owner, DisplayName: u.Owner}, Owner: owner{ID: u.Owner, DisplayName: u.Owner},
		StorageClass: "STANDARD", PartNumberMarker: marker, NextPartNumberMarker: res.Next,
		MaxParts: max, IsTruncated: res.Truncated, ChecksumAlgorithm: u.Checksum,
	}
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, partEntry{PartNumber: p.Number, LastModified: isoTime(p.LastModified), ETag: quote(p.ETag), Size: p.Size, checksumFields: newChecksumFields(p.Checksums)})
	}
	return writeXML(q, out)
}

func (s *Server) listUploads(q *request) error {
	qs := q.query
	max, err := maxKeys(qs.Get("max-uploads"))
	if err != nil {
		return err
	}
	in := service.ListUploadsInput{
		Bucket: q.bucket, Prefix: qs.Get("prefix"), Delimiter: qs.Get("delimiter"),
		KeyMarker: qs.Get("key-marker"), UploadIDMarker: qs.Get("upload-id-marker"), MaxUploads: max,
	}
	res, err := s.svc.ListMultipartUploads(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	out := listMultipartUploadsResult{
		NS: s3NS, Bucket: q.bucket, KeyMarker: in.KeyMarker, UploadIDMarker: in.UploadIDMarker,
		Prefix: in.Prefix, Delimiter: in.Delimiter, MaxUploads: max, IsTruncated: res.Truncated,
	}
	if res.Truncated {
		out.NextKeyMarker, out.NextUploadIDMarker = res.NextKey, res.NextUploadID
	}
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadEntry{
			Key: u.Key, UploadID: u.ID, Initiator: owner{ID: u.Owner, DisplayName: u.Owner},
			Owner: owner{ID: u.Owner, DisplayName: u.Owner}, StorageClass: "STANDARD", Initiated: isoTime(u.Initiated),
		})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: p})
	}
	return writeXML(q, out)
}
