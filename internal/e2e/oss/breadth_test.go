package e2eoss

import (
	"net/http"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestBreadth: tagging (x-oss-tagging, ?tagging on objects and buckets,
// x-oss-tagging-count), CORS (?cors with ResponseVary, OptionObject) and
// OSS's one-switch Block Public Access, through the v2 SDK.
func TestBreadth(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	ctx := c.ctx
	b := bucketName("breadth")
	must(t, c.createBucket(b, sseOpt{}))
	s := oss2.Ptr[string]
	tagsOf := func(ts []oss2.Tag) string {
		var out []string
		for _, t := range ts {
			out = append(out, oss2.ToString(t.Key)+"="+oss2.ToString(t.Value))
		}
		return strings.Join(out, "&")
	}

	// Object tags.
	if _, err := c.c.PutObject(ctx, &oss2.PutObjectRequest{Bucket: s(b), Key: s("k"), Body: strings.NewReader("data"), Tagging: s("b=2&a=1")}); err != nil {
		t.Fatal(err)
	}
	head, err := c.c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: s(b), Key: s("k")})
	if err != nil || head.TaggingCount != 2 {
		t.Fatalf("HeadObject TaggingCount %d (%v)", head.TaggingCount, err)
	}
	got, err := c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("k")})
	if err != nil || tagsOf(got.Tags) != "a=1&b=2" {
		t.Fatalf("GetObjectTagging %q (%v)", tagsOf(got.Tags), err)
	}
	if _, err := c.c.PutObjectTagging(ctx, &oss2.PutObjectTaggingRequest{Bucket: s(b), Key: s("k"),
		Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{Tags: []oss2.Tag{{Key: s("env"), Value: s("prod")}}}}}); err != nil {
		t.Fatal(err)
	}
	if got, err = c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("k")}); err != nil || tagsOf(got.Tags) != "env=prod" {
		t.Fatalf("after PutObjectTagging %q (%v)", tagsOf(got.Tags), err)
	}
	if _, err := c.c.DeleteObjectTagging(ctx, &oss2.DeleteObjectTaggingRequest{Bucket: s(b), Key: s("k")}); err != nil {
		t.Fatal(err)
	}
	if got, err = c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("k")}); err != nil || len(got.Tags) != 0 {
		t.Fatalf("after DeleteObjectTagging %q (%v)", tagsOf(got.Tags), err)
	}
	_, err = c.c.PutObject(ctx, &oss2.PutObjectRequest{Bucket: s(b), Key: s("bad"), Body: strings.NewReader("x"), Tagging: s("a=1&a=2")})
	wantErr(t, err, 400, "InvalidArgument")
	_, err = c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("missing")})
	wantErr(t, err, 404, "NoSuchKey")
	// Copy keeps the source's tags unless x-oss-tagging-directive says
	// Replace.
	c.c.PutObjectTagging(ctx, &oss2.PutObjectTaggingRequest{Bucket: s(b), Key: s("k"), Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{Tags: []oss2.Tag{{Key: s("x"), Value: s("1")}}}}})
	if _, err := c.c.CopyObject(ctx, &oss2.CopyObjectRequest{Bucket: s(b), Key: s("copy"), SourceKey: s("k")}); err != nil {
		t.Fatal(err)
	}
	if got, err = c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("copy")}); err != nil || tagsOf(got.Tags) != "x=1" {
		t.Fatalf("copied tags %q (%v)", tagsOf(got.Tags), err)
	}
	if _, err := c.c.CopyObject(ctx, &oss2.CopyObjectRequest{Bucket: s(b), Key: s("copy2"), SourceKey: s("k"), TaggingDirective: s("Replace"), Tagging: s("y=2")}); err != nil {
		t.Fatal(err)
	}
	if got, err = c.c.GetObjectTagging(ctx, &oss2.GetObjectTaggingRequest{Bucket: s(b), Key: s("copy2")}); err != nil || tagsOf(got.Tags) != "y=2" {
		t.Fatalf("replaced tags %q (%v)", tagsOf(got.Tags), err)
	}

	// Bucket tags.
	_, err = c.c.GetBucketTags(ctx, &oss2.GetBucketTagsRequest{Bucket: s(b)})
	wantErr(t, err, 404, "NoSuchTagSet")
	if _, err := c.c.PutBucketTags(ctx, &oss2.PutBucketTagsRequest{Bucket: s(b), Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{Tags: []oss2.Tag{{Key: s("owner"), Value: s("ops")}}}}}); err != nil {
		t.Fatal(err)
	}
	bt, err := c.c.GetBucketTags(ctx, &oss2.GetBucketTagsRequest{Bucket: s(b)})
	if err != nil || bt.Tagging == nil || bt.Tagging.TagSet == nil || tagsOf(bt.Tagging.TagSet.Tags) != "owner=ops" {
		t.Fatalf("GetBucketTags %+v (%v)", bt, err)
	}
	if _, err := c.c.DeleteBucketTags(ctx, &oss2.DeleteBucketTagsRequest{Bucket: s(b)}); err != nil {
		t.Fatal(err)
	}

	// CORS.
	_, err = c.c.GetBucketCors(ctx, &oss2.GetBucketCorsRequest{Bucket: s(b)})
	wantErr(t, err, 404, "NoSuchCORSConfiguration")
	if _, err := c.c.PutBucketCors(ctx, &oss2.PutBucketCorsRequest{Bucket: s(b), CORSConfiguration: &oss2.CORSConfiguration{
		CORSRules:    []oss2.CORSRule{{AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"*"}, MaxAgeSeconds: oss2.Ptr(int64(100))}},
		ResponseVary: oss2.Ptr(true),
	}}); err != nil {
		t.Fatal(err)
	}
	cc, err := c.c.GetBucketCors(ctx, &oss2.GetBucketCorsRequest{Bucket: s(b)})
	if err != nil || len(cc.CORSConfiguration.CORSRules) != 1 || !oss2.ToBool(cc.CORSConfiguration.ResponseVary) || oss2.ToInt64(cc.CORSConfiguration.CORSRules[0].MaxAgeSeconds) != 100 {
		t.Fatalf("GetBucketCors %+v (%v)", cc, err)
	}
	opt, err := c.c.OptionObject(ctx, &oss2.OptionObjectRequest{Bucket: s(b), Key: s("k"), Origin: s("https://app.example"),
		AccessControlRequestMethod: s("PUT"), AccessControlRequestHeaders: s("x-oss-meta-a")})
	if err != nil || oss2.ToString(opt.AccessControlAllowOrigin) != "https://app.example" || oss2.ToInt64(opt.AccessControlMaxAge) != 100 ||
		oss2.ToString(opt.AccessControlAllowHeaders) != "x-oss-meta-a" {
		t.Fatalf("OptionObject %+v (%v)", opt, err)
	}
	_, err = c.c.OptionObject(ctx, &oss2.OptionObjectRequest{Bucket: s(b), Key: s("k"), Origin: s("https://evil.example"), AccessControlRequestMethod: s("GET")})
	wantErr(t, err, 403, "AccessForbidden")
	// ResponseVary: Vary even when no rule matches the origin.
	req, _ := http.NewRequest(http.MethodGet, n.DialectURL["oss"]+"/"+b+"/k", nil)
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := n.Client.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); !strings.Contains(resp.Header.Get("Vary"), "Origin") || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unmatched origin with ResponseVary: %v", resp.Header)
	}
	if _, err := c.c.DeleteBucketCors(ctx, &oss2.DeleteBucketCorsRequest{Bucket: s(b)}); err != nil {
		t.Fatal(err)
	}

	// Block Public Access: one switch.
	if _, err := c.c.PutBucketPublicAccessBlock(ctx, &oss2.PutBucketPublicAccessBlockRequest{Bucket: s(b),
		PublicAccessBlockConfiguration: &oss2.PublicAccessBlockConfiguration{BlockPublicAccess: oss2.Ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	pab, err := c.c.GetBucketPublicAccessBlock(ctx, &oss2.GetBucketPublicAccessBlockRequest{Bucket: s(b)})
	if err != nil || !oss2.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAccess) {
		t.Fatalf("GetBucketPublicAccessBlock %+v (%v)", pab, err)
	}
	_, err = c.c.PutObject(ctx, &oss2.PutObjectRequest{Bucket: s(b), Key: s("pub"), Body: strings.NewReader("x"), Acl: oss2.ObjectACLPublicRead})
	wantErr(t, err, 403, "AccessDenied")
	if _, err := c.c.DeleteBucketPublicAccessBlock(ctx, &oss2.DeleteBucketPublicAccessBlockRequest{Bucket: s(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.c.PutObject(ctx, &oss2.PutObjectRequest{Bucket: s(b), Key: s("pub"), Body: strings.NewReader("x"), Acl: oss2.ObjectACLPublicRead}); err != nil {
		t.Fatal(err)
	}
}
