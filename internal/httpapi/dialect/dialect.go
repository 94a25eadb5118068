// Package dialect defines what differs between the S3-compatible wire
// protocols strongroom speaks (AWS S3, Alibaba OSS, Tencent COS, Huawei
// OBS): header names, encryption headers and configuration documents, error
// codes and how errors travel. A dialect only translates between its wire
// names and the canonical model (sse.Spec, sse.Config, errs.Error); the
// operations are the same for all of them.
//
// Adding a dialect means adding a package here (and its signature scheme in
// httpapi/auth); nothing else changes.
package dialect

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Use says which encryption parameters an operation accepts.
type Use int

const (
	// Write: PUT, POST, copy destination, initiate multipart: any mode.
	Write Use = iota
	// Read: GET, HEAD: only an SSE-C key (the object's mode is stored).
	Read
	// Part: UploadPart, UploadPartCopy destination, Complete: an SSE-C
	// key, or the upload's own encryption headers, which SDKs send again
	// (the service refuses them only when they differ from the upload's).
	// A dialect may ignore all but the SSE-C key, as it does on reads.
	Part
)

// Dialect is one wire protocol.
type Dialect interface {
	// Name is the dialect's name: "s3", "oss", "cos", "obs".
	Name() string
	// Prefix is the vendor header prefix used on output, e.g. "x-amz-".
	Prefix() string
	// Header reads a vendor header (name without prefix), accepting every
	// prefix the dialect takes on input.
	Header(h http.Header, name string) string

	// SetRequestID sets the request-id response headers.
	SetRequestID(h http.Header, id string)
	// WriteError renders a canonical error the dialect's way (code, status,
	// body, and headers for bodiless HEAD responses).
	WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string)

	// ObjectSSE parses an object request's encryption headers (nil: none).
	ObjectSSE(h http.Header, use Use) (*sse.Spec, error)
	// CopySourceSSE parses the copy source's SSE-C headers (nil: none).
	CopySourceSSE(h http.Header) (*sse.Spec, error)
	// SetObjectSSE echoes an object's encryption on a response. req is
	// the request's spec (its SSE-C key MD5 is echoed, never stored).
	SetObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec)
	// BucketSSE parses encryption headers on CreateBucket that set the
	// bucket's default (nil: none).
	BucketSSE(h http.Header) (*sse.Config, error)
	// ParseEncryption parses a PutBucketEncryption document.
	ParseEncryption(body []byte) (*sse.Config, error)
	// EncryptionDocument is the GetBucketEncryption document (marshalled
	// as XML).
	EncryptionDocument(c *sse.Config) any

	// UploadChecksums are extra checksums to compute on uploads (e.g.
	// CRC64ECMA), set on responses by SetUploadChecksums.
	UploadChecksums() []string
	SetUploadChecksums(h http.Header, sums map[string]string)
	// SetObjectHeaders adds dialect-specific headers to a GET or HEAD
	// response (full: the whole object is returned, not a range).
	SetObjectHeaders(h http.Header, o *meta.Object, full bool)
	// (x-amz-mp-parts-count is not among them: see PartsCounter.)
	// BucketInfo is the document of the dialect's bucket-information
	// request (OSS ?bucketInfo), or errs.NotImplemented.
	BucketInfo(b *meta.Bucket, enc *sse.Config) (any, error)

	// CannedACL reads the canned-ACL header of a bucket (object false) or
	// object request as a canonical value (service.ACL*); "" when absent.
	CannedACL(h http.Header, object bool) (acl string, present bool, err error)
	// ACLDocument renders Get(Bucket|Object)Acl for an owner and a
	// canonical canned ACL ("" on an object: follows the bucket).
	ACLDocument(owner, acl string, object bool) any
	// ParseACL reads a Put(Bucket|Object)Acl document into a canned ACL.
	ParseACL(body []byte, object bool) (string, error)
}

// Optional capabilities: the HTTP layer checks for them with a type
// assertion, so a dialect implements only those it needs.

// BucketSSEResponse is implemented by dialects whose CreateBucket response
// echoes the default encryption its headers set (OBS).
type BucketSSEResponse interface {
	SetBucketSSE(h http.Header, c *sse.Config)
}

// ConfigIntegrity is implemented by dialects whose clients send bucket
// configuration documents without Content-MD5 (the OBS SDK does not send
// it with PutBucketEncryption).
type ConfigIntegrity interface {
	ConfigMD5Optional() bool
}

// InputPrefixes is implemented by dialects that take vendor headers under
// more than one prefix (OBS: x-obs- and x-amz-), for what is read by
// enumeration rather than by name (user metadata). The first is preferred.
type InputPrefixes interface {
	InputPrefixes() []string
}

// PartSizer is implemented by dialects whose vendor allows smaller
// multipart parts than S3's 5 MiB (every part but the last).
type PartSizer interface {
	MinPartSize() int64
}

// MinPartSize returns the smallest part (but the last) d accepts.
func MinPartSize(d Dialect, s3Default int64) int64 {
	if p, ok := d.(PartSizer); ok {
		return p.MinPartSize()
	}
	return s3Default
}

// PolicyStatus is implemented by dialects whose PutBucketPolicy succeeds
// with another status than S3's 204 No Content (OSS: 200, which its v1 SDK
// insists on).
type PolicyStatus interface {
	PutBucketPolicyStatus() int
}

// RequestACLDocument is implemented by dialects whose Get(Bucket|Object)Acl
// document depends on how the request was made (OBS: its native signature
// gets OBS's own document, the S3-compatible signatures S3's). It replaces
// ACLDocument for those dialects.
type RequestACLDocument interface {
	ACLDocumentFor(r *http.Request, owner, acl string, object bool) any
}

// LifecycleShape is implemented by dialects whose lifecycle documents use
// their vendor's element names (OSS); the others use S3's.
type LifecycleShape interface {
	LifecycleShape() lifecycle.Shape
}

// InventoryShape is implemented by dialects whose inventory documents use
// their vendor's element names (COS, OSS); the others use S3's.
type InventoryShape interface {
	InventoryShape() inventory.Shape
}

// WriteGuard is implemented by dialects with their own header for "do not
// overwrite an existing object" (OSS x-oss-forbid-overwrite).
type WriteGuard interface {
	ForbidOverwrite(h http.Header) bool
}

// IfNoneMatch is a write's If-None-Match, with the dialect's own
// no-overwrite header expressed as "*".
func IfNoneMatch(d Dialect, h http.Header) string {
	if g, ok := d.(WriteGuard); ok && g.ForbidOverwrite(h) {
		return "*"
	}
	return h.Get("If-None-Match")
}

// CORSVary is implemented by dialects whose CORS configuration document
// carries ResponseVary (OSS, COS).
type CORSVary interface {
	CORSResponseVary()
}

// PublicAccessSwitch is implemented by dialects whose Block Public Access
// document is one switch, BlockPublicAccess, standing for all four of S3's
// settings (OSS).
type PublicAccessSwitch interface {
	PublicAccessSwitch()
}

// Prefixes returns the header prefixes d accepts on input.
func Prefixes(d Dialect) []string {
	if p, ok := d.(InputPrefixes); ok {
		return p.InputPrefixes()
	}
	return []string{d.Prefix()}
}

// CustomerHeaders names a triple of SSE-C request headers without a
// dialect's prefix: those of the object (ObjectCustomer) or of a copy's
// source (CopySourceCustomer), which every dialect spells alike. Ready
// names: every request with encryption headers reads them, and joining
// them made three strings each time.
type CustomerHeaders struct{ Algorithm, Key, KeyMD5 string }

func customerHeaders(p string) CustomerHeaders {
	return CustomerHeaders{p + "algorithm", p + "key", p + "key-md5"}
}

var (
	ObjectCustomer     = customerHeaders("server-side-encryption-customer-")
	CopySourceCustomer = customerHeaders("copy-source-server-side-encryption-customer-")
)

// CustomerSpec parses the SSE-C header triple n, read through get. nil
// when absent.
func CustomerSpec(get func(string) string, n CustomerHeaders) (*sse.Spec, error) {
	alg, key, md5 := get(n.Algorithm), get(n.Key), get(n.KeyMD5)
	if alg == "" && key == "" && md5 == "" {
		return nil, nil
	}
	if alg == "" {
		return nil, errs.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	}
	return sse.CustomerSpec(alg, key, md5)
}

// StorageClasses is implemented by dialects whose storage-class header
// takes other values than S3's. Every class is stored and served as the
// one class the server has; an unknown one is refused, not dropped.
type StorageClasses interface {
	ValidStorageClass(v string) bool
}

// s3StorageClasses are the values S3 takes in x-amz-storage-class.
var s3StorageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}

// ValidStorageClass reports whether d takes v as a storage class.
func ValidStorageClass(d Dialect, v string) bool {
	if c, ok := d.(StorageClasses); ok {
		return c.ValidStorageClass(v)
	}
	return s3StorageClasses[v]
}

// S3StorageClass reports whether v is one of S3's storage classes.
func S3StorageClass(v string) bool { return s3StorageClasses[v] }

// ReplicationShape is implemented by dialects whose replication documents
// use their vendor's element names (COS, OSS, OBS); the others use S3's.
type ReplicationShape interface {
	ReplicationShape() replication.Shape
}

// PartsCounter is implemented by dialects that report a multipart object's
// part count when one part of it is read (?partNumber=N), and only then, as
// S3 does with x-amz-mp-parts-count.
type PartsCounter interface {
	SetPartsCount(h http.Header, n int)
}
