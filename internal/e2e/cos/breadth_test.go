package e2ecos

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestBreadth: COS tagging (x-cos-tagging on PUT Object and PUT Bucket,
// ?tagging, x-cos-tagging-count), CORS (?cors with ResponseVary, OPTIONS
// Object) through cos-go-sdk-v5.
func TestBreadth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := bucketName("breadth")
	c := e.client(name)
	if _, err := c.Bucket.Put(e.ctx, &cos.BucketPutOptions{XCosTagging: "team=blue"}); err != nil {
		t.Fatal(err)
	}
	bt, _, err := c.Bucket.GetTagging(e.ctx)
	if err != nil || len(bt.TagSet) != 1 || bt.TagSet[0] != (cos.BucketTaggingTag{Key: "team", Value: "blue"}) {
		t.Fatalf("tags set by PUT Bucket x-cos-tagging: %+v (%v)", bt, err)
	}
	if _, err := c.Bucket.PutTagging(e.ctx, &cos.BucketPutTaggingOptions{TagSet: []cos.BucketTaggingTag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if bt, _, err = c.Bucket.GetTagging(e.ctx); err != nil || len(bt.TagSet) != 2 || bt.TagSet[0].Key != "a" {
		t.Fatalf("GetTagging: %+v (%v)", bt, err)
	}
	if _, err := c.Bucket.DeleteTagging(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Bucket.GetTagging(e.ctx)
	wantCOSErr(t, err, 404, "NoSuchTagSet")

	hdr := http.Header{"X-Cos-Tagging": {"env=prod&tier=hot"}}
	if _, err := c.Object.Put(e.ctx, "k", strings.NewReader("data"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{XOptionHeader: &hdr}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Object.Head(e.ctx, "k", nil)
	if err != nil || resp.Header.Get("x-cos-tagging-count") != "2" {
		t.Fatalf("HEAD x-cos-tagging-count %q (%v)", resp.Header.Get("x-cos-tagging-count"), err)
	}
	ot, _, err := c.Object.GetTagging(e.ctx, "k")
	if err != nil || len(ot.TagSet) != 2 || ot.TagSet[0] != (cos.ObjectTaggingTag{Key: "env", Value: "prod"}) {
		t.Fatalf("GetTagging: %+v (%v)", ot, err)
	}
	if _, err := c.Object.PutTagging(e.ctx, "k", &cos.ObjectPutTaggingOptions{TagSet: []cos.ObjectTaggingTag{{Key: "x", Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if ot, _, err = c.Object.GetTagging(e.ctx, "k"); err != nil || len(ot.TagSet) != 1 || ot.TagSet[0].Key != "x" {
		t.Fatalf("after PutTagging: %+v (%v)", ot, err)
	}
	_, err = c.Object.PutTagging(e.ctx, "k", &cos.ObjectPutTaggingOptions{TagSet: []cos.ObjectTaggingTag{{Key: "x", Value: "1"}, {Key: "x", Value: "2"}}})
	wantCOSErr(t, err, 400, "InvalidTag")
	if _, err := c.Object.DeleteTagging(e.ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ot, _, err = c.Object.GetTagging(e.ctx, "k"); err != nil || len(ot.TagSet) != 0 {
		t.Fatalf("after DeleteTagging: %+v (%v)", ot, err)
	}

	// CORS.
	_, _, err = c.Bucket.GetCORS(e.ctx)
	wantCOSErr(t, err, 404, "NoSuchCORSConfiguration")
	if _, err := c.Bucket.PutCORS(e.ctx, &cos.BucketPutCORSOptions{Rules: []cos.BucketCORSRule{{
		ID: "web", AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "PUT"},
		AllowedHeaders: []string{"x-cos-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: 500,
	}}, ResponseVary: "true"}); err != nil {
		t.Fatal(err)
	}
	cc, _, err := c.Bucket.GetCORS(e.ctx)
	if err != nil || len(cc.Rules) != 1 || cc.Rules[0].ID != "web" || cc.Rules[0].MaxAgeSeconds != 500 || cc.ResponseVary != "true" {
		t.Fatalf("GetCORS: %+v (%v)", cc, err)
	}
	resp, err = c.Object.Options(e.ctx, "k", &cos.ObjectOptionsOptions{Origin: "https://www.example.com", AccessControlRequestMethod: "PUT", AccessControlRequestHeaders: "x-cos-meta-a"})
	if err != nil || resp.Header.Get("Access-Control-Allow-Origin") != "https://www.example.com" || resp.Header.Get("Access-Control-Max-Age") != "500" {
		t.Fatalf("OPTIONS Object: %v (%v)", resp, err)
	}
	_, err = c.Object.Options(e.ctx, "k", &cos.ObjectOptionsOptions{Origin: "https://www.example.org", AccessControlRequestMethod: "GET"})
	wantCOSErr(t, err, 403, "AccessForbidden")
	if _, err := c.Bucket.DeleteCORS(e.ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Bucket.GetCORS(e.ctx)
	wantCOSErr(t, err, 404, "NoSuchCORSConfiguration")
}
