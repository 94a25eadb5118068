package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
)

func TestOperationNames(t *testing.T) {
	cases := []struct {
		method, target string
		header         map[string]string
		want           string
	}{
		{"GET", "/", nil, "ListBuckets"},
		{"PUT", "/b", nil, "CreateBucket"},
		{"DELETE", "/b", nil, "DeleteBucket"},
		{"HEAD", "/b", nil, "HeadBucket"},
		{"GET", "/b", nil, "ListObjects"},
		{"GET", "/b?list-type=2&prefix=a", nil, "ListObjectsV2"},
		{"GET", "/b?versions", nil, "ListObjectVersions"},
		{"GET", "/b?uploads", nil, "ListMultipartUploads"},
		{"PUT", "/b?encryption", nil, "PutBucketEncryption"},
		{"GET", "/b?encryption", nil, "GetBucketEncryption"},
		{"DELETE", "/b?encryption", nil, "DeleteBucketEncryption"},
		{"PUT", "/b?policy", nil, "PutBucketPolicy"},
		{"PUT", "/b?acl", nil, "PutBucketAcl"},
		{"PUT", "/b?lifecycle", nil, "PutBucketLifecycle"},
		{"PUT", "/b?versioning", nil, "PutBucketVersioning"},
		{"PUT", "/b?cors", nil, "PutBucketCors"},
		{"PUT", "/b?replication", nil, "PutBucketReplication"},
		{"GET", "/b?location", nil, "GetBucketLocation"},
		{"PUT", "/b?object-lock", nil, "PutObjectLockConfiguration"},
		{"DELETE", "/b?publicAccessBlock", nil, "DeletePublicAccessBlock"},
		{"POST", "/b?delete", nil, "DeleteObjects"},
		{"POST", "/b?worm", nil, "InitiateBucketWorm"},
		{"POST", "/b?wormExtend&wormId=1", nil, "ExtendBucketWorm"},
		{"GET", "/b?unknown-thing", nil, "Unknown"},
		{"PUT", "/b/k", nil, "PutObject"},
		{"PUT", "/b/k", map[string]string{"x-amz-copy-source": "/a/b"}, "CopyObject"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", nil, "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", map[string]string{"x-amz-copy-source": "/a/b"}, "UploadPartCopy"},
		{"PUT", "/b/k?acl", nil, "PutObjectAcl"},
		{"PUT", "/b/k?retention", nil, "PutObjectRetention"},
		{"GET", "/b/k", nil, "GetObject"},
		{"GET", "/b/k?X-Amz-Signature=x&X-Amz-Credential=y", nil, "GetObject"},
		{"GET", "/b/k?tagging", nil, "GetObjectTagging"},
		{"GET", "/b/k?uploadId=u", nil, "ListParts"},
		{"HEAD", "/b/k", nil, "HeadObject"},
		{"DELETE", "/b/k", nil, "DeleteObject"},
		{"DELETE", "/b/k?uploadId=u", nil, "AbortMultipartUpload"},
		{"POST", "/b/k?uploads", nil, "CreateMultipartUpload"},
		{"POST", "/b/k?uploadId=u", nil, "CompleteMultipartUpload"},
		{"OPTIONS", "/b/k", nil, "PreflightRequest"},
		{"PATCH", "/b/k", nil, "Unknown"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		bucket, key := splitPath(r.URL.Path, "")
		q := &request{r: r, bucket: bucket, key: key, query: r.URL.Query(), d: s3.Dialect{}}
		if got := operation(q); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.target, got, c.want)
		}
	}
}

func TestConfigChanges(t *testing.T) {
	for op, want := range map[string]string{
		"PutBucketEncryption": audit.TypeBucketConfig, "DeleteBucketPolicy": audit.TypeBucketConfig,
		"CreateBucket": audit.TypeBucketConfig, "DeleteBucket": audit.TypeBucketConfig,
		"PutPublicAccessBlock": audit.TypeBucketConfig, "PutObjectLockConfiguration": audit.TypeBucketConfig,
		"PutObjectAcl": audit.TypeObjectConfig, "PutObjectLegalHold": audit.TypeObjectConfig,
		"PutObject": "", "GetBucketPolicy": "", "DeleteObjects": "", "ListBuckets": "",
	} {
		got, ok := configChange(op)
		if got != want || ok != (want != "") {
			t.Errorf("configChange(%s) = %q, %v; want %q", op, got, ok, want)
		}
	}
}

func TestMetricsPathNeedsNoCredentials(t *testing.T) {
	for _, c := range []struct {
		authz, query string
		want         bool
	}{
		{"", "", false},
		{"Bearer abc", "", false},
		{"AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "", true},
		{"OSS AK:sig", "", true},
		{"", "X-Amz-Signature=00&X-Amz-Credential=AK", true},
		{"", "OSSAccessKeyId=AK&Signature=x", true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics?"+c.query, nil)
		if c.authz != "" {
			r.Header.Set("Authorization", c.authz)
		}
		if got := carriesCredentials(r); got != c.want {
			t.Errorf("carriesCredentials(%q, %q) = %v", c.authz, strings.TrimSpace(c.query), got)
		}
	}
}
