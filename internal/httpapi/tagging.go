package httpapi

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// tagging is the Tagging document of ?tagging (objects and buckets; every
// dialect uses S3's shape).
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	TagSet  *tagSet  `xml:"TagSet"`
}

type tagSet struct {
	Tags []tagEntry `xml:"Tag"`
}

type tagEntry struct {
	Key   string
	Value string
}

func newTagging(tags []meta.Tag) tagging {
	doc := tagging{NS: s3NS, TagSet: &tagSet{Tags: []tagEntry{}}}
	for _, t := range tags {
		doc.TagSet.Tags = append(doc.TagSet.Tags, tagEntry(t))
	}
	return doc
}

// readTagging reads a PutObjectTagging / PutBucketTagging document.
func (s *Server) readTagging(q *request, action string) ([]meta.Tag, error) {
	data, err := s.readConfig(q, action)
	if err != nil {
		return nil, err
	}
	return parseTagging(data)
}

// parseTagging reads a Tagging document (validation is the service's).
func parseTagging(data []byte) ([]meta.Tag, error) {
	var doc tagging
	if err := xml.Unmarshal(data, &doc); err != nil || doc.TagSet == nil {
		return nil, errs.MalformedXML
	}
	tags := make([]meta.Tag, len(doc.TagSet.Tags))
	for i, t := range doc.TagSet.Tags {
		tags[i] = meta.Tag(t)
	}
	return tags, nil
}

var errTaggingHeader = errs.InvalidArgument.WithMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")

// taggingHeader parses the x-amz-tagging header (in the dialect's prefix):
// URL query parameters, "k1=v1&k2=v2"; a key without '=' has the empty
// value. nil when absent.
// A presigned URL may carry it as a (signed) query parameter instead: SDK
// presigners hoist x-amz-* headers there, and S3 applies them.
func taggingHeader(q *request) ([]meta.Tag, error) {
	v := q.header("tagging")
	if v == "" {
		for k, vs := range q.query {
			if strings.EqualFold(k, q.d.Prefix()+"tagging") && len(vs) > 0 {
				v = vs[0]
			}
		}
	}
	if v == "" {
		return nil, nil
	}
	return parseTagQuery(v)
}

func parseTagQuery(v string) ([]meta.Tag, error) {
	var tags []meta.Tag
	seen := map[string]bool{}
	for _, pair := range strings.Split(v, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		if strings.Contains(val, "=") {
			return nil, errTaggingHeader
		}
		var err1, err2 error
		k, err1 = url.QueryUnescape(k)
		val, err2 = url.QueryUnescape(val)
		if err1 != nil || err2 != nil || seen[k] {
			return nil, errTaggingHeader
		}
		seen[k] = true
		tags = append(tags, meta.Tag{Key: k, Value: val})
	}
	return tags, nil
}

// bucketTags are the tags a CreateBucket sets: its configuration's Tags,
// or the tagging header (COS's x-cos-tagging). nil: none.
// They are validated before the bucket is created.
func bucketTags(q *request, doc *tagSet) ([]meta.Tag, error) {
	var tags []meta.Tag
	if doc != nil && len(doc.Tags) > 0 {
		for _, t := range doc.Tags {
			tags = append(tags, meta.Tag(t))
		}
	} else {
		var err error
		if tags, err = taggingHeader(q); err != nil {
			return nil, err
		}
	}
	return service.NormalizeTags(tags, service.MaxBucketTags)
}

// setTaggingCount reports an object's tag count on GET and HEAD.
func setTaggingCount(q *request, o *meta.Object) {
	if n := len(o.Tags); n > 0 {
		q.w.Header().Set(q.d.Prefix()+"tagging-count", strconv.Itoa(n))
	}
}

// copyTags reads the copy's tagging directive: COPY (the default) keeps
// the source's tags, REPLACE takes the request's.
func copyTags(q *request) (replace bool, tags []meta.Tag, err error) {
	// OSS spells the values Copy / Replace.
	switch strings.ToUpper(q.header("tagging-directive")) {
	case "", "COPY":
		return false, nil, nil
	case "REPLACE":
		tags, err = taggingHeader(q)
		return true, tags, err
	}
	return false, nil, errs.InvalidArgument.WithMessage("Unknown tagging directive.")
}

func (s *Server) putObjectTagging(q *request) error {
	vid, err := versionID(q)
	if err != nil {
		return err
	}
	tags, err := s.readTagging(q, "")
	if err != nil {
		return err
	}
	setVersionHeader(q, "version-id", vid)
	return emptyResponse(q, http.StatusOK, s.svc.PutObjectTagging(q.r.Context(), q.principal, q.bucket, q.key, vid, tags))
}

func (s *Server) getObjectTagging(q *request) error {
	vid, err := versionID(q)
	if err != nil {
		return err
	}
	tags, err := s.svc.GetObjectTagging(q.r.Context(), q.principal, q.bucket, q.key, vid)
	if err != nil {
		return err
	}
	setVersionHeader(q, "version-id", vid)
	return writeXML(q, newTagging(tags))
}

func (s *Server) deleteObjectTagging(q *request) error {
	vid, err := versionID(q)
	if err != nil {
		return err
	}
	setVersionHeader(q, "version-id", vid)
	return emptyResponse(q, http.StatusNoContent, s.svc.DeleteObjectTagging(q.r.Context(), q.principal, q.bucket, q.key, vid))
}

func (s *Server) putBucketTagging(q *request) error {
	tags, err := s.readTagging(q, service.ActPutBucketTagging)
	if err != nil {
		return err
	}
	// S3's API reference says 200 (its sample 204); the OSS SDKs want 200.
	return emptyResponse(q, http.StatusOK, s.svc.PutBucketTagging(q.r.Context(), q.principal, q.bucket, tags))
}

func (s *Server) getBucketTagging(q *request) error {
	tags, err := s.svc.GetBucketTagging(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, newTagging(tags))
}

func (s *Server) deleteBucketTagging(q *request) error {
	return emptyResponse(q, http.StatusNoContent, s.svc.DeleteBucketTagging(q.r.Context(), q.principal, q.bucket))
}

// emptyResponse answers a successful call with status and no body, or
// returns err.
func emptyResponse(q *request, status int, err error) error {
	if err != nil {
		return err
	}
	q.w.WriteHeader(status)
	return nil
}
