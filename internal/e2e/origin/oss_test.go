package e2eorigin

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/strongroom-dev/strongroom/internal/sse"
)

func wantOSSErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var se *oss2.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("%s: %v, want OSS error %d %s", what, err, status, code)
	}
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("%s: %d %s (%s), want %d %s", what, se.StatusCode, se.Code, se.Message, status, code)
	}
}

func TestOSSWebsiteMirror(t *testing.T) {
	n := startNode(t)
	org := newOrigin(t)
	ctx := context.Background()
	c := oss2.NewClient(oss2.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey)).
		WithRegion("cn-hangzhou").
		WithEndpoint(n.DialectURL["oss"]).
		WithHttpClient(n.Client).
		WithRetryMaxAttempts(1))
	bucket := fmt.Sprintf("origin-oss-%d", uniq.Add(1))
	if _, err := c.PutBucket(ctx, &oss2.PutBucketRequest{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketEncryption(ctx, &oss2.PutBucketEncryptionRequest{Bucket: &bucket,
		ServerSideEncryptionRule: &oss2.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &oss2.ApplyServerSideEncryptionByDefault{SSEAlgorithm: oss2.Ptr("KMS")}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetBucketWebsite(ctx, &oss2.GetBucketWebsiteRequest{Bucket: &bucket})
	wantOSSErr(t, "get before put", err, 404, "NoSuchWebsiteConfiguration")

	mirrorURL := "http://" + org.host() + "/origin/"
	cfg := &oss2.WebsiteConfiguration{
		IndexDocument: &oss2.IndexDocument{Suffix: oss2.Ptr("index.html")},
		ErrorDocument: &oss2.ErrorDocument{Key: oss2.Ptr("error.html"), HttpStatus: oss2.Ptr(int64(404))},
		RoutingRules: &oss2.RoutingRules{RoutingRules: []oss2.RoutingRule{{
			RuleNumber: oss2.Ptr(int64(1)),
			Condition:  &oss2.RoutingRuleCondition{KeyPrefixEquals: oss2.Ptr("m/"), HttpErrorCodeReturnedEquals: oss2.Ptr(int64(404))},
			Redirect: &oss2.RoutingRuleRedirect{
				RedirectType:          oss2.Ptr("Mirror"),
				MirrorURL:             oss2.Ptr(mirrorURL),
				MirrorPassQueryString: oss2.Ptr(true),
				MirrorFollowRedirect:  oss2.Ptr(true),
				MirrorCheckMd5:        oss2.Ptr(true),
				MirrorHeaders: &oss2.MirrorHeaders{
					PassAll: oss2.Ptr(true),
					Removes: []string{"x-drop"},
					Sets:    []oss2.MirrorHeadersSet{{Key: oss2.Ptr("x-origin-set"), Value: oss2.Ptr("v2")}},
				},
			},
		}}},
	}
	if _, err := c.PutBucketWebsite(ctx, &oss2.PutBucketWebsiteRequest{Bucket: &bucket, WebsiteConfiguration: cfg}); err != nil {
		t.Fatalf("put website: %v", err)
	}
	got, err := c.GetBucketWebsite(ctx, &oss2.GetBucketWebsiteRequest{Bucket: &bucket})
	if err != nil {
		t.Fatalf("get website: %v", err)
	}
	w := got.WebsiteConfiguration
	if oss2.ToString(w.IndexDocument.Suffix) != "index.html" || oss2.ToString(w.ErrorDocument.Key) != "error.html" || *w.ErrorDocument.HttpStatus != 404 {
		t.Errorf("website documents not echoed: %+v %+v", w.IndexDocument, w.ErrorDocument)
	}
	rr := w.RoutingRules.RoutingRules
	if len(rr) != 1 || *rr[0].RuleNumber != 1 || oss2.ToString(rr[0].Condition.KeyPrefixEquals) != "m/" || *rr[0].Condition.HttpErrorCodeReturnedEquals != 404 {
		t.Fatalf("routing rules not echoed: %+v", rr)
	}
	x := rr[0].Redirect
	if oss2.ToString(x.RedirectType) != "Mirror" || oss2.ToString(x.MirrorURL) != mirrorURL || !*x.MirrorPassQueryString || !*x.MirrorFollowRedirect || !*x.MirrorCheckMd5 ||
		!*x.MirrorHeaders.PassAll || len(x.MirrorHeaders.Removes) != 1 || len(x.MirrorHeaders.Sets) != 1 || oss2.ToString(x.MirrorHeaders.Sets[0].Value) != "v2" {
		t.Errorf("redirect not echoed: %+v %+v", x, x.MirrorHeaders)
	}

	// An invalid MirrorURL is refused.
	bad := *cfg
	bad.RoutingRules = &oss2.RoutingRules{RoutingRules: []oss2.RoutingRule{{RuleNumber: oss2.Ptr(int64(1)),
		Condition: &oss2.RoutingRuleCondition{HttpErrorCodeReturnedEquals: oss2.Ptr(int64(404))},
		Redirect:  &oss2.RoutingRuleRedirect{RedirectType: oss2.Ptr("Mirror"), MirrorURL: oss2.Ptr("ftp://example/")}}}}
	_, err = c.PutBucketWebsite(ctx, &oss2.PutBucketWebsiteRequest{Bucket: &bucket, WebsiteConfiguration: &bad})
	wantOSSErr(t, "bad MirrorURL", err, 400, "InvalidArgument")

	// GET of a miss: the origin's bytes, stored under the bucket's SSE-KMS
	// default.
	data := canary(100 << 10)
	sum := md5.Sum(data)
	org.set("/origin/m/a.bin", originObject{body: data, contentType: "application/x-test", contentMD5: base64.StdEncoding.EncodeToString(sum[:])})
	res, err := c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/a.bin"),
		RequestCommon: oss2.RequestCommon{Headers: map[string]string{"x-pass": "1", "x-drop": "2"}}})
	if err != nil {
		t.Fatalf("GET of a miss: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(body) != string(data) {
		t.Fatalf("GET of a miss: %d bytes, %v", len(body), err)
	}
	if v := res.Headers.Get("x-oss-server-side-encryption"); v != "KMS" {
		t.Errorf("x-oss-server-side-encryption %q, want KMS (the bucket default)", v)
	}
	h, _ := org.lastRequest()
	if h.Get("x-pass") != "1" || h.Get("x-drop") != "" || h.Get("x-origin-set") != "v2" || h.Get("Authorization") != "" {
		t.Errorf("origin request headers: %v", h)
	}
	o := stored(t, n, bucket, "m/a.bin")
	if o == nil || o.Encryption == nil || sse.Mode(o.Encryption.Mode) != sse.KMS || o.Headers.ContentType != "application/x-test" {
		t.Fatalf("stored record: %+v", o)
	}
	if onDisk(t, n, data[:64]) {
		t.Error("the pulled plaintext is on disk")
	}
	hr, err := c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/a.bin")})
	if err != nil || hr.Headers.Get("x-oss-server-side-encryption") != "KMS" {
		t.Fatalf("HEAD: %v", err)
	}
	if _, err := c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/a.bin")}); err != nil {
		t.Fatal(err)
	}
	if h := org.hitsOf("/origin/m/a.bin"); h != 1 {
		t.Errorf("origin hits %d, want 1", h)
	}

	// MirrorCheckMd5: a body that does not match the origin's
	// Content-MD5 is not stored.
	org.set("/origin/m/bad-md5", originObject{body: []byte("some bytes"), contentMD5: base64.StdEncoding.EncodeToString(make([]byte, 16))})
	if res, err := c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/bad-md5")}); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if stored(t, n, bucket, "m/bad-md5") != nil {
		t.Error("an object failing MirrorCheckMd5 was stored")
	}
	// A ranged GET stores first, then reads: the mismatch is the origin's
	// failure, 424.
	_, err = c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/bad-md5"), Range: oss2.Ptr("bytes=0-3")})
	wantOSSErr(t, "ranged GET failing MirrorCheckMd5", err, 424, "FailedDependency")
	if stored(t, n, bucket, "m/bad-md5") != nil {
		t.Error("an object failing MirrorCheckMd5 was stored")
	}

	// OSS: a HEAD never triggers mirroring; an origin 404 stays NoSuchKey.
	org.set("/origin/m/head-only", originObject{body: []byte("x")})
	_, err = c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/head-only")})
	wantOSSErr(t, "HEAD of a miss", err, 404, "NoSuchKey")
	if org.hitsOf("/origin/m/head-only") != 0 {
		t.Error("an OSS HEAD triggered mirroring")
	}
	_, err = c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/none")})
	wantOSSErr(t, "origin 404", err, 404, "NoSuchKey")

	if _, err := c.DeleteBucketWebsite(ctx, &oss2.DeleteBucketWebsiteRequest{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketWebsite(ctx, &oss2.GetBucketWebsiteRequest{Bucket: &bucket})
	wantOSSErr(t, "get after delete", err, 404, "NoSuchWebsiteConfiguration")
	org.set("/origin/m/after", originObject{body: []byte("x")})
	_, err = c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: oss2.Ptr("m/after")})
	wantOSSErr(t, "GET after the rules are gone", err, 404, "NoSuchKey")
}
