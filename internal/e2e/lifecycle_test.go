package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestLifecycleThroughTheSDK(t *testing.T) {
	clk := &e2eutil.Clock{}
	node := testnode.Start(t, testnode.Options{Now: clk.Now})
	wire := &wireCheck{base: http.DefaultTransport.(*http.Transport).Clone()}
	e := &env{name: "lifecycle", node: node, endpoint: node.URL, pathStyle: true, wire: wire, http: &http.Client{Transport: wire}}
	c := e.root(t)
	ctx := context.Background()
	b := bucketName("lc")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}))(t)

	_, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchLifecycleConfiguration")

	for _, k := range []string{"tmp/a", "tmp/b", "keep/c"} {
		must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(k), Body: strings.NewReader("data " + k)}))(t)
	}
	must(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("tmp/upload")}))(t)

	must(c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID:                             aws.String("tmp"),
			Status:                         types.ExpirationStatusEnabled,
			Filter:                         &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration:                     &types.LifecycleExpiration{Days: aws.Int32(2)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)},
		}}},
	}))(t)
	got := must(c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &b}))(t)
	if len(got.Rules) != 1 || aws.ToString(got.Rules[0].ID) != "tmp" || aws.ToInt32(got.Rules[0].Expiration.Days) != 2 ||
		got.Rules[0].Filter == nil || aws.ToString(got.Rules[0].Filter.Prefix) != "tmp/" ||
		aws.ToInt32(got.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 1 {
		t.Fatalf("rules read back: %+v", got.Rules)
	}

	// HEAD carries x-amz-expiration for a matching object, not for others.
	h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("tmp/a")}))(t)
	if x := aws.ToString(h.Expiration); !strings.Contains(x, `rule-id="tmp"`) || !strings.HasPrefix(x, `expiry-date="`) {
		t.Fatalf("x-amz-expiration %q", x)
	}
	if h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("keep/c")}))(t); h.Expiration != nil {
		t.Fatalf("x-amz-expiration on an object no rule expires: %q", *h.Expiration)
	}

	// A bad document is refused with S3's error, the stored one kept.
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("bad"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(0)},
		}}},
	})
	wantAPIError(t, err, 400, "InvalidArgument")
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("glacier"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassGlacier}},
		}}},
	})
	wantAPIError(t, err, 501, "NotImplemented")

	// Three days later a pass expires tmp/ and aborts its upload.
	clk.Add(72 * time.Hour)
	j, err := node.Jobs.RunPass(ctx, service.LifecycleJob)
	if err != nil {
		t.Fatal(err)
	}
	if j.Pass["expired"] != 2 || j.Pass["aborted"] != 1 {
		t.Fatalf("pass counts %+v", j.Pass)
	}
	list := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b}))(t)
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "keep/c" {
		t.Fatalf("left after the pass: %+v", list.Contents)
	}
	ups := must(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b}))(t)
	if len(ups.Uploads) != 0 {
		t.Fatalf("upload not aborted: %+v", ups.Uploads)
	}

	must(c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: &b}))(t)
	_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &b})
	wantAPIError(t, err, 404, "NoSuchLifecycleConfiguration")
}
