// Package oss is the Alibaba Cloud OSS wire dialect: x-oss-* headers,
// OSS error documents (with EC codes, and the error carried in x-oss-err on
// bodiless HEAD responses), the ServerSideEncryptionRule bucket document,
// SSE-OSS (AES256 or SM4), SSE-KMS (optionally with SM4 data encryption),
// SSE-C as an extension with S3 semantics, x-oss-hash-crc64ecma and
// ?bucketInfo. docs/dialects-oss.md lists the choices made where OSS
// documents no behaviour.
package oss

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/checksum"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

const prefix = "x-oss-"

// Wire values of x-oss-server-side-encryption and SSEAlgorithm.
const (
	algAES256 = "AES256"
	algSM4    = "SM4"
	algKMS    = "KMS"
)

// names are OSS's header names made canonical once (dialect.Headers).
var names = dialect.NewHeaders(prefix, dialect.RequestHeaders, dialect.SSEHeaders, []string{
	"server-side-encryption-key-id", "server-side-encryption-context", "forbid-overwrite",
	"object-acl", "hash-crc64ecma", "object-type",
})

// Dialect is the OSS dialect. Every method of dialect.Dialect is
// implemented here; the embedded S3 dialect only supplies defaults for
// hooks added to the interface later.
type Dialect struct{ s3.Dialect }

var _ dialect.Dialect = Dialect{}

// CORSResponseVary: OSS's CORS documents carry ResponseVary.
func (Dialect) CORSResponseVary() {}

// PublicAccessSwitch: OSS's Block Public Access is one switch.
func (Dialect) PublicAccessSwitch() {}

func (Dialect) Name() string   { return "oss" }
func (Dialect) Prefix() string { return prefix }

// LifecycleShape implements dialect.LifecycleShape: OSS names its
// lifecycle elements its own way (rule-level Prefix, AbortMultipartUpload).
func (Dialect) LifecycleShape() lifecycle.Shape { return lifecycle.OSS }

// InventoryShape implements dialect.InventoryShape (OSSBucketDestination,
// SSE-OSS, ?inventoryId=).
func (Dialect) InventoryShape() inventory.Shape { return inventory.OSS }

// Header reads an x-oss-* header. The copy source is returned in the
// path-escaped form the handlers decode: the v1 SDK query-escapes the key
// ('+' for a space, %2B for a '+'), the v2 SDK path-escapes it (%20, %2B),
// so a '+' on the wire is always a space.
func (Dialect) Header(h http.Header, name string) string {
	v := names.Get(h, name)
	if name == "copy-source" {
		v = strings.ReplaceAll(v, "+", "%20")
	}
	return v
}

func (Dialect) SetRequestID(h http.Header, id string) { h["X-Oss-Request-Id"] = []string{id} }

// --- errors -------------------------------------------------------------------

// ErrorBody is the OSS error document.
type ErrorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	EC         string `xml:",omitempty"`
}

// ossError is how a canonical error reads in OSS.
type ossError struct {
	code    string
	status  int
	message string // replaces the canonical default message ("" keeps it)
	ec      string // OSS's error-center code, where known
}

// Messages OSS documents (seeds 001/004 and the SDKs' recorded responses).
const (
	// MsgInvalidEncryptionAlgorithm is the seed's (004) message for an
	// SSEAlgorithm other than the supported ones.
	MsgInvalidEncryptionAlgorithm = "The Encryption request you specified is not valid. Supported value: AES256/KMS."
	// MsgKeyIDNotApplicable is the seed's (004) message for KMSMasterKeyID
	// with a non-KMS algorithm.
	MsgKeyIDNotApplicable = "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS."
	// msgObjectAlgorithm is for an invalid x-oss-server-side-encryption
	// object header, where SM4 is valid too.
	msgObjectAlgorithm = "The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4."
)

// errorMap maps canonical codes to OSS's. Codes not listed keep their
// canonical code, status and message (OSS shares most of S3's codes).
var errorMap = map[string]ossError{
	errs.NoEncryptionConfig.Code:           {code: "NoSuchServerSideEncryptionRule", status: http.StatusNotFound, message: "The server side encryption rule does not exist.", ec: "0005-00000004"},
	errs.NoSuchBucket.Code:                 {code: "NoSuchBucket", status: http.StatusNotFound, message: "The specified bucket does not exist.", ec: "0015-00000101"},
	errs.NoSuchKey.Code:                    {code: "NoSuchKey", status: http.StatusNotFound, message: "The specified key does not exist.", ec: "0026-00000001"},
	errs.BucketNotEmpty.Code:               {code: "BucketNotEmpty", status: http.StatusConflict, message: "The bucket has objects. Please delete them first.", ec: "0015-00000301"},
	errs.BucketAlreadyExists.Code:          {code: "BucketAlreadyExists", status: http.StatusConflict, ec: "0015-00000104"},
	errs.BucketAlreadyOwnedByYou.Code:      {code: "BucketAlreadyExists", status: http.StatusConflict, message: errs.BucketAlreadyExists.Message, ec: "0015-00000104"},
	errs.SignatureDoesNotMatch.Code:        {code: "SignatureDoesNotMatch", status: http.StatusForbidden, ec: "0002-00000040"},
	errs.InvalidAccessKeyID.Code:           {code: "InvalidAccessKeyId", status: http.StatusForbidden, message: "The OSS Access Key Id you provided does not exist in our records.", ec: "0002-00000040"},
	errs.MalformedXML.Code:                 {code: "MalformedXML", status: http.StatusBadRequest, ec: "0016-00000608"},
	errs.BadDigest.Code:                    {code: "InvalidDigest", status: http.StatusBadRequest, message: "The Content-MD5 you specified did not match what we received."},
	errs.ContentSHA256Mismatch.Code:        {code: "InvalidDigest", status: http.StatusBadRequest, message: "The x-oss-content-sha256 you specified did not match what we received."},
	errs.KeyTooLong.Code:                   {code: "InvalidObjectName", status: http.StatusBadRequest, message: "The specified object name is too long."},
	errs.AuthorizationHeaderMalformed.Code: {code: "InvalidArgument", status: http.StatusBadRequest, message: "Authorization header is invalid."},
	errs.AuthorizationQueryMalformed.Code:  {code: "InvalidArgument", status: http.StatusBadRequest, message: "The presigned URL's signature parameters are invalid."},
	errs.KMSNotFound.Code:                  {code: "InvalidArgument", status: http.StatusBadRequest, message: "The specified KMS key does not exist."},
	errs.KMSDisabled.Code:                  {code: "InvalidArgument", status: http.StatusBadRequest, message: "The specified KMS key is disabled."},
	errs.KMSUnavailable.Code:               {code: "ServiceUnavailable", status: http.StatusServiceUnavailable, message: "The key management service is unavailable."},
	errs.KMSInvalidState.Code:              {code: "InvalidArgument", status: http.StatusBadRequest}, // the message says pending deletion or destroyed
	// OSS's code for a policy that does not follow the policy syntax (EC
	// 0030-00000005, "The policy is invalid"); the message still points at
	// the problem.
	errs.MalformedPolicy.Code:              {code: "InvalidPolicyDocument", status: http.StatusBadRequest, ec: "0030-00000005"},
	errs.NoSuchLifecycleConfiguration.Code: {code: "NoSuchLifecycle", status: http.StatusNotFound, message: "No Row found in Lifecycle Table."},
	inventory.ErrNoSuchConfiguration.Code:  {code: "NoSuchInventory", status: http.StatusNotFound, message: "The specified inventory does not exist."},
	// A delete or overwrite a bucket retention policy (WORM) refuses (EC
	// 0026-00000005, "the object is protected by a retention policy").
	errs.ObjectImmutable.Code: {code: "FileImmutable", status: http.StatusConflict, ec: "0026-00000005"},
	// GetBucketReplication on a bucket without rules.
	errs.NoSuchReplicationConfiguration.Code: {code: "NoSuchReplicationConfiguration", status: http.StatusNotFound, message: "The bucket you specified does not have replication configuration."},
}

// canonicalDefaults are the canonical errors' own messages, so that a
// refined message (WithMessage) is kept and only the default is replaced.
var canonicalDefaults = map[string]string{}

func init() {
	for _, e := range []*errs.Error{
		errs.NoEncryptionConfig, errs.NoSuchBucket, errs.NoSuchKey, errs.BucketNotEmpty,
		errs.BucketAlreadyExists, errs.BucketAlreadyOwnedByYou, errs.SignatureDoesNotMatch,
		errs.InvalidAccessKeyID, errs.MalformedXML, errs.BadDigest,
		errs.ContentSHA256Mismatch, errs.KeyTooLong, errs.AuthorizationHeaderMalformed,
		errs.AuthorizationQueryMalformed, errs.KMSNotFound, errs.KMSDisabled,
		errs.KMSUnavailable, errs.NoSuchLifecycleConfiguration, errs.NoSuchReplicationConfiguration,
		inventory.ErrNoSuchConfiguration,
	} {
		canonicalDefaults[e.Code] = e.Message
	}
}

// Translate returns the OSS form of a canonical error: code, status,
// message and EC ("" when OSS's is not known).
func Translate(e *errs.Error) (code string, status int, message, ec string) {
	if e.Code == errs.MissingContentMD5.Code && e.Message == errs.MissingContentMD5.Message {
		// DeleteMultipleObjects without Content-MD5 (EC 0016-00000606).
		return "MissingArgument", http.StatusBadRequest, "Missing Some Required Arguments.", "0016-00000606"
	}
	m, ok := errorMap[e.Code]
	if !ok {
		return e.Code, e.Status, e.Message, ""
	}
	message = e.Message
	if m.message != "" && (e.Message == canonicalDefaults[e.Code] || e.Message == "") {
		message = m.message
	}
	return m.code, m.status, message, m.ec
}

// WriteError writes the OSS error document. HEAD responses carry no body,
// so the document travels base64-encoded in x-oss-err (both SDKs decode
// it), with the EC in x-oss-ec.
func (Dialect) WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string) {
	code, status, msg, ec := Translate(e)
	body := ErrorBody{Code: code, Message: msg, RequestID: requestID, HostID: r.Host, EC: ec}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(resource, "/"), "/")
	switch code {
	case "NoSuchBucket", "BucketNotEmpty", "BucketAlreadyExists", "NoSuchServerSideEncryptionRule", "NoSuchLifecycle":
		body.BucketName = bucket
	case "NoSuchKey":
		body.Key = key
	}
	h := w.Header()
	if ec != "" {
		h.Set("x-oss-ec", ec)
	}
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	b, _ := xml.Marshal(body)
	doc := append([]byte(xml.Header), b...)
	if r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(doc))
		w.WriteHeader(status)
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(status)
	w.Write(doc)
}

// --- object encryption headers ---------------------------------------------------

// ObjectSSE parses x-oss-server-side-encryption (AES256 and SM4: SSE-OSS;
// KMS), x-oss-server-side-data-encryption (SM4, with KMS),
// x-oss-server-side-encryption-key-id (with KMS), and the SSE-C triple
// x-oss-server-side-encryption-customer-* (an extension with S3
// semantics). On reads (GET, HEAD, UploadPart) only SSE-C is meaningful:
// the other headers are ignored there, as OSS does.
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
	mode, dataEnc, keyID := get("server-side-encryption"), get("server-side-data-encryption"), get("server-side-encryption-key-id")
	encCtx := get("server-side-encryption-context")
	if cust != nil {
		if mode != "" || dataEnc != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
		}
		return cust, nil
	}
	var spec *sse.Spec
	switch mode {
	case "":
		if dataEnc != "" || keyID != "" || encCtx != "" {
			return nil, errs.InvalidArgument.WithMessage("x-oss-server-side-data-encryption and x-oss-server-side-encryption-key-id require x-oss-server-side-encryption: KMS.")
		}
		return nil, nil
	case algAES256, algSM4:
		if keyID != "" || encCtx != "" {
			return nil, errs.InvalidArgument.WithMessage("x-oss-server-side-encryption-key-id is not applicable if the server side encryption is not KMS.")
		}
		if dataEnc != "" {
			return nil, errs.InvalidArgument.WithMessage("x-oss-server-side-data-encryption is not applicable if the server side encryption is not KMS.")
		}
		spec = &sse.Spec{Mode: sse.Managed, Algorithm: mode}
	case algKMS:
		spec = &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: keyID, Context: encCtx}
		switch dataEnc {
		case "":
		case algSM4:
			spec.Algorithm = sse.SM4
		default:
			return nil, errs.InvalidEncryptionAlgorithm.WithMessage("The Encryption request you specified is not valid. Supported value: SM4.")
		}
	default:
		return nil, errs.InvalidEncryptionAlgorithm.WithMessage(msgObjectAlgorithm)
	}
	return spec, nil
}

// CopySourceSSE parses x-oss-copy-source-server-side-encryption-customer-*
// (extension, as S3's copy-source SSE-C headers).
func (Dialect) CopySourceSSE(h http.Header) (*sse.Spec, error) {
	return dialect.CustomerSpec(func(n string) string { return names.Get(h, n) }, dialect.CopySourceCustomer)
}

// SetObjectSSE echoes an object's encryption: SSE-OSS as its algorithm
// (AES256 or SM4), SSE-KMS as KMS with the key id and, for SM4 data,
// x-oss-server-side-data-encryption; SSE-C as the customer algorithm and
// the request's key MD5.
func (Dialect) SetObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec) {
	if enc == nil {
		return
	}
	switch sse.Mode(enc.Mode) {
	case sse.Managed:
		alg := algAES256
		if enc.Algorithm == sse.SM4 {
			alg = algSM4
		}
		names.Set(h, "server-side-encryption", alg)
	case sse.KMS:
		names.Set(h, "server-side-encryption", algKMS)
		if enc.Algorithm == sse.SM4 {
			names.Set(h, "server-side-data-encryption", algSM4)
		}
		if enc.KeyID != "" {
			names.Set(h, "server-side-encryption-key-id", enc.KeyID)
		}
		if enc.Context != "" {
			names.Set(h, "server-side-encryption-context", enc.Context)
		}
	case sse.Customer:
		names.Set(h, "server-side-encryption-customer-algorithm", algAES256)
		if req != nil && req.Mode == sse.Customer {
			names.Set(h, "server-side-encryption-customer-key-MD5", req.CustomerKeyMD5)
		}
	}
}

// --- bucket default encryption ------------------------------------------------------

// ruleConfig validates an OSS rule (SSEAlgorithm, KMSMasterKeyID,
// KMSDataEncryption) into the canonical bucket default.
func ruleConfig(alg, keyID, dataEnc string) (*sse.Config, error) {
	c := &sse.Config{}
	switch alg {
	case algAES256, algSM4:
		if keyID != "" {
			return nil, errs.InvalidArgument.WithMessage(MsgKeyIDNotApplicable)
		}
		if dataEnc != "" {
			return nil, errs.InvalidArgument.WithMessage("KMSDataEncryption is not applicable if the default sse algorithm is not KMS.")
		}
		c.Mode, c.Algorithm = sse.Managed, alg
	case algKMS:
		c.Mode, c.Algorithm, c.KeyID = sse.KMS, sse.AES256, keyID
		switch dataEnc {
		case "":
		case algSM4:
			c.Algorithm = sse.SM4
		default:
			return nil, errs.InvalidEncryptionAlgorithm.WithMessage("The KMSDataEncryption you specified is not valid. Supported value: SM4.")
		}
	default:
		return nil, errs.InvalidEncryptionAlgorithm.WithMessage(MsgInvalidEncryptionAlgorithm)
	}
	return c, nil
}

// BucketSSE reads the encryption headers of PutBucket (CreateBucket):
// x-oss-server-side-encryption, x-oss-server-side-data-encryption and
// x-oss-server-side-encryption-key-id set the bucket's default.
func (Dialect) BucketSSE(h http.Header) (*sse.Config, error) {
	alg := names.Get(h, "server-side-encryption")
	dataEnc, keyID := names.Get(h, "server-side-data-encryption"), names.Get(h, "server-side-encryption-key-id")
	if alg == "" {
		if dataEnc != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("x-oss-server-side-data-encryption and x-oss-server-side-encryption-key-id require x-oss-server-side-encryption: KMS.")
		}
		return nil, nil
	}
	return ruleConfig(alg, keyID, dataEnc)
}

// EncryptionRule is the OSS bucket encryption document (root
// ServerSideEncryptionRule, no namespace, no Rule level).
type EncryptionRule struct {
	XMLName xml.Name      `xml:"ServerSideEncryptionRule"`
	Default *ApplyDefault `xml:"ApplyServerSideEncryptionByDefault"`
}

// ApplyDefault is ApplyServerSideEncryptionByDefault.
type ApplyDefault struct {
	SSEAlgorithm      string
	KMSMasterKeyID    string `xml:",omitempty"`
	KMSDataEncryption string `xml:",omitempty"`
}

func (Dialect) ParseEncryption(body []byte) (*sse.Config, error) {
	var doc EncryptionRule
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Default == nil {
		return nil, errs.MalformedXML
	}
	d := doc.Default
	return ruleConfig(strings.TrimSpace(d.SSEAlgorithm), strings.TrimSpace(d.KMSMasterKeyID), strings.TrimSpace(d.KMSDataEncryption))
}

// wireRule is a bucket default in OSS's terms.
func wireRule(c *sse.Config) ApplyDefault {
	var d ApplyDefault
	switch c.Mode {
	case sse.KMS:
		d.SSEAlgorithm, d.KMSMasterKeyID = algKMS, c.KeyID
		if c.Algorithm == sse.SM4 {
			d.KMSDataEncryption = algSM4
		}
	default:
		d.SSEAlgorithm = algAES256
		if c.Algorithm == sse.SM4 {
			d.SSEAlgorithm = algSM4
		}
	}
	return d
}

func (Dialect) EncryptionDocument(c *sse.Config) any {
	d := wireRule(c)
	return EncryptionRule{Default: &d}
}

// --- checksums and object headers -----------------------------------------------------

// UploadChecksums asks the service for the CRC-64/ECMA of every upload
// (PutObject, UploadPart, combined on CompleteMultipartUpload), which the
// SDKs check against their own.
func (Dialect) UploadChecksums() []string { return []string{checksum.CRC64ECMA} }

func (Dialect) SetUploadChecksums(h http.Header, sums map[string]string) {
	if v := sums[checksum.CRC64ECMA]; v != "" {
		names.Set(h, "hash-crc64ecma", v)
	}
}

// SetObjectHeaders adds x-oss-object-type and x-oss-storage-class, and the
// stored CRC-64 on full (non-range) GET and HEAD responses.
func (Dialect) SetObjectHeaders(h http.Header, o *meta.Object, full bool) {
	if o.Multipart {
		names.Set(h, "object-type", "Multipart")
	} else {
		names.Set(h, "object-type", "Normal")
	}
	names.Set(h, "storage-class", "Standard")
	if v := o.Checksums[checksum.CRC64ECMA]; full && v != "" {
		names.Set(h, "hash-crc64ecma", v)
	}
}

// --- ?bucketInfo ------------------------------------------------------------------------

// BucketInfoResult is the GetBucketInfo document.
type BucketInfoResult struct {
	XMLName xml.Name   `xml:"BucketInfo"`
	Bucket  BucketInfo `xml:"Bucket"`
}

// BucketInfo is its Bucket element.
type BucketInfo struct {
	Name               string
	Location           string
	CreationDate       string
	ACL                string `xml:"AccessControlList>Grant"`
	DataRedundancyType string
	Owner              Owner
	StorageClass       string
	SSE                BucketSSERule `xml:"ServerSideEncryptionRule"`
}

// Owner is a bucket owner.
type Owner struct {
	ID          string
	DisplayName string
}

// BucketSSERule is the bucket's default encryption inside BucketInfo
// (empty when none is set, as the v1 SDK's tests expect).
type BucketSSERule struct {
	SSEAlgorithm      string `xml:",omitempty"`
	KMSMasterKeyID    string `xml:",omitempty"`
	KMSDataEncryption string `xml:",omitempty"`
}

func (Dialect) BucketInfo(b *meta.Bucket, enc *sse.Config) (any, error) {
	info := BucketInfo{
		Name:               b.Name,
		Location:           "oss-" + b.Region,
		CreationDate:       b.Created.UTC().Format("2006-01-02T15:04:05.000Z"),
		ACL:                "private",
		DataRedundancyType: "LRS",
		Owner:              Owner{ID: b.Owner, DisplayName: b.Owner},
		StorageClass:       "Standard",
	}
	if enc != nil {
		d := wireRule(enc)
		info.SSE = BucketSSERule(d)
	}
	return BucketInfoResult{Bucket: info}, nil
}

// --- optional capabilities ---------------------------------------------------------------

var (
	_ dialect.ConfigIntegrity = Dialect{}
	_ dialect.PartSizer       = Dialect{}
)

// ConfigMD5Optional: the v1 SDK sends PutBucketEncryption without
// Content-MD5 (the v2 SDK sends one, which is checked).
func (Dialect) ConfigMD5Optional() bool { return true }

// MinPartSize is OSS's smallest part but the last: 100 KiB.
func (Dialect) MinPartSize() int64 { return 100 << 10 }

// ValidStorageClass takes OSS's classes (the SDKs send them capitalized).
func (Dialect) ValidStorageClass(v string) bool {
	switch strings.ToLower(v) {
	case "standard", "ia", "archive", "coldarchive", "deepcoldarchive":
		return true
	}
	return false
}

// ReplicationShape implements dialect.ReplicationShape: OSS's replication
// document has its own element names.
func (Dialect) ReplicationShape() replication.Shape { return replication.OSS }
