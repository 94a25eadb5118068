package httpapi

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// versionID reads the request's versionId parameter ("" when absent; an
// empty value is refused, as S3 does). The COS SDK's DeleteObject spells
// it VersionId.
func versionID(q *request) (string, error) {
	vs, ok := q.query["versionId"]
	if !ok {
		if vs, ok = q.query["VersionId"]; !ok {
			return "", nil
		}
	}
	if len(vs) == 0 || vs[0] == "" {
		return "", errs.InvalidArgument.WithMessage("Version id cannot be the empty string")
	}
	return vs[0], nil
}

// setVersionHeader reports a version ID under the dialect's prefix (none
// in a bucket that never had versioning).
func setVersionHeader(q *request, name, id string) {
	if id != "" {
		q.w.Header().Set(q.d.Prefix()+name, id)
	}
}

// markerHeaders adds the delete-marker headers to a read that met one.
func markerHeaders(q *request, err error) {
	var dm *service.DeleteMarkerError
	if !errors.As(err, &dm) {
		return
	}
	h := q.w.Header()
	h.Set(q.d.Prefix()+"delete-marker", "true")
	setVersionHeader(q, "version-id", dm.VersionID)
	if dm.Err == errs.MethodNotAllowed {
		h.Set("Last-Modified", dm.LastModified.UTC().Format(http.TimeFormat))
	}
}

func (s *Server) putBucketVersioning(q *request) error {
	if err := s.svc.Precheck(q.r.Context(), q.principal, service.ActPutBucketVersioning, q.bucket, ""); err != nil {
		return err
	}
	var doc struct {
		XMLName   xml.Name `xml:"VersioningConfiguration"`
		Status    string
		MfaDelete string
	}
	if err := readXML(q, &doc); err != nil {
		return err
	}
	if doc.MfaDelete == "Enabled" {
		return errs.NotImplemented.WithMessage("MFA Delete is not supported.")
	}
	if err := s.svc.PutBucketVersioning(q.r.Context(), q.principal, q.bucket, doc.Status); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketVersioning(q *request) error {
	status, err := s.svc.GetBucketVersioning(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	return writeXML(q, versioningConfiguration{NS: s3NS, Status: status})
}

func (s *Server) listObjectVersions(q *request) error {
	qs := q.query
	max, err := maxKeys(qs.Get("max-keys"))
	if err != nil {
		return err
	}
	enc := qs.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errs.InvalidArgument.WithMessage("Invalid Encoding Method specified in Request")
	}
	in := service.ListVersionsInput{
		Bucket: q.bucket, Prefix: qs.Get("prefix"), Delimiter: qs.Get("delimiter"), MaxKeys: max,
		KeyMarker: qs.Get("key-marker"), VersionIDMarker: qs.Get("version-id-marker"),
	}
	res, err := s.svc.ListObjectVersions(q.r.Context(), q.principal, in)
	if err != nil {
		return err
	}
	e := func(s string) string { return s }
	if enc == "url" {
		e = s3URLEncode
	}
	out := listVersionsResult{
		NS: s3NS, Name: q.bucket, Prefix: e(in.Prefix), KeyMarker: e(in.KeyMarker), VersionIDMarker: in.VersionIDMarker,
		MaxKeys: max, Delimiter: e(in.Delimiter), EncodingType: enc, IsTruncated: res.Truncated,
	}
	if res.Truncated {
		out.NextKeyMarker, out.NextVersionIDMarker = e(res.NextKeyMarker), res.NextVersionIDMarker
	}
	for _, v := range res.Versions {
		ownerName := v.Owner
		if ownerName == "" {
			ownerName = res.Owner
		}
		ent := versionEntry{
			Key: e(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest, LastModified: isoTime(v.LastModified),
			Owner: owner{ID: ownerName, DisplayName: ownerName},
		}
		if v.DeleteMarker {
			out.Entries = append(out.Entries, versionOrMarker{DeleteMarker: &ent})
			continue
		}
		ent.ETag, ent.Size, ent.StorageClass = quote(v.ETag), &v.Size, "STANDARD"
		for a := range v.Checksums {
			if a != "CRC64ECMA" {
				ent.ChecksumAlgorithm = append(ent.ChecksumAlgorithm, a)
			}
		}
		out.Entries = append(out.Entries, versionOrMarker{Version: &ent})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: e(p)})
	}
	return writeXML(q, out)
}

// copySourceVersion splits "?versionId=" off a copy source.
func copySourceVersion(v string) (string, error) {
	_, query, ok := strings.Cut(v, "?")
	if !ok {
		return "", nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return "", errs.InvalidArgument.WithMessage("Invalid copy source encoding")
	}
	id, ok := vals["versionId"]
	if !ok {
		return "", nil
	}
	if len(id) == 0 || id[0] == "" {
		return "", errs.InvalidArgument.WithMessage("Version id cannot be the empty string")
	}
	return id[0], nil
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:",omitempty"`
}

// listVersionsResult is ListVersionsResult. The vendors' SDKs read the
// same document (OSS, COS and OBS name its elements as S3 does).
type listVersionsResult struct {
	XMLName             xml.Name `xml:"ListVersionsResult"`
	NS                  string   `xml:"xmlns,attr"`
	Name                string
	Prefix              string
	KeyMarker           string
	VersionIDMarker     string `xml:"VersionIdMarker"`
	NextKeyMarker       string `xml:",omitempty"`
	NextVersionIDMarker string `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int
	Delimiter           string `xml:",omitempty"`
	EncodingType        string `xml:",omitempty"`
	IsTruncated         bool
	Entries             []versionOrMarker `xml:"Version"`
	CommonPrefixes      []commonPrefix
}

// versionOrMarker keeps versions and delete markers in one ordered list.
type versionOrMarker struct {
	Version      *versionEntry
	DeleteMarker *versionEntry
}

type versionEntry struct {
	Key               string
	VersionID         string `xml:"VersionId"`
	IsLatest          bool
	LastModified      string
	ETag              string   `xml:",omitempty"`
	Size              *int64   `xml:",omitempty"`
	StorageClass      string   `xml:",omitempty"`
	ChecksumAlgorithm []string `xml:",omitempty"`
	Owner             owner
}

// MarshalXML writes the entry as a Version or DeleteMarker element of the
// listing itself (no wrapper).
func (v versionOrMarker) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	if v.DeleteMarker != nil {
		return e.EncodeElement(v.DeleteMarker, xml.StartElement{Name: xml.Name{Local: "DeleteMarker"}})
	}
	return e.EncodeElement(v.Version, xml.StartElement{Name: xml.Name{Local: "Version"}})
}
