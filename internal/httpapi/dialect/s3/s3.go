// Package s3 is the AWS S3 wire dialect.
package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// NS is the S3 XML namespace.
const NS = "http://s3.amazonaws.com/doc/2006-03-01/"

const prefix = "x-amz-"

// Dialect is the S3 dialect.
type Dialect struct{}

var _ dialect.Dialect = Dialect{}

func (Dialect) Name() string   { return "s3" }
func (Dialect) Prefix() string { return prefix }

func (Dialect) Header(h http.Header, name string) string { return names.Get(h, name) }

func (Dialect) SetRequestID(h http.Header, id string) {
	// What h.Set does, with the names already canonical and one
	// allocation for both values (every response sets them).
	v := []string{id, id}
	h["X-Amz-Request-Id"] = v[0:1:1]
	h["X-Amz-Id-2"] = v[1:2:2]
}

// ErrorBody is the S3 error document.
type ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	Region    string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

func (Dialect) WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string) {
	e = kmsOutage(e)
	WriteErrorBody(w, r, e.Status, ErrorBody{Code: e.Code, Message: e.Message, Resource: resource, Region: e.Region, RequestID: requestID, HostID: requestID})
}

// WriteErrorBody writes an error document, or only the status for HEAD and
// 304 responses, which carry no body.
func WriteErrorBody(w http.ResponseWriter, r *http.Request, status int, body any) {
	if r.Method == http.MethodHead || status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	b, _ := xml.Marshal(body)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}

var errKMSHeaderNeedsKMS = errs.InvalidArgument.WithMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")

func (d Dialect) ObjectSSE(h http.Header, use dialect.Use) (*sse.Spec, error) {
	if !names.Any(h, sseNamePrefix) {
		// No encryption header at all (most requests): what
		// ParseObjectSSE returns then, without its seven lookups.
		return nil, nil
	}
	return ParseObjectSSE(func(n string) string { return names.Get(h, n) }, use)
}

// ParseObjectSSE parses S3-style encryption headers read through get.
func ParseObjectSSE(get func(string) string, use dialect.Use) (*sse.Spec, error) {
	cust, err := dialect.CustomerSpec(get, dialect.ObjectCustomer)
	if err != nil {
		return nil, err
	}
	mode := get("server-side-encryption")
	keyID := get("server-side-encryption-aws-kms-key-id")
	encCtx := get("server-side-encryption-context")
	if use == dialect.Read {
		if mode != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("x-amz-server-side-encryption header is not supported for this operation.")
		}
		return cust, nil
	}
	if cust != nil {
		if mode != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
		}
		return cust, nil
	}
	var spec *sse.Spec
	switch mode {
	case "":
		if keyID != "" || encCtx != "" {
			return nil, errKMSHeaderNeedsKMS
		}
		return nil, nil
	case "AES256":
		if keyID != "" || encCtx != "" {
			return nil, errKMSHeaderNeedsKMS
		}
		spec = &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	case "aws:kms":
		spec = &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: keyID, Context: encCtx}
	default:
		return nil, errs.InvalidArgument.WithMessage("The encryption method specified is not supported")
	}
	// Extension (OBS's header): SM4 as the data algorithm of SSE-KMS.
	switch get("server-side-data-encryption") {
	case "", sse.AES256:
	case sse.SM4:
		if spec.Mode != sse.KMS {
			return nil, errs.InvalidArgument.WithMessage("The SM4 data encryption algorithm requires server-side encryption with KMS.")
		}
		spec.Algorithm = sse.SM4
	default:
		return nil, errs.InvalidEncryptionAlgorithm.WithMessage("The Encryption request you specified is not valid. Supported value: AES256/SM4.")
	}
	switch strings.ToLower(get("server-side-encryption-bucket-key-enabled")) {
	case "":
	case "true":
		spec.BucketKey = spec.Mode == sse.KMS
	case "false":
	default:
		return nil, errs.InvalidArgument.WithMessage("x-amz-server-side-encryption-bucket-key-enabled must be true or false")
	}
	return spec, nil
}

func (Dialect) CopySourceSSE(h http.Header) (*sse.Spec, error) {
	return dialect.CustomerSpec(func(n string) string { return names.Get(h, n) }, dialect.CopySourceCustomer)
}

func (Dialect) SetObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec) {
	setObjectSSE(h, enc, req)
}

// setObjectSSE echoes an object's encryption in S3's response headers.
func setObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec) {
	if enc == nil {
		return
	}
	// The fixed values share one slice each (net/http only reads header
	// values, and an append to a full slice copies): no allocation per GET.
	setFixed := func(name string, v []string) { h[names.Key(name)] = v }
	switch sse.Mode(enc.Mode) {
	case sse.Managed:
		setFixed("server-side-encryption", valAES256)
	case sse.KMS:
		setFixed("server-side-encryption", valKMS)
		if enc.Algorithm == sse.SM4 {
			setFixed("server-side-data-encryption", valSM4)
		}
		if enc.KeyID != "" {
			names.Set(h, "server-side-encryption-aws-kms-key-id", enc.KeyID)
		}
		if enc.Context != "" {
			names.Set(h, "server-side-encryption-context", enc.Context)
		}
	case sse.Customer:
		setFixed("server-side-encryption-customer-algorithm", valAES256)
		if req != nil && req.Mode == sse.Customer {
			names.Set(h, "server-side-encryption-customer-key-MD5", req.CustomerKeyMD5)
		}
	}
	if enc.BucketKey {
		setFixed("server-side-encryption-bucket-key-enabled", valTrue)
	}
}

// The fixed values of the encryption response headers (len = cap = 1).
var (
	valAES256 = []string{"AES256"}
	valKMS    = []string{"aws:kms"}
	valSM4    = []string{sse.SM4}
	valTrue   = []string{"true"}
)

// names are S3's header names made canonical once (dialect.Headers): those
// the handlers read, and the encryption headers of requests and responses.
var names = dialect.NewHeaders(prefix, dialect.RequestHeaders, dialect.SSEHeaders, []string{
	"server-side-encryption-aws-kms-key-id", "server-side-encryption-context",
	"server-side-encryption-bucket-key-enabled",
})

// sseNamePrefix starts the name of every encryption header S3 reads.
const sseNamePrefix = "server-side-"

// S3 has no encryption headers on CreateBucket.
func (Dialect) BucketSSE(http.Header) (*sse.Config, error) { return nil, nil }

// EncryptionConfig is the S3 ServerSideEncryptionConfiguration document.
type EncryptionConfig struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	NS      string           `xml:"xmlns,attr,omitempty"`
	Rules   []EncryptionRule `xml:"Rule"`
}

// EncryptionRule is one Rule of it.
type EncryptionRule struct {
	Default                *ApplyDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled       *bool         `xml:",omitempty"`
	BlockedEncryptionTypes *[]string     `xml:"BlockedEncryptionTypes>EncryptionType,omitempty"`
}

// ApplyDefault is ApplyServerSideEncryptionByDefault.
type ApplyDefault struct {
	SSEAlgorithm   string
	KMSMasterKeyID string `xml:",omitempty"`
}

func (Dialect) ParseEncryption(body []byte) (*sse.Config, error) {
	var doc EncryptionConfig
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Rules) != 1 || doc.Rules[0].Default == nil {
		return nil, errs.MalformedXML
	}
	r := doc.Rules[0]
	c := &sse.Config{}
	switch r.Default.SSEAlgorithm {
	case "AES256":
		c.Mode = sse.Managed
		if r.Default.KMSMasterKeyID != "" {
			return nil, errs.InvalidArgument.WithMessage("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	case "aws:kms":
		c.Mode, c.KeyID = sse.KMS, r.Default.KMSMasterKeyID
	default:
		return nil, errs.InvalidArgument.WithMessage("The SSEAlgorithm you specified is not valid: supported values are AES256 and aws:kms.")
	}
	if r.BucketKeyEnabled != nil {
		c.BucketKey = *r.BucketKeyEnabled && c.Mode == sse.KMS
	}
	if r.BlockedEncryptionTypes != nil {
		for _, t := range *r.BlockedEncryptionTypes {
			if t = strings.TrimSpace(t); t != "NONE" {
				c.BlockedTypes = append(c.BlockedTypes, t)
			}
		}
	}
	return c, nil
}

func (Dialect) EncryptionDocument(c *sse.Config) any {
	r := EncryptionRule{Default: &ApplyDefault{SSEAlgorithm: "AES256"}}
	if c.Mode == sse.KMS {
		r.Default.SSEAlgorithm, r.Default.KMSMasterKeyID = "aws:kms", c.KeyID
	}
	bk := c.BucketKey
	r.BucketKeyEnabled = &bk
	if len(c.BlockedTypes) > 0 {
		bt := append([]string(nil), c.BlockedTypes...)
		r.BlockedEncryptionTypes = &bt
	}
	return EncryptionConfig{NS: NS, Rules: []EncryptionRule{r}}
}

func (Dialect) UploadChecksums() []string { return nil }

func (Dialect) SetUploadChecksums(h http.Header, sums map[string]string) {
	SetFlexibleChecksums(h, prefix, sums)
}

// SetFlexibleChecksums writes the S3 flexible checksums under p.
func SetFlexibleChecksums(h http.Header, p string, sums map[string]string) {
	for alg, v := range sums {
		if alg == checksum.CRC64ECMA {
			continue
		}
		h.Set(p+"checksum-"+strings.ToLower(alg), v)
	}
}

// SetObjectHeaders adds nothing: S3's one object header of its own,
// x-amz-mp-parts-count, is sent only for a part read (SetPartsCount).
func (Dialect) SetObjectHeaders(http.Header, *meta.Object, bool) {}

// SetPartsCount implements dialect.PartsCounter.
func (Dialect) SetPartsCount(h http.Header, n int) {
	h.Set("x-amz-mp-parts-count", strconv.Itoa(n))
}

func (Dialect) BucketInfo(*meta.Bucket, *sse.Config) (any, error) { return nil, errs.NotImplemented }
