package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/audit"
)

// bucketSubresources name the bucket sub-resources an operation name is
// made of (PUT ?encryption: PutBucketEncryption), in the order routing
// tests them. Sub-resources served by no handler still get a name, so a
// new handler is named without touching this file; the list is closed,
// so the names (metric labels) stay bounded.
var bucketSubresources = []struct{ param, name string }{
	{"encryption", "Encryption"}, {"lifecycle", "Lifecycle"}, {"policy", "Policy"}, {"acl", "Acl"},
	{"versioning", "Versioning"}, {"tagging", "Tagging"}, {"cors", "Cors"},
	{"replication", "Replication"}, {"inventory", "Inventory"}, {"origin", "Origin"},
	{"website", "Website"}, {"logging", "Logging"}, {"notification", "Notification"},
	{"referer", "Referer"}, {"accelerate", "Accelerate"}, {"requestPayment", "RequestPayment"},
	{"ownershipControls", "OwnershipControls"}, {"policyStatus", "PolicyStatus"},
	{"analytics", "Analytics"}, {"metrics", "Metrics"}, {"intelligent-tiering", "IntelligentTiering"},
	{"bucketInfo", "Info"}, {"location", "Location"}, {"stat", "Stat"},
}

// operation names a request's operation as S3 (or the vendor) calls it,
// following route's dispatch, for metrics and the access log. Requests
// that route reaches no handler for are "Unknown".
func operation(q *request) string {
	if q == nil {
		return "Unknown"
	}
	m := q.r.Method
	has := func(k string) bool { _, ok := q.query[k]; return ok }
	switch {
	case m == http.MethodOptions:
		return "PreflightRequest"
	case q.bucket == "":
		if m == http.MethodGet {
			return "ListBuckets"
		}
		return "Unknown"
	case q.key == "":
		return bucketOperation(q, m, has)
	}
	switch m {
	case http.MethodPut:
		copySource := q.header("copy-source") != ""
		switch {
		case has("uploadId") && copySource:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case has("acl"):
			return "PutObjectAcl"
		case has("tagging"):
			return "PutObjectTagging"
		case has("retention"):
			return "PutObjectRetention"
		case has("legal-hold"):
			return "PutObjectLegalHold"
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodGet:
		for _, c := range []struct{ param, name string }{
			{"uploadId", "ListParts"}, {"acl", "GetObjectAcl"}, {"tagging", "GetObjectTagging"},
			{"attributes", "GetObjectAttributes"}, {"retention", "GetObjectRetention"},
			{"legal-hold", "GetObjectLegalHold"}, {"torrent", "GetObjectTorrent"},
		} {
			if has(c.param) {
				return c.name
			}
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		}
	}
	return "Unknown"
}

func bucketOperation(q *request, m string, has func(string) bool) string {
	switch {
	case has("worm") || has("wormId") || has("wormExtend"):
		return wormOperation(m, has)
	case has("object-lock") && (m == http.MethodPut || m == http.MethodGet):
		return map[string]string{http.MethodPut: "Put", http.MethodGet: "Get"}[m] + "ObjectLockConfiguration"
	case has("publicAccessBlock"):
		return map[string]string{http.MethodPut: "Put", http.MethodGet: "Get", http.MethodDelete: "Delete"}[m] + "PublicAccessBlock"
	}
	verb := map[string]string{http.MethodPut: "Put", http.MethodGet: "Get", http.MethodDelete: "Delete"}[m]
	if verb != "" {
		for _, sr := range bucketSubresources {
			if has(sr.param) {
				return verb + "Bucket" + sr.name
			}
		}
	}
	switch m {
	case http.MethodPut:
		if onlyOpParams(q) {
			return "CreateBucket"
		}
	case http.MethodDelete:
		if onlyOpParams(q) {
			return "DeleteBucket"
		}
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodGet:
		switch {
		case has("uploads"):
			return "ListMultipartUploads"
		case has("versions"):
			return "ListObjectVersions"
		case q.query.Get("list-type") == "2":
			return "ListObjectsV2"
		case onlyListParams(q):
			return "ListObjects"
		}
	case http.MethodPost:
		switch {
		case has("delete"):
			return "DeleteObjects"
		case isFormUpload(q.r) && onlyOpParams(q):
			return "PostObject"
		}
	}
	return "Unknown"
}

// wormOperation names OSS's bucket retention (WORM) operations.
func wormOperation(m string, has func(string) bool) string {
	switch {
	case m == http.MethodPost && has("worm"):
		return "InitiateBucketWorm"
	case m == http.MethodPost && has("wormExtend") && has("wormId"):
		return "ExtendBucketWorm"
	case m == http.MethodPost && has("wormId"):
		return "CompleteBucketWorm"
	case m == http.MethodDelete && has("worm"):
		return "AbortBucketWorm"
	case m == http.MethodGet && has("worm"):
		return "GetBucketWorm"
	}
	return "Unknown"
}

// configChange tells whether a successful operation changed a bucket's
// (or an object's) configuration, and so is audited: creating or deleting
// a bucket, writing or deleting any bucket sub-resource, and an object's
// ACL, retention or legal hold.
func configChange(op string) (auditType string, ok bool) {
	switch op {
	case "PutObjectAcl", "PutObjectRetention", "PutObjectLegalHold":
		return audit.TypeObjectConfig, true
	case "CreateBucket", "DeleteBucket", "PutObjectLockConfiguration", "PutPublicAccessBlock", "DeletePublicAccessBlock",
		"InitiateBucketWorm", "ExtendBucketWorm", "CompleteBucketWorm", "AbortBucketWorm":
		return audit.TypeBucketConfig, true
	}
	for _, verb := range []string{"PutBucket", "DeleteBucket"} {
		if len(op) > len(verb) && op[:len(verb)] == verb {
			return audit.TypeBucketConfig, true
		}
	}
	return "", false
}
