package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func (s *Server) listBuckets(q *request) error {
	bs, err := s.svc.ListBuckets(q.r.Context(), q.principal)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{NS: s3NS, Owner: owner{ID: q.principal.User, DisplayName: q.principal.User}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketEntry{Name: b.Name, CreationDate: isoTime(b.Created), BucketRegion: b.Region})
	}
	return writeXML(q, res)
}

func (s *Server) createBucket(q *request) error {
	if err := s.svc.Precheck(q.r.Context(), q.principal, service.ActCreateBucket, q.bucket, ""); err != nil {
		return err
	}
	lock := strings.EqualFold(q.header("bucket-object-lock-enabled"), "true")
	if lock && q.d.Name() != "s3" {
		return errObjectLock
	}
	var cfg createBucketConfiguration
	if q.r.ContentLength != 0 {
		// A chunked body may be empty (the OSS v2 SDK's PutBucket).
		data, err := readBody(q, maxXMLBody, errXMLTooLarge)
		if err != nil {
			return err
		}
		if len(data) > 0 {
			if err := decodeXML(data, &cfg); err != nil {
				return err
			}
		}
	}
	if loc := cfg.LocationConstraint; loc != "" && q.d.Name() == "s3" && !s.svc.KnownRegion(loc) {
		// Vendors name their regions their own way (the service takes
		// any well-formed name); S3 knows its regions.
		return errs.InvalidLocationConstraint
	}
	def, err := q.d.BucketSSE(q.r.Header)
	if err != nil {
		return err
	}
	acl, _, err := q.d.CannedACL(q.r.Header, false)
	if err != nil {
		return err
	}
	tags, err := bucketTags(q, cfg.Tags)
	if err != nil {
		return err
	}
	if _, err := s.svc.CreateBucketWith(q.r.Context(), q.principal, q.bucket, service.BucketSettings{
		Region: cfg.LocationConstraint, ACL: acl, ObjectLock: lock, Tags: tags, Encryption: def,
	}); err != nil {
		return err
	}
	if e, ok := q.d.(dialect.BucketSSEResponse); ok && def != nil {
		e.SetBucketSSE(q.w.Header(), def)
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) headBucket(q *request) error {
	b, err := s.svc.HeadBucket(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	q.w.Header().Set(q.d.Prefix()+"bucket-region", b.Region)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(q *request) error {
	if err := s.svc.DeleteBucket(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getBucketLocation(q *request) error {
	b, err := s.svc.Bucket(q.r.Context(), q.principal, service.ActGetBucketLocation, q.bucket)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = "" // S3 reports the classic region as an empty constraint
	}
	return writeXML(q, locationConstraint{NS: s3NS, Value: loc})
}

// maxKeys parses a max-keys style parameter (default 1000).
func maxKeys(v string) (int, error) {
	if v == "" {
		return service.MaxListKeys, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.InvalidArgument.WithMessage("Provided max-keys not an integer or within integer range")
	}
	return n, nil
}

func (s *Server) listObjectsV1(q *request) error {
	return s.listObjects(q, false)
}

func (s *Server) listObjectsV2(q *request) error {
	return s.listObjects(q, true)
}

func (s *Server) listObjects(q *request, v2 bool) error {
	qs := q.query
	max, err := maxKeys(qs.Get("max-keys"))
	if err != nil {
		return err
	}
	enc := qs.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errs.InvalidArgument.WithMessage("Invalid Encoding Method specified in Request")
	}
	in := service.ListInput{Bucket: q.bucket, Prefix: qs.Get("prefix"), Delimiter: qs.Get("delimiter"), MaxKeys: max}
	token := qs.Get("continuation-token")
	if v2 {
		in.After = qs.Get("start-after")
		if _, ok := qs["continuation-token"]; ok {
			after, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || token == "" {
				return errs.InvalidArgument.WithMessage("The continuation token provided is incorrect")
			}
			in.After = string(after)
		}
	} else {
		in.After = qs.Get("marker")
	}
	res, err := s.svc.ListObjects(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	e := func(s string) string { return s }
	if enc == "url" {
		e = s3URLEncode
	}
	out := listBucketResult{
		NS: s3NS, Name: q.bucket, Prefix: e(in.Prefix), MaxKeys: max,
		Delimiter: e(in.Delimiter), EncodingType: enc, IsTruncated: res.Truncated,
	}
	fetchOwner := !v2 || qs.Get("fetch-owner") == "true"
	for _, o := range res.Objects {
		ent := objectEntry{Key: e(o.Key), LastModified: isoTime(o.LastModified), ETag: quote(o.ETag), Size: o.Size, StorageClass: "STANDARD"}
		for a := range o.Checksums {
			if a != "CRC64ECMA" {
				ent.ChecksumAlgorithm = append(ent.ChecksumAlgorithm, a)
			}
		}
		if fetchOwner {
			ent.Owner = &owner{ID: o.Owner, DisplayName: o.Owner}
		}
		out.Contents = append(out.Contents, ent)
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: e(p)})
	}
	if v2 {
		n := len(res.Objects) + len(res.CommonPrefixes)
		out.KeyCount = &n
		out.StartAfter = e(qs.Get("start-after"))
		out.ContinuationToken = token
		if res.Truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
		}
	} else {
		marker := e(in.After)
		out.Marker = &marker
		if res.Truncated && in.Delimiter != "" {
			out.NextMarker = e(res.Next)
		}
	}
	return writeXML(q, out)
}

func (s *Server) deleteObjects(q *request) error {
	if err := s.svc.Precheck(q.r.Context(), q.principal, service.ActDeleteObject, q.bucket, ""); err != nil {
		return err
	}
	// S3 takes a multi-object delete only with a Content-MD5 or a
	// flexible checksum; every SDK sends one.
	data, err := readCheckedBody(q, false)
	if err != nil {
		return err
	}
	var req deleteRequest
	if err := decodeXML(data, &req); err != nil {
		return err
	}
	objs := make([]service.ObjectVersion, len(req.Objects))
	for i, o := range req.Objects {
		objs[i] = service.ObjectVersion{Key: o.Key, VersionID: o.VersionID}
	}
	results, err := s.svc.DeleteObjects(q.r.Context(), q.principal, q.bucket, objs, bypassGovernance(q))
	if err != nil {
		return err
	}
	out := deleteResult{NS: s3NS}
	for _, r := range results {
		if r.Err == nil {
			if !req.Quiet {
				d := deletedEntry{Key: r.Key, VersionID: r.ObjectVersion.VersionID, DeleteMarker: r.DeleteMarker}
				if r.DeleteMarker && r.ObjectVersion.VersionID == "" {
					d.DeleteMarkerVersionID = r.DeleteOutput.VersionID
				} else if r.DeleteMarker {
					d.DeleteMarkerVersionID = r.ObjectVersion.VersionID
				}
				out.Deleted = append(out.Deleted, d)
			}
			continue
		}
		e := errs.As(r.Err)
		if e == nil {
			s.log.Error("delete failed", "id", q.id, "err", r.Err)
			e = errs.InternalError
		}
		out.Errors = append(out.Errors, deleteErrorEntry{Key: r.Key, VersionID: r.ObjectVersion.VersionID, Code: e.Code, Message: e.Message})
	}
	return writeXML(q, out)
}

// copySource parses the request's copy source. A bucket named by its
// virtual host ("bucket.domain[:port]/key", the COS SDK's form) is resolved
// with the configured domains.
func (s *Server) copySource(q *request) (bucket, key string, err error) {
	bucket, key, err = unescapeCopySource(q.header("copy-source"))
	if err == nil && strings.Contains(bucket, ".") {
		if b, _ := s.vhostBucket(bucket); b != "" {
			bucket = b
		}
	}
	return bucket, key, err
}

// unescapeCopySource parses x-amz-copy-source: "[/]bucket/key[?versionId=]".
func unescapeCopySource(v string) (bucket, key string, err error) {
	v, _, _ = strings.Cut(v, "?")
	dec, uerr := url.PathUnescape(v)
	if uerr != nil {
		return "", "", errs.InvalidArgument.WithMessage("Invalid copy source encoding")
	}
	if len(dec) > 0 && dec[0] == '/' {
		dec = dec[1:]
	}
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", errs.InvalidArgument.WithMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}
