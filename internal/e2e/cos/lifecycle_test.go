package e2ecos

import (
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestLifecycle sets, reads and deletes a lifecycle through cos-go-sdk-v5
// (COS uses S3's document).
func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	_, c := e.bucket("lc")
	_, _, err := c.Bucket.GetLifecycle(e.ctx)
	wantCOSErr(t, err, 404, "NoSuchLifecycleConfiguration")

	_, err = c.Bucket.PutLifecycle(e.ctx, &cos.BucketPutLifecycleOptions{Rules: []cos.BucketLifecycleRule{{
		ID: "logs", Status: "Enabled", Filter: &cos.BucketLifecycleFilter{Prefix: "log/"},
		Expiration:                     &cos.BucketLifecycleExpiration{Days: 30},
		AbortIncompleteMultipartUpload: &cos.BucketLifecycleAbortIncompleteMultipartUpload{DaysAfterInitiation: 2},
		NoncurrentVersionExpiration:    &cos.BucketLifecycleNoncurrentVersion{NoncurrentDays: 7},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Bucket.GetLifecycle(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 1 {
		t.Fatalf("rules %+v", got.Rules)
	}
	r := got.Rules[0]
	if r.ID != "logs" || r.Status != "Enabled" || r.Filter == nil || r.Filter.Prefix != "log/" ||
		r.Expiration == nil || r.Expiration.Days != 30 || r.AbortIncompleteMultipartUpload == nil ||
		r.AbortIncompleteMultipartUpload.DaysAfterInitiation != 2 || r.NoncurrentVersionExpiration == nil ||
		r.NoncurrentVersionExpiration.NoncurrentDays != 7 {
		t.Fatalf("rule read back: %+v", r)
	}
	_, err = c.Bucket.PutLifecycle(e.ctx, &cos.BucketPutLifecycleOptions{Rules: []cos.BucketLifecycleRule{{
		ID: "bad", Status: "Enabled", Filter: &cos.BucketLifecycleFilter{Prefix: "x/"},
		Expiration: &cos.BucketLifecycleExpiration{Date: "2030-01-01T10:00:00+08:00"},
	}}})
	wantCOSErr(t, err, 400, "InvalidArgument")
	if _, err := c.Bucket.DeleteLifecycle(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Bucket.GetLifecycle(e.ctx)
	wantCOSErr(t, err, 404, "NoSuchLifecycleConfiguration")
}
