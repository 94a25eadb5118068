package httpapi

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

type objectAttributes struct {
	XMLName      xml.Name `xml:"GetObjectAttributesResponse"`
	NS           string   `xml:"xmlns,attr"`
	ETag         string   `xml:",omitempty"`
	Checksum     *attrChecksum
	ObjectParts  *attrParts
	StorageClass string `xml:",omitempty"`
	ObjectSize   *int64 `xml:",omitempty"`
}

type attrChecksum struct {
	checksumFields
	ChecksumType string
}

type attrParts struct {
	TotalPartsCount      int `xml:"PartsCount"` // S3's member name, its wire name
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []attrPart `xml:"Part"`
}

type attrPart struct {
	checksumFields
	PartNumber int
	Size       int64
}

// objectAttributeNames are the values x-amz-object-attributes takes.
var objectAttributeNames = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

// intHeader parses an optional non-negative integer header.
func intHeader(q *request, name string, def int) (int, error) {
	v := q.header(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.InvalidArgument.WithMessage("Invalid " + q.d.Prefix() + name + " header value: " + v)
	}
	return n, nil
}

func (s *Server) getObjectAttributes(q *request) error {
	want := map[string]bool{}
	for _, v := range q.r.Header.Values(q.d.Prefix() + "object-attributes") {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				if !objectAttributeNames[a] {
					return errs.InvalidArgument.WithMessage("Invalid attribute name specified.")
				}
				want[a] = true
			}
		}
	}
	if len(want) == 0 {
		return errs.InvalidArgument.WithMessage("Minimum of one attribute must be specified.")
	}
	maxParts, err := intHeader(q, "max-parts", service.MaxListKeys)
	if err != nil {
		return err
	}
	marker, err := intHeader(q, "part-number-marker", 0)
	if err != nil {
		return err
	}
	spec, err := s.requestSSE(q, dialect.Read)
	if err != nil {
		return err
	}
	vid, err := versionID(q)
	if err != nil {
		return err
	}
	o, err := s.svc.GetObjectAttributes(q.r.Context(), q.principal, service.GetObjectInput{Bucket: q.bucket, Key: q.key, VersionID: vid, SSE: spec})
	if err != nil {
		return err
	}
	q.w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	setVersionHeader(q, "version-id", o.VersionID)
	doc := objectAttributes{NS: s3NS}
	if want["ETag"] {
		doc.ETag = o.ETag
	}
	if want["StorageClass"] {
		doc.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		doc.ObjectSize = &o.Size
	}
	if want["Checksum"] {
		doc.Checksum = objectChecksum(o)
	}
	if want["ObjectParts"] && o.Multipart {
		doc.ObjectParts = objectParts(o, marker, maxParts)
	}
	return writeXML(q, doc)
}

// objectChecksum is the object's flexible checksum, if it has one.
func objectChecksum(o *meta.Object) *attrChecksum {
	f := newChecksumFields(o.Checksums)
	if f == (checksumFields{}) {
		return nil
	}
	typ := "FULL_OBJECT"
	for a, v := range o.Checksums {
		if a != checksum.CRC64ECMA && strings.Contains(v, "-") {
			typ = "COMPOSITE"
		}
	}
	return &attrChecksum{checksumFields: f, ChecksumType: typ}
}

// objectParts lists a multipart object's parts after marker, max at most.
func objectParts(o *meta.Object, marker, max int) *attrParts {
	out := &attrParts{TotalPartsCount: len(o.Parts), PartNumberMarker: marker, MaxParts: max}
	for _, p := range o.Parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == max {
			out.IsTruncated = true
			break
		}
		out.Parts = append(out.Parts, attrPart{checksumFields: newChecksumFields(p.Checksums), PartNumber: p.Number, Size: p.Size})
		out.NextPartNumberMarker = p.Number
	}
	return out
}
