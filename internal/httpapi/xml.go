package httpapi

import (
	"bytes"
	"crypto/md5"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/service"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request documents (a 10000-part Complete is ~1 MiB).
const maxXMLBody = 4 << 20

// writeXML writes a 200 response with an XML document.
func writeXML(q *request, v any) error { return writeXMLStatus(q, http.StatusOK, v) }

// writeXMLStatus writes a document with the given success status.
func writeXMLStatus(q *request, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	q.w.WriteHeader(status)
	io.WriteString(q.w, xml.Header)
	q.w.Write(body)
	return nil
}

// readBody reads a small request document of at most max bytes (a longer
// one is tooLarge) and checks the integrity values sent with it (see
// readDocument).
func readBody(q *request, max int, tooLarge *errs.Error) ([]byte, error) {
	data, _, err := readDocument(q, max, tooLarge)
	return data, err
}

// readDocument reads a request document of at most max bytes and checks
// it: a Content-MD5 and a flexible checksum (header or aws-chunked trailer)
// must match (BadDigest). checked reports whether it carried either. Every
// request document is read here, so none is taken unchecked. A body that
// fails its signature or payload check returns that error.
func readDocument(q *request, max int, tooLarge *errs.Error) (data []byte, checked bool, err error) {
	data, err = io.ReadAll(io.LimitReader(q.auth.Body, int64(max)+1))
	if err != nil {
		if e := errs.As(err); e != nil {
			return nil, false, e
		}
		return nil, false, errs.IncompleteBody
	}
	if len(data) > max {
		return nil, false, tooLarge
	}
	if checked, err = checkDocument(q, data); err != nil {
		return nil, false, err
	}
	return data, checked, nil
}

// checkDocument checks a read document against its Content-MD5 and
// flexible checksum, and reports whether it carried either.
func checkDocument(q *request, data []byte) (checked bool, err error) {
	if v := q.r.Header.Get("Content-MD5"); v != "" {
		want, err := service.DecodeContentMD5(v)
		if err != nil {
			return false, err
		}
		if sum := md5.Sum(data); !bytes.Equal(sum[:], want) {
			return false, errs.BadDigest
		}
		checked = true
	}
	ck, err := checksumInput(q)
	if err != nil || ck.Algorithm == "" {
		return checked, err
	}
	value := ck.Value
	if value == "" && ck.Trailer != nil {
		value = ck.Trailer()
	}
	set := checksum.NewSet(nil, ck.Algorithm)
	set.Write(data)
	if set.Values()[ck.Algorithm] != value {
		return false, errs.BadDigest
	}
	return true, nil
}

// readCheckedBody reads a document S3 accepts only with a Content-MD5 or a
// flexible checksum. optional waives the requirement (a dialect whose SDK
// sends none); a value sent is still checked.
func readCheckedBody(q *request, optional bool) ([]byte, error) {
	data, checked, err := readDocument(q, maxXMLBody, errXMLTooLarge)
	if err != nil {
		return nil, err
	}
	if !checked && !optional {
		return nil, errs.MissingContentMD5
	}
	return data, nil
}

var errXMLTooLarge = errs.MalformedXML.WithMessage("The XML you provided was larger than the maximum allowed size.")

// readXML decodes a bounded request document into v.
func readXML(q *request, v any) error {
	data, err := readBody(q, maxXMLBody, errXMLTooLarge)
	if err != nil {
		return err
	}
	return decodeXML(data, v)
}

// decodeXML decodes a request document; v's XMLName names the root
// element it must have (a document with another root is MalformedXML).
func decodeXML(data []byte, v any) error {
	if err := xml.Unmarshal(data, v); err != nil {
		return errs.MalformedXML
	}
	return nil
}

// isoTime formats times as S3 listings do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// quote returns an ETag as sent on the wire.
func quote(etag string) string { return `"` + etag + `"` }

// s3URLEncode encodes a key for encoding-type=url: like a query escape but
// with %20 for space and '/' kept, as S3 does.
func s3URLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

type owner struct {
	ID          string
	DisplayName string
}

type listAllMyBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	NS      string   `xml:"xmlns,attr"`
	Owner   owner
	Buckets []bucketEntry `xml:"Buckets>Bucket"`
}

type bucketEntry struct {
	Name         string
	CreationDate string
	BucketRegion string `xml:",omitempty"`
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	NS      string   `xml:"xmlns,attr"`
	Value   string   `xml:",chardata"`
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string
	Tags               *tagSet // S3's Tags (Tag elements)
}

type objectEntry struct {
	Key               string
	LastModified      string
	ETag              string
	Size              int64
	StorageClass      string
	ChecksumAlgorithm []string `xml:",omitempty"`
	Owner             *owner   `xml:",omitempty"`
}

type commonPrefix struct {
	Prefix string
}

type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	NS                    string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Marker                *string `xml:",omitempty"`
	NextMarker            string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	ContinuationToken     string  `xml:",omitempty"`
	NextContinuationToken string  `xml:",omitempty"`
	KeyCount              *int    `xml:",omitempty"`
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []objectEntry
	CommonPrefixes        []commonPrefix
}

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedEntry struct {
	Key                   string
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:",omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrorEntry struct {
	Key       string
	VersionID string `xml:"VersionId,omitempty"`
	Code      string
	Message   string
}

type deleteResult struct {
	XMLName xml.Name           `xml:"DeleteResult"`
	NS      string             `xml:"xmlns,attr"`
	Deleted []deletedEntry     `xml:"Deleted"`
	Errors  []deleteErrorEntry `xml:"Error"`
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	NS           string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
	checksumFields
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	NS           string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
	checksumFields
}

type checksumFields struct {
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
}

func newChecksumFields(m map[string]string) checksumFields {
	return checksumFields{
		ChecksumCRC32:     m["CRC32"],
		ChecksumCRC32C:    m["CRC32C"],
		ChecksumCRC64NVME: m["CRC64NVME"],
		ChecksumSHA1:      m["SHA1"],
		ChecksumSHA256:    m["SHA256"],
	}
}

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

type completeMultipartUpload struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
	checksumFields
}

type partEntry struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
	checksumFields
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	NS                   string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	Initiator            owner
	Owner                owner
	StorageClass         string
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	ChecksumAlgorithm    string      `xml:",omitempty"`
	Parts                []partEntry `xml:"Part"`
}

type uploadEntry struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    owner
	Owner        owner
	StorageClass string
	Initiated    string
}

type listMultipartUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	NS                 string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	Delimiter          string `xml:",omitempty"`
	MaxUploads         int
	IsTruncated        bool
	Uploads            []uploadEntry  `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

// readConfig reads a configuration document (CORS, tags, lifecycle, ...)
// through the checked reader: Content-MD5 or a checksum is required unless
// the dialect's clients send none. A non-empty action is authorized on the
// bucket first, so nobody has a document read on their behalf who may not
// act (object tagging passes "": its decision needs the object's tags).
func (s *Server) readConfig(q *request, action string) ([]byte, error) {
	if action != "" {
		if err := s.svc.Precheck(q.r.Context(), q.principal, action, q.bucket, ""); err != nil {
			return nil, err
		}
	}
	optional := false
	if c, ok := q.d.(dialect.ConfigIntegrity); ok {
		optional = c.ConfigMD5Optional()
	}
	return readCheckedBody(q, optional)
}
