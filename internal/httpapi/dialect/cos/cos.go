// Package cos is the Tencent Cloud COS wire dialect: x-cos-* headers,
// SSE-COS (AES256 and SM4), SSE-KMS ("cos/kms") and SSE-C object headers,
// the COS bucket-encryption document, COS error codes and bodies, and the
// x-cos-hash-crc64ecma checksum the COS SDK verifies on every upload.
//
// Buckets are "name-appid" (e.g. examplebucket-1250000000), addressed by
// virtual host only; the whole name-appid is the bucket name. Signatures
// (q-sign-algorithm=sha1) are verified in httpapi/auth.
package cos

import (
	"encoding/xml"
	"net"
	"net/http"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

const prefix = "x-cos-"

// Wire values of x-cos-server-side-encryption and of SSEAlgorithm.
const (
	headerAES256 = "AES256"  // SSE-COS
	headerSM4    = "SM4"     // SSE-COS with the SM4 data algorithm
	headerKMS    = "cos/kms" // SSE-KMS
	docKMS       = "KMS"     // SSEAlgorithm of SSE-KMS
)

// Header names, without the prefix.
const (
	hSSE        = "server-side-encryption"
	hKMSKeyID   = "server-side-encryption-cos-kms-key-id"
	hKMSContext = "server-side-encryption-context"
	hCustomer   = "server-side-encryption-customer-"
	hCRC64      = "hash-crc64ecma"
)

// names are COS's header names made canonical once (dialect.Headers).
var names = dialect.NewHeaders(prefix, dialect.RequestHeaders, dialect.SSEHeaders,
	[]string{hSSE, hKMSKeyID, hKMSContext, hCRC64})

// Dialect is the COS dialect. It embeds the S3 dialect only for what COS
// shares with it (BucketInfo: not implemented); every COS-specific method
// is overridden below.
type Dialect struct{ s3.Dialect }

var _ dialect.Dialect = Dialect{}

// CORSResponseVary: COS's CORS documents carry ResponseVary.
func (Dialect) CORSResponseVary() {}

// InventoryShape implements dialect.InventoryShape (COSBucketDestination,
// SSE-COS, Filter/And/Prefix).
func (Dialect) InventoryShape() inventory.Shape { return inventory.COS }

func (Dialect) Name() string   { return "cos" }
func (Dialect) Prefix() string { return prefix }

// Header reads an x-cos-* header. COS spells the metadata directive
// "Copy" / "Replaced"; it is returned in the canonical (S3) spelling.
func (Dialect) Header(h http.Header, name string) string {
	v := names.Get(h, name)
	if name == "metadata-directive" {
		switch strings.ToLower(v) {
		case "copy":
			return "COPY"
		case "replaced", "replace":
			return "REPLACE"
		}
	}
	return v
}

func (Dialect) SetRequestID(h http.Header, id string) { h["X-Cos-Request-Id"] = []string{id} }

// ErrorBody is the COS error document.
type ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
	TraceID   string `xml:"TraceId"`
}

// NoEncryptionMessage is COS's message for NoSuchEncryptionConfiguration.
const NoEncryptionMessage = "The specified bucket does not have a Encryption configuration"

// Code maps a canonical error to COS's code, status and message. Codes
// COS shares with S3 pass through; the others become the closest code in
// COS's error list (docs/dialects-cos.md lists every choice).
func Code(e *errs.Error) (code string, status int, msg string) {
	code, status, msg = e.Code, e.Status, e.Message
	switch e.Code {
	case errs.NoEncryptionConfig.Code:
		return "NoSuchEncryptionConfiguration", http.StatusNotFound, NoEncryptionMessage
	case errs.InvalidEncryptionAlgorithm.Code:
		return "InvalidArgument", http.StatusBadRequest, msg
	case errs.AuthorizationHeaderMalformed.Code, errs.AuthorizationQueryMalformed.Code:
		return "AccessDenied", http.StatusForbidden, msg
	case errs.ContentSHA256Mismatch.Code:
		return "BadDigest", http.StatusBadRequest, msg
	case errs.KeyTooLong.Code:
		return "KeyTooLong", http.StatusBadRequest, msg
	case errs.KMSNotFound.Code, errs.KMSDisabled.Code, errs.KMSInvalidState.Code:
		return "InvalidArgument", http.StatusBadRequest, msg
	case errs.KMSUnavailable.Code:
		return "ServiceUnavailable", http.StatusServiceUnavailable, msg
	case errs.MalformedPolicy.Code:
		return "InvalidPolicyDocument", http.StatusBadRequest, msg
	case errs.InsufficientStorage.Code:
		return "InternalError", http.StatusInternalServerError, msg
	case errs.InvalidAccessKeyID.Code:
		return code, status, "The SecretId you provided does not exist in our records."
	}
	return code, status, msg
}

// WriteError writes the COS error document: Code, Message, Resource (the
// bucket or object URL without scheme), RequestId and TraceId. HEAD
// responses carry no body (the SDK then only sees the status).
func (Dialect) WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string) {
	code, status, msg := Code(e)
	if h := r.Host; h != "" {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		resource = h + r.URL.EscapedPath()
	}
	s3.WriteErrorBody(w, r, status, ErrorBody{Code: code, Message: msg, Resource: resource, RequestID: requestID, TraceID: requestID})
}

var errKeyNeedsKMS = errs.InvalidArgument.WithMessage("x-cos-server-side-encryption-cos-kms-key-id and x-cos-server-side-encryption-context require x-cos-server-side-encryption: cos/kms")

// ObjectSSE parses x-cos-server-side-encryption (AES256, SM4, cos/kms),
// the KMS key id and context, and the SSE-C triple. On reads (GET, HEAD,
// UploadPart, Complete) only the SSE-C key matters: the COS SDK's
// Object.Upload repeats the initiation's headers on every part and on
// Complete, so the other encryption headers are ignored there.
func (Dialect) ObjectSSE(h http.Header, use dialect.Use) (*sse.Spec, error) {
	if !names.Any(h, "server-side-") {
		return nil, nil // no encryption header (most requests): what the lookups would find
	}
	get := func(n string) string { return names.Get(h, n) }
	cust, err := dialect.CustomerSpec(get, dialect.ObjectCustomer)
	if err != nil {
		return nil, err
	}
	if use != dialect.Write {
		return cust, nil
	}
	mode, keyID, encCtx := get(hSSE), get(hKMSKeyID), get(hKMSContext)
	if cust != nil {
		if mode != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
		}
		return cust, nil
	}
	switch mode {
	case "":
		if keyID != "" || encCtx != "" {
			return nil, errKeyNeedsKMS
		}
		return nil, nil
	case headerAES256, headerSM4:
		if keyID != "" || encCtx != "" {
			return nil, errKeyNeedsKMS
		}
		return &sse.Spec{Mode: sse.Managed, Algorithm: mode}, nil
	case headerKMS:
		return &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: keyID, Context: encCtx}, nil
	}
	return nil, errs.InvalidArgument.WithMessage("The x-cos-server-side-encryption value is not valid: supported values are AES256, SM4 and cos/kms.")
}

func (Dialect) CopySourceSSE(h http.Header) (*sse.Spec, error) {
	return dialect.CustomerSpec(func(n string) string { return names.Get(h, n) }, dialect.CopySourceCustomer)
}

// SetObjectSSE echoes an object's encryption: AES256 or SM4 (SSE-COS),
// cos/kms with the key id and context (SSE-KMS), or the SSE-C algorithm
// and the key MD5 the request sent.
func (Dialect) SetObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec) {
	if enc == nil {
		return
	}
	switch sse.Mode(enc.Mode) {
	case sse.Managed:
		v := headerAES256
		if enc.Algorithm == sse.SM4 {
			v = headerSM4
		}
		names.Set(h, hSSE, v)
	case sse.KMS:
		names.Set(h, hSSE, headerKMS)
		if enc.KeyID != "" {
			names.Set(h, hKMSKeyID, enc.KeyID)
		}
		if enc.Context != "" {
			names.Set(h, hKMSContext, enc.Context)
		}
	case sse.Customer:
		names.Set(h, hCustomer+"algorithm", sse.AES256)
		if req != nil && req.Mode == sse.Customer {
			names.Set(h, hCustomer+"key-MD5", req.CustomerKeyMD5)
		}
	}
}

// COS has no encryption headers on PUT Bucket.
func (Dialect) BucketSSE(http.Header) (*sse.Config, error) { return nil, nil }

// EncryptionConfig is the COS ServerSideEncryptionConfiguration document
// (no namespace).
type EncryptionConfig struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	Rules   []EncryptionRule `xml:"Rule"`
}

// EncryptionRule is one Rule of it.
type EncryptionRule struct {
	Default *ApplyDefault `xml:"ApplyServerSideEncryptionByDefault"`
}

// ApplyDefault is ApplyServerSideEncryptionByDefault.
type ApplyDefault struct {
	SSEAlgorithm   string
	KMSMasterKeyID string `xml:",omitempty"`
	KMSAlgorithm   string `xml:",omitempty"`
}

// ParseEncryption reads PUT Bucket encryption: SSEAlgorithm AES256 or SM4
// (SSE-COS) or KMS with an optional KMSMasterKeyID and KMSAlgorithm
// (AES256 or SM4, the data algorithm).
func (Dialect) ParseEncryption(body []byte) (*sse.Config, error) {
	var doc EncryptionConfig
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Rules) != 1 || doc.Rules[0].Default == nil {
		return nil, errs.MalformedXML
	}
	d := doc.Rules[0].Default
	switch alg := strings.TrimSpace(d.SSEAlgorithm); alg {
	case headerAES256, headerSM4:
		if d.KMSMasterKeyID != "" {
			return nil, errs.InvalidArgument.WithMessage("KMSMasterKeyID is only applicable when SSEAlgorithm is KMS.")
		}
		if d.KMSAlgorithm != "" {
			return nil, errs.InvalidArgument.WithMessage("KMSAlgorithm is only applicable when SSEAlgorithm is KMS.")
		}
		return &sse.Config{Mode: sse.Managed, Algorithm: alg}, nil
	case docKMS:
		c := &sse.Config{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: strings.TrimSpace(d.KMSMasterKeyID)}
		switch strings.TrimSpace(d.KMSAlgorithm) {
		case "", sse.AES256:
		case sse.SM4:
			c.Algorithm = sse.SM4
		default:
			return nil, errs.InvalidArgument.WithMessage("The KMSAlgorithm you specified is not valid: supported values are AES256 and SM4.")
		}
		return c, nil
	}
	return nil, errs.InvalidArgument.WithMessage("The SSEAlgorithm you specified is not valid: supported values are AES256, SM4 and KMS.")
}

// EncryptionDocument is GET Bucket encryption's document. Settings only
// other dialects express (S3 bucket keys, blocked encryption types) are
// not shown.
func (Dialect) EncryptionDocument(c *sse.Config) any {
	d := &ApplyDefault{SSEAlgorithm: headerAES256}
	switch {
	case c.Mode == sse.KMS:
		d.SSEAlgorithm, d.KMSMasterKeyID = docKMS, c.KeyID
		if c.Algorithm == sse.SM4 {
			d.KMSAlgorithm = sse.SM4
		}
	case c.Algorithm == sse.SM4:
		d.SSEAlgorithm = headerSM4
	}
	return EncryptionConfig{Rules: []EncryptionRule{{Default: d}}}
}

// UploadChecksums: the COS SDK checks x-cos-hash-crc64ecma on PutObject,
// UploadPart and CompleteMultipartUpload.
func (Dialect) UploadChecksums() []string { return []string{checksum.CRC64ECMA} }

func (Dialect) SetUploadChecksums(h http.Header, sums map[string]string) {
	if v := sums[checksum.CRC64ECMA]; v != "" {
		names.Set(h, hCRC64, v)
	}
}

// SetObjectHeaders returns the object's CRC-64 (of the whole object) on a
// GET or HEAD of the whole object, as COS does; the SDK's Download checks
// it. Objects written without it (e.g. through S3) have none.
func (Dialect) SetObjectHeaders(h http.Header, o *meta.Object, full bool) {
	if v := o.Checksums[checksum.CRC64ECMA]; full && v != "" {
		names.Set(h, hCRC64, v)
	}
}

// CannedACL reads x-cos-acl: private, public-read, public-read-write
// (buckets), and "default" for objects, which follow their bucket's ACL
// (as does an object written without the header, in COS). The ACL
// documents (ACLDocument, ParseACL) are in acl.go.
func (Dialect) CannedACL(h http.Header, object bool) (string, bool, error) {
	v := names.Get(h, "acl")
	switch {
	case v == "" && object:
		return service.ACLDefault, false, nil
	case v == "":
		return "", false, nil
	case v == "default" && object:
		return service.ACLDefault, true, nil
	}
	switch v {
	case service.ACLPrivate, service.ACLPublicRead, service.ACLAuthenticatedRead:
		return v, true, nil
	case service.ACLPublicReadWrite:
		if !object {
			return v, true, nil
		}
	}
	return "", true, errs.InvalidArgument.WithMessage("The x-cos-acl value " + v + " is not supported.")
}

// ValidStorageClass takes COS's classes.
func (Dialect) ValidStorageClass(v string) bool {
	switch strings.ToUpper(v) {
	case "STANDARD", "STANDARD_IA", "ARCHIVE", "DEEP_ARCHIVE", "INTELLIGENT_TIERING",
		"MAZ_STANDARD", "MAZ_STANDARD_IA", "MAZ_INTELLIGENT_TIERING", "MAZ_ARCHIVE":
		return true
	}
	return false
}

// ReplicationShape implements dialect.ReplicationShape: COS's replication
// document has its own element names.
func (Dialect) ReplicationShape() replication.Shape { return replication.COS }
