package e2eoss

import (
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestLifecycleOSSShape sets, reads and deletes a lifecycle through the OSS
// v2 SDK in both signature versions: OSS's element names (rule-level
// Prefix, AbortMultipartUpload, CreatedBeforeDate) travel both ways, and a
// missing configuration is OSS's NoSuchLifecycle.
func TestLifecycleOSSShape(t *testing.T) {
	n := startNode(t)
	for _, sig := range []oss2.SignatureVersionType{oss2.SignatureVersionV1, oss2.SignatureVersionV4} {
		c := newV2(t, n, n.AccessKey, n.SecretKey, sig)
		t.Run(c.name(), func(t *testing.T) {
			b := bucketName("lc")
			must(t, c.createBucket(b, sseOpt{}))
			_, err := c.c.GetBucketLifecycle(c.ctx, &oss2.GetBucketLifecycleRequest{Bucket: &b})
			wantErr(t, err, 404, "NoSuchLifecycle")

			_, err = c.c.PutBucketLifecycle(c.ctx, &oss2.PutBucketLifecycleRequest{Bucket: &b,
				LifecycleConfiguration: &oss2.LifecycleConfiguration{Rules: []oss2.LifecycleRule{
					{ID: oss2.Ptr("logs"), Prefix: oss2.Ptr("log/"), Status: oss2.Ptr("Enabled"),
						Expiration:           &oss2.LifecycleRuleExpiration{Days: oss2.Ptr(int32(30))},
						AbortMultipartUpload: &oss2.LifecycleRuleAbortMultipartUpload{Days: oss2.Ptr(int32(2))}},
					{ID: oss2.Ptr("old"), Prefix: oss2.Ptr("archive/"), Status: oss2.Ptr("Disabled"),
						Expiration: &oss2.LifecycleRuleExpiration{CreatedBeforeDate: oss2.Ptr("2020-01-01T00:00:00.000Z")}},
				}}})
			must(t, err)
			got, err := c.c.GetBucketLifecycle(c.ctx, &oss2.GetBucketLifecycleRequest{Bucket: &b})
			must(t, err)
			rs := got.LifecycleConfiguration.Rules
			if len(rs) != 2 || oss2.ToString(rs[0].Prefix) != "log/" || oss2.ToString(rs[0].Status) != "Enabled" ||
				rs[0].Expiration == nil || i32(rs[0].Expiration.Days) != 30 ||
				rs[0].AbortMultipartUpload == nil || i32(rs[0].AbortMultipartUpload.Days) != 2 ||
				oss2.ToString(rs[1].Status) != "Disabled" || rs[1].Expiration == nil ||
				oss2.ToString(rs[1].Expiration.CreatedBeforeDate) != "2020-01-01T00:00:00.000Z" {
				t.Fatalf("rules read back: %+v", rs)
			}

			// A transition is refused (one storage class); the rules stay.
			_, err = c.c.PutBucketLifecycle(c.ctx, &oss2.PutBucketLifecycleRequest{Bucket: &b,
				LifecycleConfiguration: &oss2.LifecycleConfiguration{Rules: []oss2.LifecycleRule{
					{ID: oss2.Ptr("ia"), Prefix: oss2.Ptr(""), Status: oss2.Ptr("Enabled"),
						Transitions: []oss2.LifecycleRuleTransition{{Days: oss2.Ptr(int32(30)), StorageClass: oss2.StorageClassIA}}},
				}}})
			wantErr(t, err, 501, "NotImplemented")
			if got, err := c.c.GetBucketLifecycle(c.ctx, &oss2.GetBucketLifecycleRequest{Bucket: &b}); err != nil || len(got.LifecycleConfiguration.Rules) != 2 {
				t.Fatalf("a refused put changed the rules: %v", err)
			}

			_, err = c.c.DeleteBucketLifecycle(c.ctx, &oss2.DeleteBucketLifecycleRequest{Bucket: &b})
			must(t, err)
			_, err = c.c.GetBucketLifecycle(c.ctx, &oss2.GetBucketLifecycleRequest{Bucket: &b})
			wantErr(t, err, 404, "NoSuchLifecycle")
			must(t, c.deleteBucket(b))
		})
	}
}

func i32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
