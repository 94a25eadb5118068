package httpapi

import (
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"strongroom/internal/errs"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request documents (a 10000-part Complete is ~1 MiB).
const maxXMLBody = 4 << 20

// writeXML writes a 200 response with an XML document.
func writeXML(q *request, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	q.w.WriteHeader(http.StatusOK)
	io.WriteString(q.w, xml.Header)
	q.w.Write(body)
	return nil
}

// readBody reads a small request document of at most max bytes (a longer
// one is tooLarge). A body that fails its signature or payload check
// returns that error, not a generic one.
func readBody(q *request, max int, tooLarge *errs.Error) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(q.auth.Body, int64(max)+1))
	if err != nil {
		if e := errs.As(err); e != nil {
			return nil, e
		}
		return nil, errs.IncompleteBody
	}
	if len(data) > max {
		return nil, tooLarge
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
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedEntry struct {
	Key string
}

type deleteErrorEntry struct {
	Key     string
	Code    string
	Message string
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
	Parts []struct {
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

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	NS      string   `xml:"xmlns,attr"`
}
