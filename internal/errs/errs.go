// Package errs holds the canonical, dialect-free errors of strongroom.
//
// Each error carries the S3 code and HTTP status as its canonical identity;
// a wire dialect maps them to its own code, status and body. Errors compare
// by code, so a copy with a more specific message still matches:
//
//	errors.Is(errs.InvalidArgument.WithMessage("..."), errs.InvalidArgument) == true
package errs

import (
	"errors"
	"net/http"
)

// Error is a canonical API error.
type Error struct {
	Code    string // canonical (S3) error code
	Status  int    // canonical HTTP status
	Message string // human-readable, never contains secrets or plaintext
	Region  string // the region a request should have been signed for, if that was wrong
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e with a more specific message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// As returns the canonical error inside err, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func def(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// Canonical errors. Messages follow S3's wording where S3 has one.
var (
	AccessDenied                 = def("AccessDenied", http.StatusForbidden, "Access Denied")
	BadDigest                    = def("BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what we received.")
	BucketAlreadyExists          = def("BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	BucketAlreadyOwnedByYou      = def("BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it.")
	BucketNotEmpty               = def("BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty")
	EntityTooLarge               = def("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size.")
	EntityTooSmall               = def("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size.")
	ExpiredToken                 = def("AccessDenied", http.StatusForbidden, "Request has expired")
	IncompleteBody               = def("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	InternalError                = def("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	InvalidAccessKeyID           = def("InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.")
	InvalidArgument              = def("InvalidArgument", http.StatusBadRequest, "Invalid Argument")
	InvalidBucketName            = def("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
	InvalidDigest                = def("InvalidDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified is not valid.")
	InvalidEncryptionAlgorithm   = def("InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The Encryption request you specified is not valid. Supported value: AES256.")
	InvalidPart                  = def("InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.")
	InvalidPartOrder             = def("InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number.")
	InvalidRange                 = def("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	InvalidRequest               = def("InvalidRequest", http.StatusBadRequest, "Invalid Request")
	KMSNotFound                  = def("KMS.NotFoundException", http.StatusBadRequest, "The specified KMS key does not exist.")
	KMSDisabled                  = def("KMS.DisabledException", http.StatusBadRequest, "The specified KMS key is disabled.")
	KMSUnavailable               = def("KMS.KMSInternalException", http.StatusServiceUnavailable, "The key management service is unavailable.")
	DataUnavailable              = def("ServiceUnavailable", http.StatusServiceUnavailable, "The data store is unavailable. Please try again.")
	MalformedPolicy              = def("MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'")
	MalformedXML                 = def("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	MetadataTooLarge             = def("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size.")
	MethodNotAllowed             = def("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
	MissingContentLength         = def("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	MissingSecurityHeader        = def("MissingSecurityHeader", http.StatusBadRequest, "Your request was missing a required header.")
	NoSuchBucket                 = def("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist")
	NoSuchBucketPolicy           = def("NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist")
	NoSuchKey                    = def("NoSuchKey", http.StatusNotFound, "The specified key does not exist.")
	NoSuchVersion                = def("NoSuchVersion", http.StatusNotFound, "The specified version does not exist.")
	InvalidVersionID             = def("InvalidArgument", http.StatusBadRequest, "Invalid version id specified")
	NoSuchUpload                 = def("NoSuchUpload", http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	NoEncryptionConfig           = def("ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound, "The server side encryption configuration was not found")
	NotImplemented               = def("NotImplemented", http.StatusNotImplemented, "A header you provided implies functionality that is not implemented")
	NotModified                  = def("NotModified", http.StatusNotModified, "Not Modified")
	PreconditionFailed           = def("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	RequestTimeTooSkewed         = def("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large.")
	RequestTimeout               = def("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
	RequestHeaderTooLarge        = def("RequestHeaderSectionTooLarge", http.StatusBadRequest, "Your request header section exceeds the maximum allowed size.")
	SignatureDoesNotMatch        = def("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	AuthorizationHeaderMalformed = def("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed.")
	AuthorizationQueryMalformed  = def("AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter.")
	ContentSHA256Mismatch        = def("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	InvalidChunkedEncoding       = def("InvalidRequest", http.StatusBadRequest, "Invalid chunked encoding")
	KeyTooLong                   = def("KeyTooLongError", http.StatusBadRequest, "Your key is too long")
	ServiceUnavailable           = def("ServiceUnavailable", http.StatusServiceUnavailable, "Reduce your request rate.")
	InvalidTag                   = def("InvalidTag", http.StatusBadRequest, "Your request contains tag input that is not valid.")
	BadRequest                   = def("BadRequest", http.StatusBadRequest, "Bad Request")
	NoSuchTagSet                 = def("NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist")
	NoSuchOriginConfiguration    = def("NoSuchOriginConfiguration", http.StatusNotFound, "The specified bucket does not have an origin configuration")
	NoSuchWebsiteConfiguration   = def("NoSuchWebsiteConfiguration", http.StatusNotFound, "The specified bucket does not have a website configuration")
	FailedDependency             = def("FailedDependency", http.StatusFailedDependency, "The origin failed to provide the object.")
	NoSuchCORSConfiguration      = def("NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist")
	CORSForbidden                = def("AccessForbidden", http.StatusForbidden, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
	NoSuchPublicAccessBlock      = def("NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "The public access block configuration was not found")
	InsufficientStorage          = def("InsufficientStorage", http.StatusInsufficientStorage, "The server does not have enough storage to complete the request.")
	NoSuchLifecycleConfiguration = def("NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist")
	InvalidStorageClass          = def("InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid")
	InvalidLocationConstraint    = def("InvalidLocationConstraint", http.StatusBadRequest, "The specified location-constraint is not valid")
	MissingContentMD5            = def("InvalidRequest", http.StatusBadRequest, "Missing required header for this request: Content-MD5")
	InvalidPartNumber            = def("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
)

// ConditionalRequestConflict: a conditional write lost to a concurrent
// operation on its key (the object it was conditioned on vanished).
var ConditionalRequestConflict = def("ConditionalRequestConflict", http.StatusConflict, "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.")

// Object lock (WORM) errors, as S3 words them.
var (
	ObjectLocked                  = def("AccessDenied", http.StatusForbidden, "Access Denied because object protected by object lock.")
	ObjectLockConfigNotFound      = def("ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket")
	NoSuchObjectLockConfiguration = def("NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration")
	BucketMissingObjectLock       = def("InvalidRequest", http.StatusBadRequest, "Bucket is missing Object Lock Configuration")
	InvalidBucketState            = def("InvalidBucketState", http.StatusConflict, "The request is not valid with the current state of the bucket.")
)

// Bucket retention policy (OSS's bucket WORM) errors, in OSS's words: S3
// has no bucket-level WORM.
var (
	ObjectImmutable         = def("FileImmutable", http.StatusConflict, "The object you specified is immutable.")
	NoSuchWORMConfiguration = def("NoSuchWORMConfiguration", http.StatusNotFound, "The WORM Configuration does not exist.")
	InvalidWORMState        = def("InvalidWORMState", http.StatusConflict, "The operation is not valid with the current state of the WORM configuration.")
)

// Replication configuration errors, in S3's words (OSS's rule error: S3
// has no per-rule delete).
var (
	NoSuchReplicationConfiguration = def("ReplicationConfigurationNotFoundError", http.StatusNotFound, "The replication configuration was not found")
	NoSuchReplicationRule          = def("NoSuchReplicationRule", http.StatusNotFound, "The specified replication rule does not exist.")
	// OSS: a rule added toward a destination another rule already has.
	BucketReplicationAlreadyExist = def("BucketReplicationAlreadyExist", http.StatusBadRequest, "Bucket replication already exists")
)
