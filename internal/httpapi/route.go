package httpapi

import (
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// route dispatches a request to its operation by method, target and
// sub-resource.
func (s *Server) route(q *request) error {
	m := q.r.Method
	has := func(k string) bool { _, ok := q.query[k]; return ok }
	switch {
	case q.bucket == "":
		if m == http.MethodGet {
			return s.listBuckets(q)
		}
		return errs.MethodNotAllowed
	case q.key == "":
		return s.routeBucket(q, m, has)
	}
	switch m {
	case http.MethodPut:
		switch {
		case has(service.ReplicaQuery):
			return s.putReplica(q)
		case has("uploadId") && q.header("copy-source") != "":
			return s.uploadPartCopy(q)
		case has("uploadId"):
			return s.uploadPart(q)
		case has("acl"):
			return s.putACL(q)
		case has("tagging"):
			return s.putObjectTagging(q)
		case has("retention"):
			return s.putObjectRetention(q)
		case has("legal-hold"):
			return s.putObjectLegalHold(q)
		case q.header("copy-source") != "":
			return s.copyObject(q)
		}
		return s.putObject(q)
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return s.listParts(q)
		case has("acl"):
			return s.getACL(q)
		case has("tagging"):
			return s.getObjectTagging(q)
		case has("attributes"):
			return s.getObjectAttributes(q)
		case has("retention"):
			return s.getObjectRetention(q)
		case has("legal-hold"):
			return s.getObjectLegalHold(q)
		case has("torrent"):
			return notImplemented(q, "GetObjectTorrent")
		}
		return s.getObject(q)
	case http.MethodHead:
		return s.headObject(q)
	case http.MethodDelete:
		if has("uploadId") {
			return s.abortUpload(q)
		}
		if has("tagging") {
			return s.deleteObjectTagging(q)
		}
		return s.deleteObject(q)
	case http.MethodPost:
		switch {
		case has("uploads"):
			return s.createUpload(q)
		case has("uploadId"):
			return s.completeUpload(q)
		}
	}
	return errs.MethodNotAllowed
}

func (s *Server) routeBucket(q *request, m string, has func(string) bool) error {
	if handled, err := s.routeWorm(q, m, has); handled {
		return err
	}
	if handled, err := s.routeOrigin(q, m, has); handled {
		return err
	}
	switch m {
	case http.MethodPut:
		switch {
		case has("encryption"):
			return s.putBucketEncryption(q)
		case has("lifecycle"):
			return s.putBucketLifecycle(q)
		case has("replication"):
			return s.putBucketReplication(q)
		case has("inventory"):
			return s.putBucketInventory(q)
		case has("policy"):
			return s.putBucketPolicy(q)
		case has("acl"):
			return s.putACL(q)
		case has("versioning"):
			return s.putBucketVersioning(q)
		case has("tagging"):
			return s.putBucketTagging(q)
		case has("cors"):
			return s.putBucketCORS(q)
		case has("publicAccessBlock"):
			return s.putPublicAccessBlock(q)
		case has("object-lock"):
			return s.putObjectLockConfiguration(q)
		case onlyOpParams(q):
			return s.createBucket(q)
		}
	case http.MethodHead:
		return s.headBucket(q)
	case http.MethodDelete:
		switch {
		case has("encryption"):
			return s.deleteBucketEncryption(q)
		case has("lifecycle"):
			return s.deleteBucketLifecycle(q)
		case has("replication"):
			return s.deleteBucketReplication(q)
		case has("inventory"):
			return s.deleteBucketInventory(q)
		case has("policy"):
			return s.deleteBucketPolicy(q)
		case has("tagging"):
			return s.deleteBucketTagging(q)
		case has("cors"):
			return s.deleteBucketCORS(q)
		case has("publicAccessBlock"):
			return s.deletePublicAccessBlock(q)
		case onlyOpParams(q):
			return s.deleteBucket(q)
		}
	case http.MethodGet:
		switch {
		case has("encryption"):
			return s.getBucketEncryption(q)
		case has("lifecycle"):
			return s.getBucketLifecycle(q)
		case has("replication"):
			return s.getBucketReplication(q)
		case has("replicationLocation"):
			return s.getBucketReplicationLocation(q)
		case has("replicationProgress"):
			return s.getBucketReplicationProgress(q)
		case has("inventory"):
			return s.getBucketInventory(q)
		case has("policy"):
			return s.getBucketPolicy(q)
		case has("acl"):
			return s.getACL(q)
		case has("tagging"):
			return s.getBucketTagging(q)
		case has("cors"):
			return s.getBucketCORS(q)
		case has("publicAccessBlock"):
			return s.getPublicAccessBlock(q)
		case has("object-lock"):
			return s.getObjectLockConfiguration(q)
		case has("bucketInfo"):
			return s.getBucketInfo(q)
		case has("location"):
			return s.getBucketLocation(q)
		case has("uploads"):
			return s.listUploads(q)
		case has("versioning"):
			return s.getBucketVersioning(q)
		case has("versions"):
			return s.listObjectVersions(q)
		case q.query.Get("list-type") == "2":
			return s.listObjectsV2(q)
		case onlyListParams(q):
			return s.listObjectsV1(q)
		}
	case http.MethodPost:
		if has("delete") {
			return s.deleteObjects(q)
		}
		if has("replication") {
			return s.postBucketReplication(q)
		}
		if isFormUpload(q.r) && onlyOpParams(q) {
			return s.postObject(q)
		}
	}
	return notImplemented(q, "")
}

// onlyListParams reports whether a bucket GET carries only listing
// parameters (so an unknown sub-resource is not mistaken for a listing).
func onlyListParams(q *request) bool {
	for k := range q.query {
		if auth.IsQueryParam(k) {
			continue
		}
		switch k {
		case "prefix", "delimiter", "marker", "max-keys", "encoding-type", "x-id":
		default:
			return false
		}
	}
	return true
}

// onlyOpParams reports whether the query names no sub-resource (only
// signature parameters and the SDK's x-id).
func onlyOpParams(q *request) bool {
	for k := range q.query {
		if !auth.IsQueryParam(k) && k != "x-id" {
			return false
		}
	}
	return true
}
